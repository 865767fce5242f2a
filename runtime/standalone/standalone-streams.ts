/**
 * A topology in one process, without Kafka: the same tasks, processors, serdes and stores (RocksDB
 * by default) as on Kafka, over the embedded in-process log.
 *
 *   const app = new StandaloneStreams(topology, { applicationId: 'llm-sentinel', stateDir: './state' })
 *   await app.start()
 *   await app.send('llm-telemetry', [{ key: 'app-1', value: JSON.stringify(event) }])
 *   await app.consume('anomalies', { groupId: 'printer' }, async (records) => { ... })
 *   await app.close()
 *
 * What it is for: development, edge and small installs. What it does not do: scale out (one process
 * runs every task) or recover in-flight records after a crash. The log lives in memory: records
 * appended but not yet processed and committed are lost when the process dies. Stores are not
 * changelogged (there is nothing to restore them from but their own files): they are flushed to disk
 * at every commit, with the task's stream time, so a restart on the same `stateDir` resumes with the
 * state of the last commit. A graceful `close()` first processes what the log already holds.
 * Repartition topics are purged up to each commit (as Kafka Streams does): read them with the
 * topology's tasks, not with `consume`.
 *
 * Interactive queries read the stores through the same views as on Kafka (`runtime/query/`): each
 * read runs as a job of the processing loop's queue, between rounds of batches and commits, so it
 * never sees a batch half-applied or a store mid-flush.
 *
 * The tasks and their rounds, commits and slices are `StandaloneTasks`' (standalone-tasks.ts); the
 * state machine, start-once, close-once and failure handling are `RuntimeLifecycle`'s, shared with
 * SentinelStreams. This file is the loop, `send`/`consume`/`idle` and the queries.
 *
 * Size: about 400 lines because it is the public runtime surface of standalone mode (send, consume,
 * interactive queries, close) and each of those is a few lines over the tasks and the lifecycle that
 * live elsewhere; splitting it would spread one class's API over files.
 */
import type { Readable } from 'node:stream'
import type pino from 'pino'
import type { Registry } from 'prom-client'
import type { Serde } from '../../schemas/serde.js'
import type { GlobalKeyValueStore } from '../../state/index.js'
import { resolvePartitions, type Topology, type TopologyPlan } from '../../topology/topology.js'
import { RuntimeMetrics } from '../kafka/runtime-metrics.js'
import { SerialQueue } from '../kafka/serial-queue.js'
import { keyValueView, type LocalTasks, windowView } from '../query/local-store-views.js'
import { globalKeyValueView } from '../query/global-store-view.js'
import { ReadGate } from '../query/read-gate.js'
import { StoreLocator } from '../query/store-locator.js'
import { RuntimeLifecycle, runtimeLogger } from '../runtime-lifecycle.js'
import {
  type BatchHandler,
  type ConsumeOptions,
  type Consumption,
  type HostInfo,
  type KeyQueryMetadata,
  type OutgoingRecord,
  type ReadOnlyKeyValueStore,
  type ReadOnlyWindowStore,
  type StreamsRuntime,
  type StreamsState,
} from '../streams-runtime.js'
import type { ErrorPolicy } from '../task/records.js'
import { EmbeddedLog } from './embedded-log.js'
import { type JsonLinesOptions, type JsonLinesResult, pipeJsonLines } from './json-lines.js'
import { LogConsumption } from './log-consumption.js'
import { type ResolvedStandaloneConfig, resolveStandaloneConfig, type StandaloneConfig } from './standalone-config.js'
import { StandaloneTasks, yieldToEventLoop } from './standalone-tasks.js'
import { Wakeup } from './wakeup.js'

export interface StandaloneStreamsOptions {
  /** Where metrics go (prom-client, the same names as on Kafka); none = not exported. */
  metrics?: Registry
  /** A pino logger, or `false` for silence. Default: pino at `SENTINEL_LOG_LEVEL` or `info`, to stderr. */
  logger?: pino.Logger | false
  /** What happens to a record that cannot be read or processed. Default `dlq` (the `<applicationId>-dlq` topic of the log). */
  errorPolicy?: ErrorPolicy
  /** How long `close()` may spend processing what the log still holds (default 10 s). */
  closeDrainMs?: number
}

export class StandaloneStreams extends RuntimeLifecycle implements StreamsRuntime {
  readonly mode = 'standalone' as const
  readonly config: ResolvedStandaloneConfig
  readonly plan: TopologyPlan
  readonly metrics: RuntimeMetrics
  /** The embedded log (memory only): every topic of this application, sources, sinks and the DLQ. */
  readonly log: EmbeddedLog
  private readonly tasksPerSubtopology: ReadonlyMap<number, number>
  private readonly sourceTopics: ReadonlySet<string>
  private readonly tasks: StandaloneTasks
  /**
   * Every change to the tasks (a round of batches, a punctuation, a commit, closing) runs as a job
   * here, and interactive-query reads run between those jobs (see `ReadGate`).
   */
  private readonly queue = new SerialQueue()
  private readonly readGate = new ReadGate(this.queue)
  private readonly stores: StoreLocator
  private readonly localTasks: LocalTasks
  private readonly wakeup = new Wakeup()
  private unsubscribe: (() => void) | undefined
  private loop: Promise<void> | undefined
  private stopping = false
  private lastCommit = Date.now()
  private readonly consumptions = new Set<LogConsumption>()
  /** `send` calls waiting for the topology to catch up (backpressure). */
  private waitingSenders: (() => void)[] = []
  private readonly idleWaiters = new Set<{ resolve: () => void; reject: (error: Error) => void }>()
  private readonly senderHighWater: number

  /** Throws a `ConfigError` naming the field when the config is invalid. */
  constructor(
    private readonly topology: Topology,
    config: StandaloneConfig,
    private readonly options: StandaloneStreamsOptions = {},
  ) {
    const resolvedConfig = resolveStandaloneConfig(config)
    super(runtimeLogger(options.logger, resolvedConfig.applicationId))
    this.config = resolvedConfig
    this.plan = topology.plan(this.config.applicationId)
    this.metrics = new RuntimeMetrics(options.metrics)
    this.log = new EmbeddedLog({ retention: this.config.logRetention })
    // Source topics exist from the start with their configured counts, so records sent before
    // `start()` land on the partitions their keys belong to.
    const userSources = new Set(this.plan.subtopologies.flatMap((s) => s.userSourceTopics))
    for (const topic of userSources) this.log.createTopic(topic, this.config.partitions(topic))
    for (const g of this.plan.globalStores) this.log.createTopic(g.topic, this.config.partitions(g.topic))
    const resolved = resolvePartitions(this.plan, (topic) => this.log.partitionCount(topic))
    this.tasksPerSubtopology = resolved.tasksPerSubtopology
    // Changelog topics are not created: stores here are not changelogged (see the module comment).
    for (const spec of this.plan.internalTopics) {
      if (spec.role !== 'changelog') this.log.createTopic(spec.name, resolved.topicPartitions.get(spec.name) ?? 1)
    }
    this.sourceTopics = new Set(this.plan.subtopologies.flatMap((s) => s.sourceTopics))
    this.tasks = new StandaloneTasks({
      topology,
      plan: this.plan,
      config: this.config,
      log: this.log,
      metrics: this.metrics,
      errorPolicy: options.errorPolicy ?? 'dlq',
      logger: this.logger,
      tasksPerSubtopology: this.tasksPerSubtopology,
    })
    this.senderHighWater = Math.max(1, Math.floor(this.config.logRetention.maxRecords / 2))
    this.stores = new StoreLocator(this.plan, () => this.tasksPerSubtopology)
    this.localTasks = {
      read: (read) => this.readGate.read(read),
      task: (id) => this.tasks.get(id),
      tasksOf: (subtopology) => this.tasks.runners.filter((r) => r.subtopology === subtopology),
      unavailable: () => this.unavailable(),
      // One process runs every task: a key's task is here or nowhere.
      hostOf: () => null,
    }
  }

  get applicationId(): string {
    return this.config.applicationId
  }

  get hostInfo(): HostInfo | null {
    return this.config.applicationServer
  }

  /** Input records that fell out of the log's retention before the topology processed them (0 unless input outran it). */
  get recordsLost(): number {
    return this.tasks.recordsLost
  }

  /** The dead-letter topic in the embedded log (`<applicationId>-dlq`). */
  get deadLetterTopic(): string {
    return this.plan.dlqTopic
  }

  /** Opens every task's stores (state `rebalancing` meanwhile), then runs them: state `running` when it resolves. */
  async start(): Promise<void> {
    this.checkStartable()
    this.transition('rebalancing')
    try {
      await this.tasks.open()
    } catch (e) {
      this.transition('error')
      throw e
    }
    this.metrics.tasks.set({ state: 'running' }, this.tasks.runners.length)
    this.unsubscribe = this.log.subscribe([...this.sourceTopics, ...this.tasks.globalTopics], () => this.wakeup.wake())
    this.logger.info(
      { tasks: this.tasks.runners.map((r) => r.id), stateDir: this.config.stateDir, storeEngine: this.config.storeEngine },
      'standalone: running every task in this process over the embedded log',
    )
    this.lastCommit = Date.now()
    this.transition('running')
    this.loop = this.run().catch((e: unknown) => this.fail(e as Error))
  }

  /** The processing loop: batches of every task, wall-clock punctuation and commits on their intervals. */
  private async run(): Promise<void> {
    const tickMs = Math.min(200, this.config.commitIntervalMs)
    let nextPunctuation = Date.now() + tickMs
    while (!this.stopping) {
      const processed = await this.queue.run(() => this.tasks.processRound())
      const now = Date.now()
      if (now >= nextPunctuation) {
        await this.queue.run(() => this.tasks.punctuate(now))
        nextPunctuation = now + tickMs
      }
      if (now - this.lastCommit >= this.config.commitIntervalMs) {
        await this.queue.run(() => this.commit())
        this.settleIdleWaiters()
      }
      this.releaseSenders()
      if (processed > 0) {
        // Let I/O in between rounds (an HTTP API beside the topology): with an in-memory engine a
        // round may never leave the microtask queue.
        await yieldToEventLoop()
        this.tasks.yielded()
      } else if (!this.stopping) {
        await this.wakeup.wait(Math.min(nextPunctuation, this.lastCommit + this.config.commitIntervalMs) - Date.now())
      }
    }
  }

  /**
   * Graceful shutdown (close()): processes what the log holds (up to `closeDrainMs`), commits, closes
   * the stores, and lets `consume` handlers read the last outputs before they stop.
   */
  protected async shutdown(): Promise<void> {
    this.stopping = true
    this.wakeup.wake()
    await this.loop
    this.unsubscribe?.()
    try {
      if (!this.failed && this.tasks.runners.length > 0) {
        const deadline = Date.now() + (this.options.closeDrainMs ?? 10_000)
        // A commit forwards held-back table updates, possibly into repartition topics: process
        // those too, until a commit leaves nothing unprocessed (or the time is up).
        for (;;) {
          while (Date.now() < deadline && (await this.queue.run(() => this.tasks.processRound())) > 0) {
            // Until the log holds nothing unprocessed for any task.
          }
          await this.queue.run(() => this.commit())
          if (Date.now() >= deadline || !this.tasks.hasUnprocessed()) break
        }
      }
    } catch (e) {
      this.logger.error({ err: e }, 'error while draining the log at shutdown')
    }
    await this.queue.run(() => this.tasks.close(this.failed))
    await Promise.all([...this.consumptions].map((c) => c.drain(5_000)))
    this.consumptions.clear()
    this.stopping = true
    this.releaseSenders()
    this.metrics.tasks.set({ state: 'running' }, 0)
  }

  /** Leaving `running` settles the `idle()` waiters: they reject, naming the state. */
  protected override onTransition(next: StreamsState): void {
    if (next !== 'running') this.settleIdleWaiters()
  }

  // --- interactive queries -------------------------------------------------------------------

  allHosts(): HostInfo[] {
    return this.config.applicationServer ? [this.config.applicationServer] : []
  }

  /** Always local: one process holds every task. */
  queryMetadataForKey<K>(storeName: string, key: K, keySerde: Serde<K>): KeyQueryMetadata {
    if (this.stores.isGlobal(storeName)) return { active: this.config.applicationServer, partition: -1, local: true }
    const store = this.stores.find(storeName)
    return { active: this.config.applicationServer, partition: this.stores.partitionOf(store, keySerde.serialize(key)), local: true }
  }

  /** A read-only view of a key-value store over every task; reads run between the loop's batches and commits. */
  keyValueStore<K, V>(storeName: string): ReadOnlyKeyValueStore<K, V> {
    if (this.stores.isGlobal(storeName)) {
      return globalKeyValueView<K, V>(this.localTasks, storeName, () => this.tasks.globalStore(storeName) as GlobalKeyValueStore<K, V> | undefined)
    }
    return keyValueView<K, V>(this.localTasks, this.stores.target<K>(storeName, 'key-value'))
  }

  windowStore<K, V>(storeName: string): ReadOnlyWindowStore<K, V> {
    return windowView<K, V>(this.localTasks, this.stores.target<K>(storeName, 'window'))
  }

  /** Commits every task (see `StandaloneTasks.commit`); the loop's commit interval counts from here. */
  private commit(): Promise<void> {
    this.lastCommit = Date.now()
    return this.tasks.commit()
  }

  /** Why stores cannot be read now, or undefined while running (the tasks are open exactly then). */
  private unavailable(): string | undefined {
    switch (this.state) {
      case 'running':
        return undefined
      case 'created':
        return "not while the application is 'created'; call start() and wait for 'running'"
      case 'rebalancing':
        return "not while the application is 'rebalancing' (opening its stores); wait for 'running'"
      default:
        return `not while the application is '${this.state}' (shutting down or stopped); start a new instance to query it`
    }
  }

  // --- application records -------------------------------------------------------------------

  /**
   * Appends to a topic of the embedded log (created on first use). When the topology reads the
   * topic and is far behind (half the log's retention), resolves only once it has caught up, so a
   * fast producer cannot push unprocessed records out of the log.
   */
  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (this.state === 'not-running' || this.state === 'error') {
      throw new Error(`send('${topic}'): the application is '${this.state}'`)
    }
    const paced = this.sourceTopics.has(topic)
    // Checked every so many records, so one large send cannot push its own head out of the log.
    const checkEvery = Math.min(1000, this.senderHighWater)
    let sinceCheck = 0
    for (const r of records) {
      this.log.append(topic, {
        key: toBytes(r.key),
        value: toBytes(r.value),
        ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
        ...(r.headers === undefined ? {} : { headers: r.headers }),
      })
      if (paced && ++sinceCheck >= checkEvery) {
        sinceCheck = 0
        await this.caughtUp(topic)
      }
    }
    if (paced) await this.caughtUp(topic)
  }

  /** Waits while the topology is more than the high-water mark behind on `topic`. */
  private async caughtUp(topic: string): Promise<void> {
    while (this.state === 'running' && !this.stopping && this.tasks.lag(topic) > this.senderHighWater) {
      await new Promise<void>((resolve) => this.waitingSenders.push(resolve))
    }
  }

  consume(topic: string, options: ConsumeOptions, handler: BatchHandler): Promise<Consumption> {
    if (this.state === 'not-running' || this.state === 'pending-shutdown') {
      return Promise.reject(new Error(`consume('${topic}'): the application is '${this.state}'`))
    }
    const consumption = new LogConsumption({
      log: this.log,
      topic,
      groupId: options.groupId,
      from: options.from ?? 'earliest',
      handler,
      maxBatchRecords: this.config.maxBatchRecords,
      logger: this.logger.child({ consumer: options.groupId, topic }),
    })
    this.consumptions.add(consumption)
    return Promise.resolve({
      stop: async () => {
        this.consumptions.delete(consumption)
        await consumption.stop()
      },
    })
  }

  /** Pipes a JSON Lines stream (file, stdin) into `topic`: one record per line; see `pipeJsonLines`. */
  pipeJsonLines(stream: Readable, topic: string, options: JsonLinesOptions = {}): Promise<JsonLinesResult> {
    return pipeJsonLines(this, stream, topic, options)
  }

  /**
   * Resolves once every task has processed and committed everything in its input topics
   * (repartition topics included), e.g. after piping a file, before reading results. Checked after
   * each commit, so it takes up to `commitIntervalMs`.
   */
  idle(timeoutMs = 60_000): Promise<void> {
    if (this.isIdle()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (error: Error) => {
          clearTimeout(timer)
          reject(error)
        },
      }
      const timer = setTimeout(() => {
        this.idleWaiters.delete(waiter)
        reject(new Error(`idle(): input still unprocessed after ${timeoutMs} ms`))
      }, timeoutMs)
      this.idleWaiters.add(waiter)
    })
  }

  private isIdle(): boolean {
    if (this.state !== 'running') return false
    return this.tasks.allCommitted()
  }

  private settleIdleWaiters(): void {
    if (this.idleWaiters.size === 0) return
    const running = this.state === 'running'
    if (running && !this.isIdle()) return
    for (const waiter of this.idleWaiters) {
      if (running) waiter.resolve()
      else waiter.reject(new Error(`idle(): the application is '${this.state}'`))
    }
    this.idleWaiters.clear()
  }

  private releaseSenders(): void {
    if (this.waitingSenders.length === 0) return
    for (const resolve of this.waitingSenders.splice(0)) resolve()
  }
}

function toBytes(value: Buffer | string | null): Buffer | null {
  return value === null ? null : typeof value === 'string' ? Buffer.from(value) : value
}
