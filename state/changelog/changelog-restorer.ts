// First: kafkajs must load with the corrected read_committed filter (see the module).
import './read-committed-filter.js'
import { randomUUID } from 'node:crypto'
import type { Consumer, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { ChangelogRecord, StateStore } from '../types.js'
import { stateLogger } from '../log.js'
import { restoreMetrics, type RestoreMetrics } from './restore-metrics.js'

export interface RestoreTarget {
  store: StateStore
  /** The changelog partition (= the task's partition). */
  partition: number
  /** Next offset to read (from a checkpoint); undefined restores from the beginning. */
  fromOffset?: number
  /**
   * The topic to restore from, as the topology's plan names it (the only place a changelog topic is
   * named): the store's changelog, or a table's source topic (whose store writes no changelog).
   */
  topic: string
}

export interface RestoreResult {
  store: string
  topic: string
  partition: number
  fromOffset: number
  /** The end offset restored up to; the store's checkpoint offset after this restore. */
  endOffset: number
  restored: number
  durationMs: number
}

export interface ChangelogRestorerOptions {
  kafka: Kafka
  applicationId: string
  logger?: Logger
  /** prom-client registry for restore gauges and counters; none = no metrics. */
  metrics?: Registry
  /** Changelog records per engine batch write (default 20,000). */
  batchRecords?: number
  /** Called after each batch is applied, e.g. to checkpoint so an interrupted restore resumes. */
  onProgress?: (store: string, partition: number, nextOffset: number) => Promise<void> | void
  /** Milliseconds between progress log lines per store (default 5,000). */
  logIntervalMs?: number
  /** Bytes fetched per partition per request (default 16 MiB: large fetches keep restore fast). */
  maxBytesPerPartition?: number
}

interface ActiveTarget {
  target: RestoreTarget
  topic: string
  start: number
  end: number
  pending: ChangelogRecord[]
  next: number
  restored: number
  done: boolean
  finishing?: Promise<void>
  /** The engine write in progress: it overlaps the fetch of the next records, at most one at a time. */
  writing: Promise<void>
  lastLog: number
  began: number
}

/**
 * Restores stores from their changelog partitions, from a checkpointed offset to the end offset
 * taken when the restore starts. kafkajs cannot assign partitions without a group, so it uses a
 * throwaway consumer group of its own (never committing), seeks each partition to its start, pauses
 * the partitions it does not need, and leaves the group when done. Records reach the engine in large
 * batches (`restoreBatch`), never one by one.
 */
export class ChangelogRestorer {
  private readonly log: Logger
  private readonly metrics: RestoreMetrics | undefined
  private readonly batchRecords: number

  constructor(private readonly options: ChangelogRestorerOptions) {
    this.log = options.logger ?? stateLogger
    this.metrics = options.metrics ? restoreMetrics(options.metrics) : undefined
    this.batchRecords = options.batchRecords ?? 20_000
  }

  async restore(targets: readonly RestoreTarget[], call: { onProgress?: ChangelogRestorerOptions['onProgress'] } = {}): Promise<RestoreResult[]> {
    const onProgress = call.onProgress ?? this.options.onProgress
    if (targets.length === 0) return []
    const topics = [...new Set(targets.map((t) => t.topic))]
    const watermarks = await this.watermarks(topics)
    const active: ActiveTarget[] = []
    const results: RestoreResult[] = []
    for (const target of targets) {
      const topic = target.topic
      const marks = watermarks.get(topic)?.get(target.partition)
      if (!marks) throw new Error(`changelog topic ${topic} has no partition ${target.partition}: create it with as many partitions as the task's source topics`)
      let start = Math.max(target.fromOffset ?? marks.low, marks.low)
      if (target.fromOffset !== undefined && target.fromOffset > marks.high) {
        this.log.warn({ store: target.store.name, topic, partition: target.partition, checkpoint: target.fromOffset, end: marks.high }, 'checkpoint is past the changelog end (topic recreated?): wiping the store for a full restore')
        await target.store.wipe()
        start = marks.low
      }
      const now = Date.now()
      const entry: ActiveTarget = { target, topic, start, end: marks.high, pending: [], next: start, restored: 0, done: start >= marks.high, writing: Promise.resolve(), lastLog: now, began: now }
      this.metrics?.remaining.set({ store: target.store.name, partition: target.partition }, Math.max(0, marks.high - start))
      if (entry.done) results.push(this.result(entry))
      else active.push(entry)
    }
    if (active.length === 0) return results
    for (const a of active) this.log.info({ store: a.target.store.name, topic: a.topic, partition: a.target.partition, from: a.start, to: a.end, records: a.end - a.start }, 'restoring store from changelog')
    await this.consume(active, watermarks, onProgress)
    return results.concat(active.map((a) => this.result(a)))
  }

  private async watermarks(topics: readonly string[]): Promise<Map<string, Map<number, { low: number; high: number }>>> {
    const admin = this.options.kafka.admin()
    await admin.connect()
    try {
      const out = new Map<string, Map<number, { low: number; high: number }>>()
      for (const topic of topics) {
        const offsets = await admin.fetchTopicOffsets(topic)
        out.set(topic, new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }])))
      }
      return out
    } finally {
      await admin.disconnect()
    }
  }

  private async consume(
    active: ActiveTarget[],
    watermarks: Map<string, Map<number, { low: number; high: number }>>,
    onProgress: ChangelogRestorerOptions['onProgress'],
  ): Promise<void> {
    const byPartition = new Map(active.map((a) => [`${a.topic}:${a.target.partition}`, a]))
    const consumer: Consumer = this.options.kafka.consumer({
      groupId: `${this.options.applicationId}-restore-${randomUUID()}`,
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 16 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    })
    let settle!: { resolve: () => void; reject: (err: unknown) => void }
    const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
    const checkAllDone = (): void => {
      if (active.every((a) => a.done && a.finishing === undefined)) settle.resolve()
    }
    const finish = (a: ActiveTarget): void => {
      if (a.done) return
      a.done = true
      a.finishing = a.writing
        .then(() => this.apply(a, onProgress))
        .then(() => {
          a.finishing = undefined
          a.next = a.end
          this.log.info({ store: a.target.store.name, partition: a.target.partition, restored: a.restored, ms: Date.now() - a.began }, 'store restored')
          checkAllDone()
        })
        .catch((err: unknown) => settle.reject(err))
    }

    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const { topic, partition, firstOffset, lastOffset } = event.payload as { topic: string; partition: number; firstOffset: string | null; lastOffset: string }
      const a = byPartition.get(`${topic}:${partition}`)
      // An empty fetch (firstOffset null) says nothing of progress: kafkajs then reports the high
      // watermark - 1 as its last offset, and a read_committed fetch is empty while a transaction of
      // the previous owner is still being aborted. Taking that as the end restored nothing.
      if (a && !a.done && firstOffset !== null && Number(lastOffset) + 1 >= a.end) finish(a)
    })
    consumer.on(consumer.events.CRASH, (event) => settle.reject(event.payload.error))

    try {
      await consumer.connect()
      await consumer.subscribe({ topics: [...new Set(active.map((a) => a.topic))], fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: Math.min(active.length, 4),
        eachBatch: async ({ batch, heartbeat }) => {
          const a = byPartition.get(`${batch.topic}:${batch.partition}`)
          if (!a || a.done) return
          for (const m of batch.messages) {
            const offset = Number(m.offset)
            if (offset < a.start || offset >= a.end || m.key === null) continue
            a.pending.push({ key: m.key, value: m.value })
          }
          if (a.pending.length >= this.batchRecords) {
            await a.writing
            const next = Number(batch.lastOffset()) + 1
            a.writing = this.apply(a, onProgress, next)
            a.writing.catch((err: unknown) => settle.reject(err))
            await heartbeat()
          }
        },
      })
      for (const [topic, partitions] of watermarks) {
        const wanted = active.filter((a) => a.topic === topic)
        const others = [...partitions.keys()].filter((p) => !wanted.some((a) => a.target.partition === p))
        if (others.length > 0) consumer.pause([{ topic, partitions: others }])
        for (const a of wanted) consumer.seek({ topic, partition: a.target.partition, offset: String(a.start) })
      }
      await finished
    } finally {
      await consumer.disconnect()
    }
  }

  /** Writes the pending records in one engine batch and reports progress. */
  private async apply(a: ActiveTarget, onProgress: ChangelogRestorerOptions['onProgress'], nextOffset = a.end): Promise<void> {
    const records = a.pending
    a.pending = []
    if (records.length > 0) await a.target.store.restoreBatch(records)
    a.restored += records.length
    a.next = Math.min(nextOffset, a.end)
    const labels = { store: a.target.store.name, partition: a.target.partition }
    this.metrics?.restored.inc(labels, records.length)
    this.metrics?.remaining.set(labels, a.end - a.next)
    await onProgress?.(a.target.store.name, a.target.partition, a.next)
    const now = Date.now()
    if (now - a.lastLog >= (this.options.logIntervalMs ?? 5000)) {
      a.lastLog = now
      this.log.info({ store: a.target.store.name, partition: a.target.partition, restored: a.restored, remaining: a.end - a.next }, 'restoring')
    }
  }

  private result(a: ActiveTarget): RestoreResult {
    return {
      store: a.target.store.name,
      topic: a.topic,
      partition: a.target.partition,
      fromOffset: a.start,
      endOffset: a.end,
      restored: a.restored,
      durationMs: Date.now() - a.began,
    }
  }
}
