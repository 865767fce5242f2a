/**
 * A producer offering records to a topic at a steady target rate for as long as it runs (the soak's
 * telemetry, the rebalance bench's keys); what each record is comes from `messages`.
 *
 * Open loop with a bounded debt: every tick sends what the rate owes since the start, but never more
 * than one second of it, so a producer that cannot keep up shows as a lower achieved rate instead
 * of as bursts that hide it. Up to four sends in flight; `acked` counts what the broker took.
 */
import type { Kafka, Message, Producer } from 'kafkajs'

const TICK_MS = 100
const MAX_BATCH = 1_000
/** Sends in flight at once: one at a time could not offer 2K events/s on the loaded 2-core machine. */
const IN_FLIGHT = 4

export class SteadyLoad {
  private readonly producer: Producer
  private running = false
  private loop: Promise<void> | undefined
  /** Records the broker acknowledged. */
  acked = 0
  /** Records the rate owed but that were given up because the sender was more than a second behind. */
  skipped = 0
  failedSends = 0
  lastError: string | undefined

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly rate: number,
    /** The next `n` records, sent at `now` (ISO time). */
    private readonly messages: (n: number, now: string) => Message[],
  ) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false })
  }

  async start(): Promise<void> {
    await this.producer.connect()
    this.running = true
    this.loop = this.run()
  }

  private async run(): Promise<void> {
    const started = Date.now()
    let owedSoFar = 0
    while (this.running) {
      const owedNow = Math.floor(((Date.now() - started) / 1000) * this.rate)
      let due = owedNow - owedSoFar
      if (due > this.rate) {
        this.skipped += due - this.rate
        due = this.rate
      }
      owedSoFar = owedNow
      while (due > 0 && this.running) {
        const now = new Date().toISOString()
        const batches: number[] = []
        while (due > 0 && batches.length < IN_FLIGHT) {
          batches.push(Math.min(due, MAX_BATCH))
          due -= batches.at(-1)!
        }
        await Promise.all(batches.map((n) => this.send(n, now)))
      }
      await new Promise((r) => setTimeout(r, TICK_MS))
    }
  }

  private async send(n: number, now: string): Promise<void> {
    try {
      await this.producer.send({ topic: this.topic, messages: this.messages(n, now) })
      this.acked += n
    } catch (e) {
      // A broker restart or a slow cluster: count it, the next tick goes on.
      this.failedSends++
      this.lastError = (e as Error).message
    }
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
    await this.producer.disconnect()
  }
}
