/**
 * `consume` of the Kafka runtime: a topic read beside the topology (e.g. an alert dispatcher reading
 * the alerts topic) by its own consumer in its own group. At least once, never skipping:
 *  - a batch's offsets are committed only after the handler resolved for it;
 *  - a handler that throws gets the same batch again after a backoff (the partition is paused and
 *    sought back to the batch's first offset); other partitions go on meanwhile;
 *  - a crash or a rebalance before the commit redelivers the batch.
 */
// First: kafkajs must load with the corrected read_committed filter (see the module).
import '../../state/changelog/read-committed-filter.js'
import type { Batch, Consumer, IHeaders, Kafka } from 'kafkajs'
import type pino from 'pino'
import type { BatchHandler, ConsumeOptions, Consumption, IncomingRecord } from '../streams-runtime.js'

/** Backoff after a failed handler: doubles per consecutive failure of a partition, up to the max. */
export const RETRY_BACKOFF = { initialMs: 200, maxMs: 10_000 } as const

export interface TopicReaderOptions {
  readonly kafka: Kafka
  readonly topic: string
  readonly options: ConsumeOptions
  readonly handler: BatchHandler
  readonly logger: pino.Logger
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number }
}

export class TopicReader implements Consumption {
  private readonly consumer: Consumer
  private readonly failures = new Map<number, number>()
  private readonly resumeTimers = new Set<NodeJS.Timeout>()
  private stopping: Promise<void> | undefined
  private readonly log: pino.Logger

  constructor(private readonly config: TopicReaderOptions) {
    if (!config.options.groupId) throw new Error(`consume('${config.topic}'): options.groupId is required (the consumer group that keeps this reader's progress)`)
    this.log = config.logger.child({ reader: config.topic, groupId: config.options.groupId })
    this.consumer = config.kafka.consumer({ groupId: config.options.groupId, allowAutoTopicCreation: false })
  }

  async start(): Promise<void> {
    const { consumer, config } = this
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload
      if (restart) this.log.warn({ err: error }, 'reader crashed; kafkajs restarts it (uncommitted batches are delivered again)')
      else this.log.error({ err: error }, 'reader crashed and stopped: nothing more is delivered; check the error, then consume() again')
    })
    await consumer.connect()
    try {
      await consumer.subscribe({ topics: [config.topic], fromBeginning: (config.options.from ?? 'earliest') === 'earliest' })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (!isRunning() || isStale() || batch.isEmpty()) return
          await this.handle(batch, resolveOffset)
          await heartbeat()
        },
      })
    } catch (e) {
      await consumer.disconnect().catch(() => undefined)
      throw e
    }
  }

  private async handle(batch: Batch, resolveOffset: (offset: string) => void): Promise<void> {
    const { topic, partition } = batch
    try {
      await this.config.handler(batch.messages.map((m) => toRecord(topic, partition, m)))
    } catch (e) {
      this.retryLater(batch, e)
      return
    }
    this.failures.delete(partition)
    const next = (BigInt(batch.lastOffset()) + 1n).toString()
    if (this.config.options.commit === false) return resolveOffset(batch.lastOffset())
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: next }])
    } catch (e) {
      // A rebalance or a broker hiccup: the batch is left unresolved and redelivered (at least once).
      this.log.warn({ err: e, partition, offset: next }, 'commit after the handler failed; the batch will be delivered again')
      return
    }
    resolveOffset(batch.lastOffset())
  }

  /** Pauses the partition, rewinds it to the batch's start, and resumes it after the backoff. */
  private retryLater(batch: Batch, error: unknown): void {
    const { topic, partition } = batch
    const failures = (this.failures.get(partition) ?? 0) + 1
    this.failures.set(partition, failures)
    const backoff = this.config.backoff ?? RETRY_BACKOFF
    const delayMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1))
    this.log.warn({ err: error, partition, firstOffset: batch.firstOffset(), records: batch.messages.length, attempt: failures, retryInMs: delayMs }, 'batch handler failed: retrying the same batch')
    this.consumer.pause([{ topic, partitions: [partition] }])
    this.consumer.seek({ topic, partition, offset: batch.firstOffset()! })
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer)
      if (!this.stopping) this.consumer.resume([{ topic, partitions: [partition] }])
    }, delayMs)
    this.resumeTimers.add(timer)
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const timer of this.resumeTimers) clearTimeout(timer)
      this.resumeTimers.clear()
      // Waits for a running handler; its batch is committed if it succeeds before the group is left.
      await this.consumer.disconnect()
    })()
    return this.stopping
  }
}

function headerText(value: IHeaders[string]): string | undefined {
  const first = Array.isArray(value) ? value[0] : value
  if (first === undefined) return undefined
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first)
}

function toRecord(topic: string, partition: number, m: Batch['messages'][number]): IncomingRecord {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    const text = headerText(value)
    if (text !== undefined) headers[name] = text
  }
  return { topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? null, headers, timestamp: Number(m.timestamp) }
}
