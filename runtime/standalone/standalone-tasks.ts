/**
 * The tasks of a standalone application: every sub-topology on every partition, in this process,
 * over the embedded log. It opens them, processes a round of their input in time-bounded slices,
 * commits (stores flushed to disk, stream times saved, log offsets recorded) and closes them;
 * `StandaloneStreams` runs the loop around it and owns the lifecycle, `send` and `consume`.
 */
import { performance } from 'node:perf_hooks'
import type pino from 'pino'
import { CacheBudget, engineOfKind, type GlobalKeyValueStore, StateDirectory, type StateStore, type StorageEngine, type TaskLock } from '../../state/index.js'
import type { Topology, TopologyPlan } from '../../topology/topology.js'
import { taskIdString } from '../assignor.js'
import type { RuntimeMetrics } from '../kafka/runtime-metrics.js'
import { TaskCountersExport } from '../kafka/task-counters-export.js'
import type { QueryableTask } from '../query/local-store-views.js'
import { GLOBAL_STORES_DIR, globalStoresByName, openGlobalStores } from '../task/global-stores.js'
import { StreamTask } from '../task/stream-task.js'
import type { ErrorPolicy, OutputRecord, SourceRecord } from '../task/records.js'
import { RecordCollector } from '../task/record-collector.js'
import { InMemoryRecordSink } from '../task/record-sink.js'
import type { EmbeddedLog, LogRecord } from './embedded-log.js'
import { EmbeddedGlobalTables } from './global-tables.js'
import type { ResolvedStandaloneConfig } from './standalone-config.js'
import { readStreamTime, writeStreamTime } from './stream-time-file.js'

/**
 * One task: a sub-topology on one partition, with its read positions in the log. Queryable while the
 * application is `running` (tasks are open from before `running` until after it): `unavailable()`
 * answers for the other states.
 */
export interface TaskRunner extends QueryableTask {
  readonly id: string
  readonly state: 'running'
  readonly subtopology: number
  readonly partition: number
  readonly task: StreamTask
  readonly sources: readonly string[]
  /** Next offset to process, per source topic. */
  readonly positions: Map<string, number>
  readonly taskDir: string
  lock: TaskLock | undefined
  /** Stream time as last written to the task directory. */
  savedStreamTime: number
  /** Records per `process` call: sized to take about `maxBlockMs` (see `nextSliceRecords`). */
  sliceRecords: number
}

/** The smallest slice: below it the per-call costs (a RocksDB read batch, cache upkeep) would dominate. */
const MIN_SLICE_RECORDS = 16

export interface StandaloneTasksOptions {
  readonly topology: Topology
  readonly plan: TopologyPlan
  readonly config: ResolvedStandaloneConfig
  readonly log: EmbeddedLog
  readonly metrics: RuntimeMetrics
  readonly errorPolicy: ErrorPolicy
  readonly logger: pino.Logger
  readonly tasksPerSubtopology: ReadonlyMap<number, number>
}

export class StandaloneTasks {
  private list: TaskRunner[] = []
  private readonly byId = new Map<string, TaskRunner>()
  /** Global table stores and their consumer; open from before the tasks until after them. */
  private globalStores = new Map<string, GlobalKeyValueStore<unknown, unknown>>()
  private globalTables: EmbeddedGlobalTables | undefined
  private globalLock: TaskLock | undefined
  private readonly repartitionTopics: ReadonlySet<string>
  private readonly taskCounters: TaskCountersExport
  private readonly producedSinceReport = new Map<string, number>()
  /** When the processing loop last let I/O in (performance.now()). */
  private lastYield = 0
  private lost = 0
  /** One record cache budget (`cacheMaxBytes`) for all tasks of the instance. */
  private readonly cacheBudget: CacheBudget

  constructor(private readonly options: StandaloneTasksOptions) {
    this.cacheBudget = new CacheBudget(options.config.cacheMaxBytes)
    options.metrics.watchCacheBudget(this.cacheBudget)
    this.repartitionTopics = new Set(options.plan.internalTopics.filter((t) => t.role === 'repartition').map((t) => t.name))
    this.taskCounters = new TaskCountersExport(options.metrics)
  }

  get runners(): readonly TaskRunner[] {
    return this.list
  }

  get(id: string): TaskRunner | undefined {
    return this.byId.get(id)
  }

  /** The global tables' topics: a record appended to one must wake the loop too. */
  get globalTopics(): readonly string[] {
    return this.globalTables?.topics ?? []
  }

  globalStore(name: string): GlobalKeyValueStore<unknown, unknown> | undefined {
    return this.globalStores.get(name)
  }

  /** Input records that fell out of the log's retention before the topology processed them. */
  get recordsLost(): number {
    return this.lost
  }

  /** Opens every task's stores (each task locks its directory); on failure closes those it opened and throws. */
  async open(): Promise<void> {
    const { config, plan, tasksPerSubtopology } = this.options
    try {
      const engine = engineOfKind(config.storeEngine, config)
      this.options.metrics.watchEngine(engine)
      const stateDirectory = new StateDirectory({ stateDir: config.stateDir, applicationId: config.applicationId, logger: this.options.logger })
      await this.openGlobalTables(engine, stateDirectory)
      for (const sub of plan.subtopologies) {
        const count = tasksPerSubtopology.get(sub.id)!
        for (let partition = 0; partition < count; partition++) this.list.push(await this.openOne(sub.id, partition, engine, stateDirectory))
      }
    } catch (e) {
      await this.close(false)
      throw e
    }
    for (const runner of this.list) this.byId.set(runner.id, runner)
  }

  /** Opens the global stores and applies what their topics hold, before any task exists. */
  private async openGlobalTables(engine: StorageEngine, stateDirectory: StateDirectory): Promise<void> {
    const { plan, config, log, logger } = this.options
    if (plan.globalStores.length === 0) return
    if (engine.kind !== 'memory') this.globalLock = await stateDirectory.lockTask(GLOBAL_STORES_DIR)
    const opened = await openGlobalStores(plan, { engine, stateDir: config.stateDir }, logger)
    this.globalStores = globalStoresByName(opened)
    this.globalTables = new EmbeddedGlobalTables(log, opened)
    await this.globalTables.restore()
    logger.info({ stores: opened.map((g) => ({ store: g.plan.name, topic: g.plan.topic, rows: g.store.size })) }, 'global tables loaded')
  }

  private async openOne(subtopology: number, partition: number, engine: StorageEngine, stateDirectory: StateDirectory): Promise<TaskRunner> {
    const id = taskIdString({ subtopology: subtopology, partition })
    const sub = this.options.plan.subtopologies[subtopology]!
    const task = new StreamTask({
      topology: this.options.topology,
      plan: this.options.plan,
      subtopology,
      partition,
      collector: new RecordCollector(new InMemoryRecordSink((record) => this.collect(record))),
      changelogs: false,
      state: { engine, stateDir: this.options.config.stateDir, cacheBudget: this.cacheBudget },
      globalStores: this.globalStores,
      errorPolicy: this.options.errorPolicy,
      forwardingCacheMaxEntries: this.options.config.forwardingCacheMaxEntries,
      ...(this.options.config.idleTimeoutMs > 0 ? { idleTimeoutMs: this.options.config.idleTimeoutMs } : {}),
      logger: this.options.logger,
    })
    const taskDir = stateDirectory.taskDir(id)
    const onDisk = engine.kind !== 'memory'
    const runner: TaskRunner = {
      id,
      state: 'running',
      store: (name: string): StateStore | undefined => task.stores.get(name),
      subtopology,
      partition,
      task,
      sources: sub.sourceTopics,
      positions: new Map(sub.sourceTopics.map((t) => [t, this.options.log.committed(this.options.config.applicationId, t, partition) ?? this.options.log.startOffset(t, partition)])),
      taskDir,
      lock: undefined,
      savedStreamTime: -1,
      sliceRecords: Math.min(100, this.options.config.maxBatchRecords),
    }
    try {
      // Two processes on one state directory would corrupt each other's stores.
      if (onDisk) runner.lock = await stateDirectory.lockTask(id)
      await task.openStores()
      if (onDisk) {
        runner.savedStreamTime = await readStreamTime(taskDir)
        if (runner.savedStreamTime >= 0) task.restoreStreamTime(runner.savedStreamTime)
      }
      await task.start()
    } catch (e) {
      await task.close().catch(() => undefined)
      await runner.lock?.release()
      throw e
    }
    return runner
  }

  /** Wall-clock punctuation of every task, letting I/O in between tasks. */
  async punctuate(now: number): Promise<void> {
    for (const runner of this.list) {
      await runner.task.punctuate(now)
      await this.yieldIfHeld()
    }
  }

  /** Notes that the loop just let I/O in, so `yieldIfHeld` counts from now. */
  yielded(): void {
    this.lastYield = performance.now()
  }

  /** True when every task has committed everything in its input topics. */
  allCommitted(): boolean {
    const { log, config } = this.options
    return this.list.every((r) => r.sources.every((t) => log.committed(config.applicationId, t, r.partition) === log.endOffset(t, r.partition)))
  }

  /**
   * Up to `maxBatchRecords` of every task's input; returns the records processed. A task's share is
   * processed in slices sized to take about `maxBlockMs`, and the loop lets I/O in whenever it has
   * held the thread that long: an HTTP request beside the topology waits one slice, not a round.
   */
  async processRound(): Promise<number> {
    let processed = (await this.globalTables?.catchUp()) ?? 0
    for (const runner of this.list) {
      let left = this.options.config.maxBatchRecords
      while (left > 0) {
        const batch = this.nextBatch(runner, Math.min(left, runner.sliceRecords))
        if (batch.length === 0) break
        const began = performance.now()
        await runner.task.process(batch.map(toSourceRecord))
        for (const r of batch) runner.positions.set(r.topic, r.offset + 1)
        const took = performance.now() - began
        runner.sliceRecords = this.nextSliceRecords(runner.sliceRecords, batch.length, took)
        processed += batch.length
        left -= batch.length
        this.options.metrics.batchSeconds.observe(took / 1000)
        this.reportProduced()
        if (runner.sources.length === 1) this.options.metrics.consumed.inc({ topic: runner.sources[0]! }, batch.length)
        else for (const r of batch) this.options.metrics.consumed.inc({ topic: r.topic })
        await this.yieldIfHeld()
      }
    }
    return processed
  }

  /** The slice that should take about `maxBlockMs` at the pace of the last one (smoothed, so one GC pause does not halve it). */
  private nextSliceRecords(current: number, records: number, tookMs: number): number {
    const fits = tookMs > 0 ? (records * this.options.config.maxBlockMs) / tookMs : this.options.config.maxBatchRecords
    const next = Math.round((current + fits) / 2)
    return Math.max(Math.min(MIN_SLICE_RECORDS, this.options.config.maxBatchRecords), Math.min(this.options.config.maxBatchRecords, next))
  }

  /** Lets timers and I/O run when the loop has held the thread for `maxBlockMs` since it last did. */
  async yieldIfHeld(): Promise<void> {
    if (performance.now() - this.lastYield < this.options.config.maxBlockMs) return
    await yieldToEventLoop()
    this.lastYield = performance.now()
  }

  /** Up to `max` of a task's unprocessed records, its source topics merged in append order. */
  private nextBatch(runner: TaskRunner, max: number): LogRecord[] {
    let out: LogRecord[] = []
    for (const topic of runner.sources) {
      let position = runner.positions.get(topic)!
      const start = this.options.log.startOffset(topic, runner.partition)
      if (position < start) {
        this.options.logger.warn(
          { topic, partition: runner.partition, lost: start - position, maxRecords: this.options.config.logRetention.maxRecords },
          'records fell out of the embedded log before the topology processed them: raise logRetention, or send slower',
        )
        this.lost += start - position
        position = start
        runner.positions.set(topic, start)
      }
      const records = this.options.log.read(topic, runner.partition, position, max)
      out = out.length === 0 ? records : out.concat(records)
    }
    if (runner.sources.length > 1 && out.length > 0) {
      out.sort((a, b) => a.sequence - b.sequence)
      if (out.length > max) out = out.slice(0, max)
    }
    return out
  }

  /** Commit: forward pending table updates, flush every store to disk, save stream times, record offsets. */
  async commit(): Promise<void> {
    const began = performance.now()
    for (const runner of this.list) {
      await runner.task.flush()
      await this.yieldIfHeld()
    }
    for (const runner of this.list) {
      const streamTime = runner.task.streamTime
      if (runner.lock && streamTime !== runner.savedStreamTime) {
        await writeStreamTime(runner.taskDir, streamTime)
        runner.savedStreamTime = streamTime
      }
      for (const [topic, position] of runner.positions) {
        this.options.log.commit(this.options.config.applicationId, topic, runner.partition, position)
        // As Kafka Streams purges them: nothing reads a repartition topic but its task, and records
        // kept past their commit would only grow the heap (and every GC's work) up to the retention.
        if (this.repartitionTopics.has(topic)) this.options.log.deleteRecordsBefore(topic, runner.partition, position)
        this.options.metrics.lag.set({ topic, partition: String(runner.partition) }, this.options.log.endOffset(topic, runner.partition) - position)
      }
      this.taskCounters.export(runner.id, runner.task.metrics)
    }
    this.reportProduced()
    this.options.metrics.commitSeconds.observe((performance.now() - began) / 1000)
  }

  private collect(record: OutputRecord): void {
    const count = this.options.log.partitionCount(record.topic) ?? this.options.log.createTopic(record.topic)
    const partition = record.partition ?? record.choosePartition?.(count)
    this.options.log.append(record.topic, {
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      headers: record.headers,
      ...(partition === undefined ? {} : { partition }),
    })
    // Counted here, reported per slice: a labelled prom-client `inc` per record costs more than the append.
    this.producedSinceReport.set(record.topic, (this.producedSinceReport.get(record.topic) ?? 0) + 1)
  }

  private reportProduced(): void {
    if (this.producedSinceReport.size === 0) return
    for (const [topic, n] of this.producedSinceReport) this.options.metrics.produced.inc({ topic }, n)
    this.producedSinceReport.clear()
  }

  /** True while some task has records in the log it has not processed. */
  hasUnprocessed(): boolean {
    return this.list.some((r) => r.sources.some((t) => r.positions.get(t)! < this.options.log.endOffset(t, r.partition)))
  }

  /** Closes every task, saving its stream time unless processing failed, and releases its lock. */
  async close(failed: boolean): Promise<void> {
    for (const runner of this.list) {
      try {
        await runner.task.close()
        if (runner.lock && !failed && runner.task.streamTime !== runner.savedStreamTime) await writeStreamTime(runner.taskDir, runner.task.streamTime)
      } catch (e) {
        this.options.logger.error({ err: e, task: runner.id }, 'error while closing a task')
      } finally {
        await runner.lock?.release().catch(() => undefined)
      }
    }
    for (const store of this.globalStores.values()) await store.close().catch((e: unknown) => this.options.logger.error({ err: e, store: store.name }, 'error while closing a global store'))
    this.globalStores.clear()
    await this.globalLock?.release().catch(() => undefined)
  }

  /** Records the topology has not processed yet in `topic`, on its most loaded partition. */
  lag(topic: string): number {
    let lag = 0
    for (const runner of this.list) {
      const position = runner.positions.get(topic)
      if (position !== undefined) lag = Math.max(lag, this.options.log.endOffset(topic, runner.partition) - position)
    }
    return lag
  }
}

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function toSourceRecord(r: LogRecord): SourceRecord {
  return { topic: r.topic, partition: r.partition, offset: String(r.offset), key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers }
}
