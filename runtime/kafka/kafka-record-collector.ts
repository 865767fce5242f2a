/**
 * The runtime's RecordCollector: a task's output records (sinks, repartition topics, DLQ, late
 * records) are buffered synchronously as processors forward them, and produced in one `sendBatch`
 * per flush — at the end of each input batch and at commit — never one awaited send per record.
 *
 * Partitioning: a record with an explicit partition keeps it; one with a user partitioner gets the
 * partition it picks from the topic's partition count; the rest get kafkajs' default partitioner's
 * choice (murmur2 of the key, as the Java client; applied by the task's `acknowledgedSender`), so
 * repartition topics co-partition with what other Kafka clients write.
 */
import type { Message, ProducerBatch, RecordMetadata } from 'kafkajs'
import type { OutputRecord, RecordCollector } from '../task/records.js'

/** A kafkajs Producer, or a Transaction under exactly-once. */
export interface BatchSender {
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>
}

/** Partition counts of output topics, looked up once per topic. */
export interface PartitionCounts {
  get(topic: string): number | undefined
  load(topics: readonly string[]): Promise<void>
}

export class KafkaRecordCollector implements RecordCollector {
  private buffer: OutputRecord[] = []
  private sending: Promise<void> = Promise.resolve()
  private failure: unknown
  /** Records handed to the producer and not yet acknowledged. */
  private inFlightRecords = 0

  constructor(
    private readonly sender: BatchSender,
    private readonly partitionCounts: PartitionCounts,
    private readonly onProduced: (topic: string, count: number) => void = () => undefined,
  ) {}

  /** Records sent or buffered and not yet acknowledged: what backpressure watches. */
  get unacknowledged(): number {
    return this.buffer.length + this.inFlightRecords
  }

  send(record: OutputRecord): void {
    this.buffer.push(record)
  }

  /** Starts producing what is buffered; `flush` awaits it. Sends are chained to keep per-partition order. */
  dispatch(): void {
    if (this.buffer.length === 0) return
    const records = this.buffer
    this.buffer = []
    this.inFlightRecords += records.length
    this.sending = this.sending
      .then(() => this.produce(records))
      .catch((e: unknown) => {
        this.failure ??= e
      })
      .finally(() => {
        this.inFlightRecords -= records.length
      })
  }

  /** Resolves once every record sent so far is acknowledged; rethrows a send failure. */
  async flush(): Promise<void> {
    this.dispatch()
    await this.sending
    if (this.failure !== undefined) {
      const failure = this.failure
      this.failure = undefined
      throw new Error(`producing output failed: ${(failure as Error).message ?? String(failure)}`, { cause: failure })
    }
  }

  /** Drops what is buffered (the task is being abandoned, e.g. its transaction aborted). */
  discard(): void {
    this.buffer = []
  }

  private async produce(records: readonly OutputRecord[]): Promise<void> {
    const needCounts = [...new Set(records.filter((r) => r.choosePartition && this.partitionCounts.get(r.topic) === undefined).map((r) => r.topic))]
    if (needCounts.length > 0) await this.partitionCounts.load(needCounts)
    const byTopic = new Map<string, Message[]>()
    for (const record of records) {
      let messages = byTopic.get(record.topic)
      if (!messages) byTopic.set(record.topic, (messages = []))
      const partition = record.partition ?? record.choosePartition?.(this.partitionCounts.get(record.topic) ?? 1)
      messages.push({
        key: record.key,
        value: record.value,
        timestamp: String(record.timestamp),
        headers: record.headers,
        ...(partition === undefined ? {} : { partition }),
      })
    }
    await this.sender.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
    for (const [topic, messages] of byTopic) this.onProduced(topic, messages.length)
  }
}
