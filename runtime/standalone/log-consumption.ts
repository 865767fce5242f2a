/**
 * `consume` on the embedded log: one topic read by one group, batch by batch, beside the topology
 * (an alert dispatcher on the alerts topic, a printer of anomalies). The group's offsets are
 * committed only after the handler resolves; a handler that throws gets the same batch again after a
 * backoff (doubling, up to 30 s), so records are never skipped.
 */
import type pino from 'pino'
import type { BatchHandler, Consumption, IncomingRecord } from '../streams-runtime.js'
import type { EmbeddedLog, LogRecord } from './embedded-log.js'
import { Wakeup } from './wakeup.js'

export interface LogConsumptionOptions {
  readonly log: EmbeddedLog
  readonly topic: string
  readonly groupId: string
  readonly from: 'earliest' | 'latest'
  readonly handler: BatchHandler
  readonly maxBatchRecords: number
  readonly logger: pino.Logger
  /** First retry delay after a failed handler (default 100 ms), doubling up to `maxBackoffMs`. */
  readonly backoffMs?: number
  readonly maxBackoffMs?: number
}

export class LogConsumption implements Consumption {
  private readonly wakeup = new Wakeup()
  private readonly unsubscribe: () => void
  private readonly done: Promise<void>
  private stopping = false
  /** Set by `drain()`: stop once every partition is read to its end. */
  private draining = false
  /** Failed handler calls in a row. */
  private failures = 0

  constructor(private readonly options: LogConsumptionOptions) {
    const { log, topic, groupId, from } = options
    log.createTopic(topic, log.partitionCount(topic) ?? undefined)
    for (let p = 0; p < log.partitionCount(topic)!; p++) {
      if (log.committed(groupId, topic, p) === undefined) log.commit(groupId, topic, p, from === 'latest' ? log.endOffset(topic, p) : log.startOffset(topic, p))
    }
    this.unsubscribe = log.subscribe([topic], () => this.wakeup.wake())
    this.done = this.run().catch((err: unknown) => options.logger.error({ err, topic, groupId }, 'consumer loop failed'))
  }

  /** Stops after the batch in progress (its handler finishes; its offsets are committed if it resolved). */
  async stop(): Promise<void> {
    this.stopping = true
    this.wakeup.wake()
    await this.done
    this.unsubscribe()
  }

  /**
   * Hands the handler what is left up to the log's end (so the final outputs of a closing topology
   * reach it), then stops; gives up after `timeoutMs` (e.g. a handler that keeps failing).
   */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true
    this.wakeup.wake()
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))
    await Promise.race([this.done, timedOut])
    clearTimeout(timer)
    await this.stop()
  }

  private async run(): Promise<void> {
    const { log, topic, groupId, handler, logger } = this.options
    while (!this.stopping) {
      const batch = this.nextBatch()
      if (batch.length === 0) {
        if (this.draining) return
        await this.wakeup.wait(60_000)
        continue
      }
      const records = batch.map(toIncoming)
      try {
        await handler(records)
      } catch (err) {
        this.failures++
        const delay = Math.min(this.options.maxBackoffMs ?? 30_000, (this.options.backoffMs ?? 100) * 2 ** (this.failures - 1))
        logger.warn({ err, topic, groupId, records: records.length, attempt: this.failures, retryInMs: delay }, 'consumer handler failed: retrying the batch')
        await this.backoff(delay)
        continue
      }
      this.failures = 0
      const next = new Map<number, number>()
      for (const r of batch) next.set(r.partition, r.offset + 1)
      for (const [partition, offset] of next) log.commit(groupId, topic, partition, offset)
      // A handler that never really awaits would otherwise keep I/O out while the topic has records.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** Up to `maxBatchRecords` records past the committed offsets, across partitions in append order. */
  private nextBatch(): LogRecord[] {
    const { log, topic, groupId, maxBatchRecords } = this.options
    const partitions = log.partitionCount(topic) ?? 0
    const out: LogRecord[] = []
    for (let p = 0; p < partitions; p++) {
      const committed = log.committed(groupId, topic, p) ?? log.startOffset(topic, p)
      const start = log.startOffset(topic, p)
      if (committed < start) {
        this.options.logger.warn({ topic, partition: p, groupId, lost: start - committed }, 'records fell out of the embedded log before this group read them')
        log.commit(groupId, topic, p, start)
      }
      out.push(...log.read(topic, p, committed, maxBatchRecords))
    }
    if (partitions > 1) out.sort((a, b) => a.sequence - b.sequence)
    return out.length > maxBatchRecords ? out.slice(0, maxBatchRecords) : out
  }

  /** Waits `ms`, cut short only by `stop()` (appends do not end a backoff). */
  private async backoff(ms: number): Promise<void> {
    const until = Date.now() + ms
    while (!this.stopping && Date.now() < until) await this.wakeup.wait(until - Date.now())
  }
}

function toIncoming(r: LogRecord): IncomingRecord {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(r.headers)) {
    if (v === undefined) continue
    headers[k] = Array.isArray(v) ? v.map(String).join(',') : String(v)
  }
  return { topic: r.topic, partition: r.partition, offset: String(r.offset), key: r.key, value: r.value, headers, timestamp: r.timestamp }
}
