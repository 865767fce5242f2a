/**
 * The steady load of the fault suite: `rate` records a second over `keys` keys, key i always on
 * partition i % partitions, event time a virtual clock (10 ms a record, from the wall clock at the
 * start) so every partition's stream time advances with it. Not from a fixed past date: outputs carry
 * their event time, and the broker's time-based retention (7 days) deleted the first outputs of a run
 * at its first retention check, which looked like lost records (chaos finding F6). A batch that fails (its retries exhausted while a broker is away) is sent
 * again until it lands, before any newer one: the input may then hold it twice, which the checker
 * reads back from the topic, but never out of order, so no record of it is late.
 */
import type { Kafka, Producer } from 'kafkajs'
import { acknowledgedSender } from '../../runtime/kafka/acknowledged-sender.js'
import type { BatchSender } from '../../runtime/kafka/kafka-record-sink.js'
import type { ChaosRecord } from './topology.js'

const TICK_MS = 100

export class ChaosLoad {
  private producer: Producer
  private seq = 0
  private readonly clockStart = Date.now()
  private running = false
  private loop: Promise<void> | undefined
  /** Batches that failed and were sent again. */
  resends = 0
  lastError: string | undefined

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly partitions: number,
    private readonly keys: number,
    private readonly rate: number,
  ) {
    // Not idempotent: after a leader kill, kafkajs' idempotent producer re-sent a batch the old
    // leader had already appended and got OutOfOrderSequenceException on every retry, for good
    // (1,000+ broker errors a minute, the load stalled: chaos finding F4). Plain acks=all with one
    // request in flight keeps the order; a retried batch may land twice, which the checker reads.
    this.producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1 })
    // kafkajs may resolve a send after a leader move without writing some of its partitions (see
    // acknowledgedSender): in two leader kills 7 input records were never in the topic.
    this.sender = acknowledgedSender(this.producer, { get: () => partitions, load: async () => undefined }, { onResend: (missing) => (this.unacknowledged += missing.reduce((n, m) => n + m.records, 0)) })
  }

  private readonly sender: BatchSender
  /** Records of sends kafkajs resolved without writing them, sent again. */
  unacknowledged = 0

  get sent(): number {
    return this.seq
  }

  async start(): Promise<void> {
    await this.producer.connect()
    this.running = true
    this.loop = this.run()
  }

  /** Stops after the batch in flight, then closes every window: one record per partition far ahead in event time. */
  async stop(): Promise<void> {
    this.running = false
    await this.loop
    const ahead = this.seq * 10 + 3_600_000
    await this.sendUntilDone(Array.from({ length: this.partitions }, (_, p) => this.record(p, this.clockStart + ahead)))
    await this.producer.disconnect()
  }

  private record(keyIndex: number, ts?: number): { key: string; value: string; partition: number } {
    const seq = this.seq++
    const key = `k${keyIndex}`
    const value: ChaosRecord = { key, seq, ts: ts ?? this.clockStart + seq * 10, amount: (seq % 7) + 1 }
    return { key, value: JSON.stringify(value), partition: keyIndex % this.partitions }
  }

  private async run(): Promise<void> {
    const perTick = Math.max(1, Math.round((this.rate * TICK_MS) / 1000))
    let next = Date.now()
    while (this.running) {
      const batch = Array.from({ length: perTick }, () => this.record(this.seq % this.keys))
      await this.sendUntilDone(batch)
      next += TICK_MS
      const wait = next - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      else next = Date.now() // behind after an outage: carry on at the rate, do not burst
    }
  }

  private async sendUntilDone(messages: { key: string; value: string; partition: number }[]): Promise<void> {
    for (;;) {
      try {
        await this.sender.sendBatch({ topicMessages: [{ topic: this.topic, messages }], acks: -1 })
        return
      } catch (e) {
        this.resends++
        this.lastError = (e as Error).message
        await new Promise((r) => setTimeout(r, 500))
      }
    }
  }
}
