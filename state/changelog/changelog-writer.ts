import type { Message, ProducerBatch, RecordMetadata, TopicMessages } from 'kafkajs'
import type { ChangelogSink } from '../types.js'
import { changelogTopic } from '../directory/paths.js'

/** What the writer needs of a producer: a kafkajs `Producer`, or a `Transaction` under exactly-once. */
export interface ChangelogProducer {
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>
}

export interface ChangelogWriterOptions {
  producer: ChangelogProducer
  applicationId: string
  /** The task's partition: a task's changelog records go to the same partition number. */
  partition: number
  /** Records buffered before a send starts without waiting for `flush` (default 10,000). */
  maxBufferedRecords?: number
  /**
   * Bytes buffered before a send starts (default 512 KiB). A send puts each topic's records in one
   * record batch, which the broker refuses above `max.message.bytes` (1 MiB by default).
   */
  maxBufferedBytes?: number
}

/** Per-record bytes of a record batch beyond key and value (headers, varints, offsets). */
const RECORD_OVERHEAD = 24

/**
 * The changelog sink of one task: buffers the records its stores flush and produces them to
 * `<applicationId>-<store>-changelog`, partition = task partition, in batches (one `sendBatch` for
 * all its stores). `flush()` resolves once everything appended so far is acknowledged: the runtime's
 * commit awaits it (stores do too, before writing their engine batch).
 */
export class ChangelogWriter implements ChangelogSink {
  private buffer = new Map<string, Message[]>()
  private buffered = 0
  private bufferedBytes = 0
  private readonly maxBufferedBytes: number
  private inFlight = new Set<Promise<void>>()
  private failure: unknown
  private tail: Promise<void> = Promise.resolve()
  /** Per store: the offset after the last acknowledged record (what a checkpoint stores). */
  private readonly acked = new Map<string, number>()
  private readonly maxBuffered: number

  constructor(private readonly options: ChangelogWriterOptions) {
    this.maxBuffered = options.maxBufferedRecords ?? 10_000
    this.maxBufferedBytes = options.maxBufferedBytes ?? 512 * 1024
  }

  append(store: string, key: Buffer, value: Buffer | null): void {
    let messages = this.buffer.get(store)
    if (!messages) this.buffer.set(store, (messages = []))
    messages.push({ key, value, partition: this.options.partition })
    this.bufferedBytes += key.length + (value?.length ?? 0) + RECORD_OVERHEAD
    if (++this.buffered >= this.maxBuffered || this.bufferedBytes >= this.maxBufferedBytes) this.send()
  }

  async flush(): Promise<void> {
    // Let the other stores of a commit (flushed side by side) append first: one send carries them all.
    await Promise.resolve()
    this.send()
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
    if (this.failure !== undefined) {
      const failure = this.failure
      this.failure = undefined
      throw new Error(`changelog write failed: ${(failure as Error).message ?? String(failure)}`, { cause: failure })
    }
  }

  /** Per store, the next changelog offset after everything acknowledged so far. */
  ackedOffsets(): ReadonlyMap<string, number> {
    return this.acked
  }

  private send(): void {
    if (this.buffered === 0) return
    const batch = this.buffer
    this.buffer = new Map()
    this.buffered = 0
    this.bufferedBytes = 0
    const topicMessages: TopicMessages[] = []
    const storeOfTopic = new Map<string, string>()
    for (const [store, messages] of batch) {
      const topic = changelogTopic(this.options.applicationId, store)
      storeOfTopic.set(topic, store)
      topicMessages.push({ topic, messages })
    }
    // Sends are chained, never concurrent: two updates of a key must reach the topic in order
    // whatever the producer's max in-flight setting.
    const previous = this.tail
    const sending = previous
      .then(() => this.options.producer.sendBatch({ topicMessages }))
      .then((results) => {
        for (const r of results) {
          const store = storeOfTopic.get(r.topicName)
          if (store === undefined || r.baseOffset === undefined) continue
          const count = batch.get(store)?.length ?? 0
          const next = Number(r.baseOffset) + count
          if (next > (this.acked.get(store) ?? -1)) this.acked.set(store, next)
        }
      })
      .catch((err: unknown) => {
        this.failure ??= err
      })
      .finally(() => this.inFlight.delete(sending))
    this.inFlight.add(sending)
    this.tail = sending
  }
}
