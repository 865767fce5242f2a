/**
 * The Kafka-independent executor of one task: one sub-topology on one partition. The Kafka runtime
 * and the TopologyTestDriver both drive it the same way:
 *
 *   openStores() -> (runtime: restore stores) -> start() -> process(batch)* / punctuate(now) / flush()
 *   -> close()
 *
 * `process(batch)` decodes the whole batch, prefetches every store once with the batch's keys, then
 * runs each record synchronously through the processors: no per-record await. Bad records follow
 * the error policy (dlq | skip | fail) and never vanish silently.
 *
 * Size: over 400 lines because decoding, stream time, the forwarding cache's flushes and the
 * commit-time steps all move the same per-record state (current record, node and stage); the
 * error policy, punctuation schedule, node runners and prefetch are already in their own files.
 */
import pino from 'pino'
import { isNullableSerde } from '../../schemas/primitive-serdes.js'
import { SchemaNotReadyError } from '../../schemas/registry/errors.js'
import type { SessionStore, StateStore, WindowStore } from '../../state/index.js'
import { type NodeDef, type SourceNodeDef, isTopicRef } from '../../topology/graph.js'
import type { BatchLoad, InternalProcessorContext } from '../../topology/internal-context.js'
import type { Cancellable, PunctuationType, Punctuator, StreamRecord } from '../../topology/processor.js'
import { EventTimeOutOfBoundsError, eventTimeVerdict } from '../../topology/event-time.js'
import type { Topology, TopologyPlan } from '../../topology/topology.js'
import { BatchPrefetch } from './batch-prefetch.js'
import { ForwardingCache, type PendingForward } from './forwarding-cache.js'
import { ProcessorRunner, type Runner, type RunnerHost, SinkRunner, SourceRunner } from './node-runners.js'
import type { ErrorPolicy, ErrorStage, SourceRecord } from './records.js'
import type { RecordCollector } from './record-collector.js'
import { BadRecordPolicy } from './bad-record-policy.js'
import { PunctuationSchedule, type ScheduledPunctuator } from './punctuation.js'
import { TaskMetrics } from './task-metrics.js'
import { type OpenedStores, openTaskStores, type TaskStateOptions } from './task-stores.js'

export interface StreamTaskOptions {
  topology: Topology
  plan: TopologyPlan
  subtopology: number
  partition: number
  /** Where every record the task produces goes, its stores' changelog records included. */
  collector: RecordCollector
  /**
   * Whether logged stores write their changelog topics (the plan's, at this task's partition), through
   * the collector. Default true; the standalone runtime, with nothing to restore from, turns it off.
   */
  changelogs?: boolean
  state: TaskStateOptions
  /**
   * The instance's global table stores (`topology.globalStores`), shared by all its tasks: readable
   * by every processor (`getStateStore(name)`), written only by the runtime's global consumer.
   */
  globalStores?: ReadonlyMap<string, StateStore>
  /** Default `dlq`. */
  errorPolicy?: ErrorPolicy
  /**
   * After this much wall-clock time without a record, stream time advances with the wall clock
   * (from the last record's event time), so windows of a quiet partition still close. Off by default.
   */
  idleTimeoutMs?: number
  /**
   * The forwarding cache (Kafka Streams' record cache): at most this many pending table updates
   * (aggregations, table sources), each the latest value of its row, forwarded downstream at
   * `flush()` (commit), when over the bound (the oldest, after the batch), or when the row's window
   * closes (before stream-time punctuators, so `suppress` sees final values). 0 or absent: off, every
   * update is forwarded as it happens.
   */
  forwardingCacheMaxEntries?: number
  /** Wall clock (default Date.now); the driver passes its mock clock. */
  wallClock?: () => number
  logger?: pino.Logger
}

interface Decoded {
  readonly raw: SourceRecord
  readonly source: SourceRunner
  readonly record: StreamRecord<unknown, unknown>
}

export class StreamTask implements RunnerHost {
  readonly id: string
  readonly metrics = new TaskMetrics()
  /** Set while a node runs, so an error names the processor that threw. */
  currentNode: string | undefined
  currentStage: ErrorStage = 'process'
  readonly collector: RecordCollector

  private readonly options: StreamTaskOptions
  private readonly log: pino.Logger
  private readonly wallClock: () => number
  private readonly badRecords: BadRecordPolicy
  private readonly sourcesByTopic = new Map<string, SourceRunner>()
  private readonly processors: ProcessorRunner[] = []
  private readonly punctuation = new PunctuationSchedule()
  private opened: OpenedStores | undefined
  private prefetcher: BatchPrefetch | undefined
  private streamTimeMs = -1
  private lastRecordWallClock: number
  private streamTimeAtLastRecord = -1
  private currentRecord: SourceRecord | undefined
  private readonly forwardingCache: ForwardingCache<ProcessorRunner> | undefined
  private readonly deferred: { sink: SinkRunner; record: StreamRecord<unknown, unknown>; topic: string; error: SchemaNotReadyError }[] = []
  /** Forwards a processor asked for after the current record, once their source keys are loaded. */
  private readonly afterPrefetch: { runner: ProcessorRunner; record: StreamRecord<unknown, unknown>; sourceKey: unknown }[] = []
  /** Loads processors registered to run with each batch's prefetch (`loadBeforeBatch`). */
  private readonly batchLoads: BatchLoad[] = []
  /** During a batch: the stream time up to which its prefetch loaded the held-back rows coming due. */
  private batchLoadedUpTo = -Infinity
  private started = false
  private closed = false

  constructor(options: StreamTaskOptions) {
    this.options = options
    this.id = `${options.subtopology}_${options.partition}`
    this.collector = options.collector
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ task: this.id })
    this.wallClock = options.wallClock ?? Date.now
    this.badRecords = new BadRecordPolicy({
      applicationId: options.plan.applicationId,
      taskId: this.id,
      dlqTopic: options.plan.dlqTopic,
      policy: options.errorPolicy ?? 'dlq',
      collector: this.collector,
      metrics: this.metrics,
      log: this.log,
      wallClock: this.wallClock,
    })
    this.lastRecordWallClock = this.wallClock()
    const maxPending = options.forwardingCacheMaxEntries ?? 0
    this.forwardingCache = maxPending > 0 ? new ForwardingCache<ProcessorRunner>(maxPending) : undefined
    const sub = options.topology.subtopologies[options.subtopology]
    if (!sub) throw new Error(`sub-topology ${options.subtopology} does not exist`)
  }

  get partition(): number {
    return this.options.partition
  }

  /** Highest event time this task has seen (-1 before any record). */
  get streamTime(): number {
    return this.streamTimeMs
  }

  /**
   * Restores the stream time the task had reached (e.g. kept by the runtime in its commit metadata or
   * checkpoint). Call before processing: without it a restarted task starts from -1, and a late record
   * arriving first would be accepted into a window that had already closed (and been emitted).
   */
  restoreStreamTime(streamTime: number): void {
    if (this.started && this.metrics.processed > 0) throw new Error(`task ${this.id}: restoreStreamTime() must be called before processing`)
    if (streamTime > this.streamTimeMs) {
      this.streamTimeMs = streamTime
      this.streamTimeAtLastRecord = streamTime
      this.lastRecordWallClock = this.wallClock()
      this.punctuation.streamTimeRestored(streamTime)
    }
  }

  /** The task's stores, for restore (runtime) and inspection (driver). */
  get stores(): ReadonlyMap<string, StateStore> {
    return this.opened?.stores ?? new Map()
  }

  /** Opens the stores (empty or as found on disk); the runtime restores them before `start()`. */
  async openStores(): Promise<void> {
    if (this.opened) return
    const { plan, subtopology, partition } = this.options
    const storePlans = plan.subtopologies[subtopology]!.stores
    const changelogTopics = new Map(storePlans.flatMap((s) => (s.changelogTopic === null ? [] : [[s.name, s.changelogTopic] as const])))
    const changelog = this.options.changelogs === false ? undefined : this.collector.changelogSink(changelogTopics, partition)
    this.opened = await openTaskStores(storePlans, { applicationId: plan.applicationId, taskId: this.id, state: this.options.state, changelog })
    this.prefetcher = new BatchPrefetch(storePlans, this.opened.stores)
  }

  /** Builds the processor graph and runs every processor's `init` (which may read its stores). */
  async start(): Promise<void> {
    if (this.started) return
    await this.openStores()
    const { topology, plan, subtopology } = this.options
    for (const g of plan.globalStores) {
      if (!this.options.globalStores?.has(g.name)) throw new Error(`task ${this.id}: the global table store '${g.name}' is not open; the runtime opens global stores before it starts tasks`)
    }
    const sub = topology.subtopologies[subtopology]!
    const runners = new Map<string, Runner>()
    for (const node of sub.nodes) runners.set(node.name, this.createRunner(node, plan))
    for (const node of sub.nodes) {
      const runner = runners.get(node.name)!
      for (const childName of topology.children(node.name)) {
        const child = runners.get(childName)!
        if (runner instanceof SourceRunner) runner.children.push(child)
        else if (runner instanceof ProcessorRunner) {
          runner.children.push(child)
          runner.byName.set(childName, child)
        }
      }
    }
    // Serdes with one-off async preparation (registry schema ids) get it now, per static sink topic.
    for (const node of sub.nodes) {
      if (node.kind !== 'sink' || !isTopicRef(node.topic)) continue
      const topic = plan.topicName(node.topic)
      await node.key.prepare?.(topic)
      await node.value.prepare?.(topic)
    }
    for (const runner of this.processors) {
      this.currentNode = runner.name
      await runner.processor.init?.(this.contextFor(runner))
    }
    this.currentNode = undefined
    this.started = true
  }

  private createRunner(node: NodeDef, plan: TopologyPlan): Runner {
    if (node.kind === 'source') {
      const runner = new SourceRunner(node)
      for (const ref of node.topics) this.sourcesByTopic.set(plan.topicName(ref), runner)
      return runner
    }
    if (node.kind === 'sink') return new SinkRunner(node, plan, this)
    const runner = new ProcessorRunner(node.name, node.supplier(), this)
    this.processors.push(runner)
    return runner
  }

  private contextFor(runner: ProcessorRunner): InternalProcessorContext<unknown, unknown> {
    const allowed = new Set((this.options.topology.node(runner.name) as { stores?: readonly string[] }).stores ?? [])
    return {
      applicationId: this.options.plan.applicationId,
      taskId: this.id,
      partition: this.options.partition,
      forward: (record, childName) => runner.forward(record, childName),
      getStateStore: ((store: string | { name: string }) => {
        const name = typeof store === 'string' ? store : store.name
        const global = this.options.globalStores?.get(name)
        if (global) return global
        const found = this.opened?.stores.get(name)
        if (!found || !allowed.has(name)) {
          throw new Error(`processor '${runner.name}' asked for store '${name}', which is not connected to it; list it in process(..., { stores: ['${name}'] })`)
        }
        return found
      }) as InternalProcessorContext<unknown, unknown>['getStateStore'],
      schedule: (intervalMs, type, fn) => this.schedule(runner.name, intervalMs, type, fn),
      streamTime: () => this.streamTimeMs,
      wallClockTime: () => this.wallClock(),
      recordMetadata: () => {
        const r = this.currentRecord
        return r ? { topic: r.topic, partition: r.partition, offset: r.offset } : undefined
      },
      recordLate: (late) => this.badRecords.recordLate(late, this.currentRecord, this.streamTimeMs),
      recordDuplicate: (processor) => this.metrics.recordDuplicate(processor),
      cachesForwards: this.forwardingCache !== undefined,
      forwardLatest: (record, group, rowId, sourceKey, dueAt) => {
        const cache = this.forwardingCache
        if (!cache) return runner.forward(record)
        cache.put(runner, group, rowId, record, this.currentRecord, sourceKey, dueAt)
      },
      prefetchSourceKeys: (records) => this.prefetcher!.sourceKeys(records),
      forwardAfterPrefetch: (record, sourceKey) => void this.afterPrefetch.push({ runner, record, sourceKey }),
      loadBeforeBatch: (load) => void this.batchLoads.push(load),
    }
  }

  private schedule(node: string, intervalMs: number, type: PunctuationType, fn: Punctuator): Cancellable {
    return this.punctuation.schedule(node, intervalMs, type, fn, { wallClock: this.wallClock(), streamTime: this.streamTimeMs })
  }

  /** Processes one batch of records of this task's partition(s), in order. */
  async process(batch: readonly SourceRecord[]): Promise<void> {
    this.ensureRunning()
    const decoded: Decoded[] = []
    // One wall-clock reading per batch for the event-time bounds: a batch is processed in moments.
    const now = this.wallClock()
    for (const raw of batch) {
      let d = this.decode(raw, now, false)
      if (d instanceof SchemaNotReadyError) {
        // A schema not cached yet (registry serdes): one await for the first record of a new schema
        // id, then decode again. A registry outage rejects here: it stops the task, not the record.
        await d.ready()
        d = this.decode(raw, now, true)
      }
      if (d && !(d instanceof SchemaNotReadyError)) decoded.push(d)
    }
    try {
      await this.prefetchBatch(decoded)
      for (const d of decoded) {
        const ts = d.record.timestamp
        if (ts > this.streamTimeMs) this.streamTimeMs = ts
        this.streamTimeAtLastRecord = this.streamTimeMs
        this.currentRecord = d.raw
        this.currentStage = 'process'
        try {
          d.source.process(d.record)
          this.metrics.processed++
        } catch (err) {
          this.badRecords.recordFailed(err, this.currentStage, d.raw, this.currentNode ?? d.source.name)
        }
        this.currentNode = undefined
        if (this.afterPrefetch.length > 0) await this.forwardAfterPrefetch(d.raw)
        if (this.deferred.length > 0) await this.sendDeferred(d.raw)
        this.currentRecord = undefined
        if (this.punctuation.hasDue('stream-time', this.streamTimeMs)) {
          const pending = this.punctuateStreamTime()
          if (pending) await pending
        }
      }
    } finally {
      // What the batch loaded may be evicted from here on (`maintain` below).
      this.batchLoadedUpTo = -Infinity
    }
    if (batch.length > 0) this.lastRecordWallClock = this.wallClock()
    if (this.forwardingCache?.overBound) await this.forwardPending(this.forwardingCache.takeOverflow())
    // Between batches: the only safe moment for the cache to flush and evict when over budget.
    await this.opened!.cache.maintain()
    this.collector.dispatch()
  }

  /**
   * The batch's stores, with those of the records the batch will forward for other keys: held-back
   * table rows whose window closes within the batch, and what processors load before a batch
   * (`loadBeforeBatch`: suppress, the windows closing). Loaded together, in one call per store (a
   * window store's range prefetch holds one range per key), so that those forwards need no read of
   * their own, one record at a time, while stream time stays within `batchLoadedUpTo`.
   */
  private async prefetchBatch(decoded: readonly Decoded[]): Promise<void> {
    const records = decoded.map((d) => d.record)
    let upTo = this.streamTimeMs
    for (const r of records) if (r.timestamp > upTo) upTo = r.timestamp
    this.batchLoadedUpTo = upTo
    const due = this.forwardingCache?.dueSourceKeys(upTo) ?? []
    if (this.batchLoads.length === 0) return this.prefetcher!.forBatch(records, due)
    const forwarded = await Promise.all(this.batchLoads.map((load) => load(upTo)))
    await this.prefetcher!.forBatch(records, [...due, ...forwarded.flatMap((keys) => keys ?? [])])
  }

  private decode(raw: SourceRecord, now: number, retried: boolean): Decoded | SchemaNotReadyError | undefined {
    const source = this.sourcesByTopic.get(raw.topic)
    if (!source) throw new Error(`task ${this.id} does not read topic '${raw.topic}'`)
    const def = source.def
    let stage: ErrorStage = 'deserialize'
    try {
      const key = this.decodeBytes(raw.key, def.key, 'key', def, raw.topic)
      const value = this.decodeBytes(raw.value, def.value, 'value', def, raw.topic)
      stage = 'timestamp'
      const extracted = def.timestamp({
        key,
        value,
        timestamp: raw.timestamp,
        topic: raw.topic,
        partition: raw.partition,
        offset: raw.offset,
        headers: raw.headers,
      })
      if (typeof extracted !== 'number' || !Number.isFinite(extracted) || extracted < 0) {
        throw new Error(`the timestamp extractor returned ${String(extracted)}; event time must be epoch ms >= 0`)
      }
      const bounds = def.eventTimeBounds
      if (bounds !== undefined) {
        const verdict = eventTimeVerdict(extracted, now, bounds)
        if (verdict !== undefined) {
          this.metrics.recordOutOfBounds(verdict)
          throw new EventTimeOutOfBoundsError(verdict, extracted, now, verdict === 'ahead' ? bounds.maxAheadMs : bounds.maxBehindMs!)
        }
      }
      return { raw, source, record: { key, value, timestamp: Math.floor(extracted), headers: raw.headers } }
    } catch (err) {
      if (err instanceof SchemaNotReadyError && !retried) return err
      this.badRecords.recordFailed(err, stage, raw, def.name)
      return undefined
    }
  }

  /** @internal Called by a sink whose serde needs an async schema look-up first. */
  deferOutput(sink: SinkRunner, record: StreamRecord<unknown, unknown>, topic: string, error: SchemaNotReadyError): void {
    this.deferred.push({ sink, record, topic, error })
  }

  private async forwardAfterPrefetch(raw: SourceRecord): Promise<void> {
    const pending = this.afterPrefetch.splice(0)
    await this.prefetcher!.sourceKeys(pending.map((p) => ({ key: p.sourceKey, timestamp: p.record.timestamp })))
    for (const { runner, record } of pending) {
      this.currentNode = runner.name
      try {
        runner.forward(record)
      } catch (err) {
        this.badRecords.recordFailed(err, 'process', raw, this.currentNode ?? runner.name)
      }
    }
    this.currentNode = undefined
  }

  private async sendDeferred(raw: SourceRecord | null): Promise<void> {
    for (const { sink, record, topic, error } of this.deferred.splice(0)) {
      await error.ready()
      try {
        sink.send(record, topic)
      } catch (err) {
        if (raw) this.badRecords.recordFailed(err, 'serialize', raw, sink.name)
        else this.badRecords.punctuationFailed(err, sink.name, 'wall-clock')
      }
    }
  }

  private decodeBytes(bytes: Buffer | null, serde: SourceNodeDef['key'], what: 'key' | 'value', def: SourceNodeDef, topic: string): unknown {
    if (bytes !== null) return serde.deserialize(bytes, topic)
    if (isNullableSerde(serde) || (what === 'value' && def.table)) return null
    throw new Error(`null ${what}, but the ${what} serde ${serde.name} does not accept null; declare it Serdes.nullable(${serde.name}) to allow it`)
  }

  /**
   * Stream-time work once stream time moved: synchronous, and no promise, unless something in it is
   * asynchronous (a due forwarding-cache row, a punctuator returning a promise, deferred output).
   * It runs after most records (suppress punctuates at every advance), mostly to find nothing due.
   */
  private punctuateStreamTime(): Promise<void> | undefined {
    // Rows whose window closed are forwarded first: a punctuator emitting closed windows (suppress)
    // must see their final values. Forwarding may fill the cache again (a table operator downstream).
    if (this.forwardingCache?.hasDue(this.streamTimeMs)) return this.forwardDueThenPunctuate()
    return this.runStreamTimePunctuators(this.streamTimeMs, 0)
  }

  private async forwardDueThenPunctuate(): Promise<void> {
    const cache = this.forwardingCache!
    const loaded = this.streamTimeMs <= this.batchLoadedUpTo
    while (cache.hasDue(this.streamTimeMs)) await this.forwardPending(cache.takeDue(this.streamTimeMs), loaded)
    await this.runStreamTimePunctuators(this.streamTimeMs, 0)
  }

  /** The stream-time punctuators due at `time` from index `from` on, each moved on as it runs (see `PunctuationSchedule.nextDue`). */
  private runStreamTimePunctuators(time: number, from: number): Promise<void> | undefined {
    for (let i = this.punctuation.nextDue('stream-time', time, from); i >= 0; i = this.punctuation.nextDue('stream-time', time, i + 1)) {
      const pending = this.runPunctuator(this.punctuation.at(i), time)
      if (pending) return pending.then(() => this.runStreamTimePunctuators(time, i + 1))
    }
    return undefined
  }

  /** Runs one punctuator; a promise only when it returned one or left output waiting for a schema. */
  private runPunctuator(p: ScheduledPunctuator, timestamp: number): Promise<void> | undefined {
    this.currentNode = p.node
    this.currentStage = 'punctuate'
    this.metrics.punctuations++
    let result: unknown
    try {
      result = p.fn(timestamp)
    } catch (err) {
      try {
        this.badRecords.punctuationFailed(err, this.currentNode ?? p.node, p.type)
      } finally {
        // As the async path's `finally`: a handler that fails the task leaves no punctuation stage behind.
        this.currentNode = undefined
        this.currentStage = 'process'
      }
    }
    if (result instanceof Promise) return this.settlePunctuator(p, result)
    this.currentNode = undefined
    this.currentStage = 'process'
    return this.deferred.length > 0 ? this.sendDeferred(null) : undefined
  }

  private async settlePunctuator(p: ScheduledPunctuator, result: Promise<unknown>): Promise<void> {
    try {
      await result
    } catch (err) {
      this.badRecords.punctuationFailed(err, this.currentNode ?? p.node, p.type)
    } finally {
      this.currentNode = undefined
      this.currentStage = 'process'
    }
    if (this.deferred.length > 0) await this.sendDeferred(null)
  }

  /**
   * Wall-clock work: due wall-clock punctuators, and the idle-timeout advance of stream time (which
   * then runs stream-time punctuators, e.g. suppress emitting windows a quiet partition closed).
   */
  async punctuate(now: number = this.wallClock()): Promise<void> {
    this.ensureRunning()
    const idle = this.options.idleTimeoutMs
    if (idle !== undefined && this.streamTimeAtLastRecord >= 0) {
      const quietFor = now - this.lastRecordWallClock
      if (quietFor >= idle) {
        const advanced = this.streamTimeAtLastRecord + quietFor
        if (advanced > this.streamTimeMs) {
          this.streamTimeMs = advanced
          this.metrics.idleAdvances++
          this.log.debug({ streamTime: advanced, quietFor }, 'idle timeout advanced stream time')
          await this.punctuateStreamTime()
        }
      }
    }
    for (const p of this.punctuation.takeDue('wall-clock', now)) await this.runPunctuator(p, now)
    await this.opened!.cache.maintain()
    this.collector.dispatch()
  }

  /**
   * Commit-time work before the stores flush: forward the pending table updates (so downstream
   * stores and sinks get them in this commit) and expire old windows.
   */
  async prepareCommit(): Promise<void> {
    if (!this.opened) return
    await this.forwardAllPending()
    if (this.streamTimeMs >= 0) {
      for (const store of this.opened.stores.values()) {
        const expirable = store as Partial<WindowStore<unknown, unknown> | SessionStore<unknown, unknown>>
        if (typeof expirable.expire === 'function') await expirable.expire(this.streamTimeMs)
      }
    }
  }

  /**
   * Flushes every store together and the collector with them: each store hands its changelog
   * records to the collector and waits for the collector's acknowledgement round, which they all
   * share with the task's other output, before writing its local batch. One send, one wait.
   */
  async flushState(): Promise<void> {
    const stores = this.opened ? [...this.opened.stores.values()] : []
    await Promise.all([...stores.map((store) => store.flush()), this.collector.flush()])
  }

  /** The whole commit-time work of the task alone (test driver, standalone runtime, close). */
  async flush(): Promise<void> {
    await this.prepareCommit()
    await this.flushState()
  }

  async close(): Promise<void> {
    if (this.closed) return
    // Before the processors close: forwarding still runs through them.
    if (this.started) await this.forwardAllPending()
    this.closed = true
    for (const runner of this.processors) {
      try {
        await runner.processor.close?.()
      } catch (err) {
        this.log.warn({ err, processor: runner.name }, 'processor close failed')
      }
    }
    if (this.opened) {
      await this.flush()
      for (const store of this.opened.stores.values()) await store.close()
    }
  }

  private async forwardAllPending(): Promise<void> {
    const cache = this.forwardingCache
    // Forwarding may fill the cache again (a table operator downstream): until it stays empty.
    while (cache && cache.size > 0) await this.forwardPending(cache.takeAll())
  }

  /**
   * Forwards held-back table updates, each as if its latest input record were being processed (so
   * errors follow the error policy with that record, and record metadata is the record's).
   */
  private async forwardPending(entries: readonly PendingForward<ProcessorRunner>[], loaded = false): Promise<void> {
    if (entries.length === 0) return
    // Outside the batch that loaded them, source-keyed stores downstream may have been evicted.
    if (!loaded) await this.prefetcher!.sourceKeys(entries.map((e) => ({ key: e.sourceKey, timestamp: e.record.timestamp })))
    for (const entry of entries) {
      const raw = entry.raw
      this.currentRecord = raw
      this.currentStage = 'process'
      this.currentNode = entry.owner.name
      try {
        entry.owner.forward(entry.record)
      } catch (err) {
        const processor = this.currentNode ?? entry.owner.name
        if (raw) this.badRecords.recordFailed(err, this.currentStage, raw, processor)
        else this.badRecords.punctuationFailed(err, processor, 'stream-time')
      } finally {
        this.currentNode = undefined
        this.currentStage = 'process'
      }
      if (this.deferred.length > 0) await this.sendDeferred(raw ?? null)
      this.currentRecord = undefined
    }
  }

  private ensureRunning(): void {
    if (!this.started) throw new Error(`task ${this.id}: call start() before processing`)
    if (this.closed) throw new Error(`task ${this.id} is closed`)
  }
}
