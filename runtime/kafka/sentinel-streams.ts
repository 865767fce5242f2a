/**
 * A topology running on Kafka: the library's `KafkaStreams`.
 *
 *   const app = new SentinelStreams(topology, { applicationId: 'llm-sentinel', brokers: 'localhost:9092' })
 *   app.onStateChange((state) => console.log(state))
 *   await app.start()
 *   ...
 *   await app.close()
 *
 * Instances started with the same `applicationId` share the work: each source partition number is a
 * task, and tasks (with their state) move between instances as they join and leave.
 *
 * As a `StreamsRuntime` it also serves the application around the topology: interactive queries of
 * the local stores (`keyValueStore`, `windowStore`), which instance holds a key (`queryMetadataForKey`,
 * by each instance's `applicationServer`), and `send` / `consume` of topics beside the topology.
 */
// First: kafkajs must load with this project's replacements of some of its modules (kafkajs-replacements.ts).
import './kafkajs-replacements.js'
import { readCommittedFilterInstalled } from '../../state/changelog/read-committed-filter.js'
import { sendMessagesFixInstalled } from './kafkajs-send-messages.js'
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import kafkajs, { type Admin, type ISocketFactory, type Kafka, type LogEntry, type Producer } from 'kafkajs'
import type pino from 'pino'
import type { Registry } from 'prom-client'
import type { Serde } from '../../schemas/serde.js'
import { CacheBudget, engineOfKind, type KeyValueStore, StateDirectory } from '../../state/index.js'
import { resolvePartitions, type Topology, type TopologyPlan } from '../../topology/topology.js'
import { isTopicRef } from '../../topology/graph.js'
import { taskIdString, type TopologyGeneration } from '../assignor.js'
import { resolveConfig, type ResolvedStreamsConfig, type StreamsConfig } from '../config.js'
import { keyValueView, windowView, type LocalTasks } from '../query/local-store-views.js'
import { StoreLocator } from '../query/store-locator.js'
import { globalKeyValueView } from '../query/global-store-view.js'
import { TaskHosts } from '../query/task-hosts.js'
import {
  type BatchHandler,
  type ConsumeOptions,
  type Consumption,
  type HostInfo,
  type KeyQueryMetadata,
  type OutgoingRecord,
  type ReadOnlyKeyValueStore,
  type ReadOnlyWindowStore,
  StoreNotQueryableError,
  type StreamsRuntime,
} from '../streams-runtime.js'
import { createTopicsWithLeaders, ensureInternalTopics } from '../internal-topics.js'
import type { ErrorPolicy } from '../task/records.js'
import { AdminPartitionCounts } from './partition-counts.js'
import { RuntimeMetrics } from './runtime-metrics.js'
import { RuntimeLifecycle, runtimeLogger } from '../runtime-lifecycle.js'

export type { StateListener, StreamsState } from '../streams-state.js'
import { kafkajsLog } from './kafkajs-log.js'
import { StreamThread } from './stream-thread.js'
import { GlobalConsumer } from './global-consumer.js'
import { TopicReader } from './topic-reader.js'
import type { ProducerConnection } from './producer-connection.js'
import { TopicWriter } from './topic-writer.js'

// kafkajs is CommonJS; Node's static analysis does not see these exports.
const { Kafka: KafkaClient, Partitioners, logLevel } = kafkajs

export interface SentinelStreamsOptions {
  /** Where metrics go (prom-client); none = not exported. */
  metrics?: Registry
  /** A pino logger, or `false` for silence. Default: pino at `SENTINEL_LOG_LEVEL` or `info`, to stderr. */
  logger?: pino.Logger | false
  /** What happens to a record that cannot be read or processed. Default `dlq`. */
  errorPolicy?: ErrorPolicy
  /**
   * Appended to this instance's kafkajs client id (`<applicationId>-<host>-<random><suffix>`), so
   * broker logs and the group's member list tell apart instances of one host: the CLI's
   * `--threads` gives its thread i the suffix `-t<i>`.
   */
  clientIdSuffix?: string
  /**
   * Awaited once everything else has started (topics checked, producer and consumer connected,
   * global tables loaded), just before the consumer joins the group. Instances of one host that
   * start together can wait here for each other and join at once: with kafkajs' eager rebalancing
   * each member that joins later revokes every task of those already processing. The CLI's
   * `--threads` holds its threads here until all have arrived.
   */
  beforeJoin?: () => Promise<void>
  /**
   * The topology's generation, for an application that replaces its topology while running
   * (`replaceTopology`): members on another generation get no tasks until they switch too.
   */
  topologyGeneration?: TopologyGeneration
}

/** The topology cannot run on this cluster as it is (missing topics, partition counts that do not fit). */
export class TopologyStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TopologyStartError'
  }
}

export class SentinelStreams extends RuntimeLifecycle implements StreamsRuntime {
  readonly mode = 'kafka' as const
  readonly config: ResolvedStreamsConfig
  readonly metrics: RuntimeMetrics
  private topology: Topology
  private currentPlan: TopologyPlan
  private generation: TopologyGeneration | undefined
  /** A replaceTopology under way; close() waits for it. */
  private replacing: Promise<void> | undefined
  private kafka: Kafka | undefined
  private admin: Admin | undefined
  private producer: Producer | undefined
  /** Global tables: restored before the stream thread starts, closed after it stops. */
  private globals: GlobalConsumer | undefined
  private thread: StreamThread | undefined
  /** Tasks per sub-topology, known once start() has read the source topics' partition counts. */
  private tasksPerSubtopology: ReadonlyMap<number, number> | undefined
  private readonly taskHosts = new TaskHosts()
  private stores: StoreLocator
  private readonly localTasks: LocalTasks
  /** Made by start() and kept across replaceTopology. */
  private running: { stateDirectory: StateDirectory; engine: ReturnType<typeof engineOfKind>; cacheBudget: CacheBudget; partitionCounts: AdminPartitionCounts } | undefined
  private readonly writer = new TopicWriter(() => this.client())
  private readonly readers = new Set<TopicReader>()

  /** Throws a `ConfigError` naming the field when the config is invalid. */
  constructor(
    topology: Topology,
    config: StreamsConfig,
    private readonly options: SentinelStreamsOptions = {},
  ) {
    const resolved = resolveConfig(config)
    super(runtimeLogger(options.logger, resolved.applicationId))
    this.config = resolved
    this.topology = topology
    this.currentPlan = topology.plan(this.config.applicationId)
    this.generation = options.topologyGeneration ?? topology.generation
    this.metrics = new RuntimeMetrics(options.metrics)
    this.stores = new StoreLocator(this.plan, () => this.tasksPerSubtopology)
    this.localTasks = {
      read: (read) => {
        const thread = this.thread
        if (!thread) return Promise.reject(this.notServing())
        return thread.read(read)
      },
      task: (id) => this.thread?.ownedTasks.get(id),
      tasksOf: (subtopology) => this.thread?.tasksOf(subtopology) ?? [],
      unavailable: () => this.unavailable(),
      hostOf: (id) => {
        const host = this.taskHosts.hostOf(id)
        // The last map may still name this instance for a task it just gave away: no useful address then.
        const self = this.config.applicationServer
        return host && self && host.host === self.host && host.port === self.port ? null : host
      },
    }
  }

  get applicationId(): string {
    return this.config.applicationId
  }

  /** The plan of the topology running now (it changes with replaceTopology). */
  get plan(): TopologyPlan {
    return this.currentPlan
  }

  /** The generation of the topology running now, if the application versions it. */
  get topologyGeneration(): TopologyGeneration | undefined {
    return this.generation
  }

  get hostInfo(): HostInfo | null {
    return this.config.applicationServer ? { ...this.config.applicationServer } : null
  }

  /**
   * Every instance with an `applicationServer`, as of the last assignment (this one included once it
   * has one). Before the first assignment: this instance alone, if it has an address.
   */
  allHosts(): HostInfo[] {
    if (this.taskHosts.assigned) return this.taskHosts.all()
    return this.hostInfo ? [this.hostInfo] : []
  }

  /**
   * Which instance holds `key` in store `storeName`: the key is serialized with `keySerde` and
   * partitioned as the producer partitions records (murmur2), over the partition count of the store's
   * sub-topology. `active` comes from the last assignment's map (stale while a rebalance runs; null
   * before the first assignment, or when the owner has no `applicationServer`); `local` says whether
   * this instance runs the key's task now. Throws `StoreNotQueryableError` for an unknown store or
   * before start().
   */
  queryMetadataForKey<K>(storeName: string, key: K, keySerde: Serde<K>): KeyQueryMetadata {
    // Every instance holds every row of a global table (as Kafka Streams answers: the local host).
    if (this.stores.isGlobal(storeName)) return { active: this.hostInfo, partition: -1, local: true }
    const store = this.stores.find(storeName)
    const partition = this.stores.partitionOf(store, keySerde.serialize(key))
    const task = taskIdString({ subtopology: store.subtopology, partition })
    return { active: this.taskHosts.hostOf(task), partition, local: this.thread?.ownedTasks.has(task) ?? false }
  }

  /**
   * A read-only view of a key-value store over this instance's running tasks. A `get` of a key whose
   * task is elsewhere, restoring, or moving rejects with `StoreNotQueryableError` saying why.
   */
  keyValueStore<K, V>(storeName: string): ReadOnlyKeyValueStore<K, V> {
    if (this.stores.isGlobal(storeName)) {
      this.checkServing(storeName)
      return globalKeyValueView<K, V>(this.localTasks, storeName, () => this.globals?.stores.get(storeName) as KeyValueStore<K, V> | undefined)
    }
    const target = this.stores.target<K>(storeName, 'key-value')
    this.checkServing(storeName)
    return keyValueView<K, V>(this.localTasks, target)
  }

  windowStore<K, V>(storeName: string): ReadOnlyWindowStore<K, V> {
    const target = this.stores.target<K>(storeName, 'window')
    this.checkServing(storeName)
    return windowView<K, V>(this.localTasks, target)
  }

  /** Writes records to a topic with the instance's idempotent producer (acks from all in-sync replicas). */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (this.closeRequested) return Promise.reject(new Error(`send('${topic}') after close(): this instance is closed`))
    return this.writer.send(topic, records)
  }

  /** Reads a topic in its own consumer group; offsets are committed after `handler` resolves, a throwing handler gets the batch again. */
  async consume(topic: string, options: ConsumeOptions, handler: BatchHandler): Promise<Consumption> {
    if (this.closeRequested) throw new Error(`consume('${topic}') after close(): this instance is closed`)
    const reader = new TopicReader({ kafka: this.client(), topic, options, handler, logger: this.logger })
    await reader.start()
    this.readers.add(reader)
    return {
      stop: async () => {
        this.readers.delete(reader)
        await reader.stop()
      },
    }
  }

  private unavailable(): string | undefined {
    switch (this.state) {
      case 'created':
        return 'the instance has not been started; call start() first'
      case 'pending-shutdown':
      case 'not-running':
        return 'the instance is shutting down or closed; query another instance'
      case 'error':
        return 'the instance failed (state error); see its logs, and query another instance'
      default:
        return undefined
    }
  }

  private notServing(): Error {
    return new StoreNotQueryableError(`stores cannot be queried: ${this.unavailable() ?? 'the instance has no stream thread yet; retry shortly'}`)
  }

  private checkServing(storeName: string): void {
    const why = this.unavailable()
    if (why !== undefined) throw new StoreNotQueryableError(`store '${storeName}' cannot be queried: ${why}`)
  }

  /** The kafkajs client, made on first use: `send` and `consume` may run before start(). */
  private client(): Kafka {
    this.kafka ??= this.newClient()
    return this.kafka
  }

  /** kafkajs' logs, shared by every client of this instance so its rate limit is per instance. */
  private kafkaLog: ((entry: LogEntry) => void) | undefined
  /** One id for every client of this instance, so broker logs and quotas see one application instance. */
  private clientId: string | undefined

  private instanceClientId(): string {
    this.clientId ??= `${this.config.applicationId}-${hostname()}-${randomBytes(3).toString('hex')}${this.options.clientIdSuffix ?? ''}`
    return this.clientId
  }

  /**
   * This instance's brokers, client id and kafkajs settings as plain data, for a producer in another
   * thread of the process (the LLM-Sentinel ingest worker). Null when the settings cannot be copied
   * to a thread: they hold functions (an OAuth token provider, a socket factory, an authentication
   * provider); such a thread writes through `send` instead.
   */
  producerConnection(): ProducerConnection | null {
    const connection: ProducerConnection = { brokers: this.config.brokers, clientId: this.instanceClientId(), kafka: this.config.kafka }
    try {
      return structuredClone(connection)
    } catch {
      return null
    }
  }

  /** A kafkajs client of this instance; `socketFactory` replaces the configured one (a task's revocable producer). */
  private newClient(socketFactory?: ISocketFactory): Kafka {
    const { config } = this
    return new KafkaClient({
      ...config.kafka,
      ...(socketFactory ? { socketFactory } : {}),
      clientId: this.instanceClientId(),
      brokers: config.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => (this.kafkaLog ??= kafkajsLog({ logger: this.logger })),
    })
  }

  /** Task ids this instance runs, with the changelog records each restored when it started. */
  tasks(): { id: string; state: string; restored: number }[] {
    return [...(this.thread?.ownedTasks.values() ?? [])].map((t) => ({ id: t.id, state: t.state, restored: t.restoredRecords }))
  }

  /** Global tables on this instance: rows held, and records restored at start (only the tail after a checkpoint). */
  globalTables(): { store: string; rows: number; restored: number }[] {
    const globals = this.globals
    if (!globals) return []
    return [...globals.stores].map(([store, s]) => ({ store, rows: s.size, restored: globals.restored.get(store) ?? 0 }))
  }

  /**
   * Connects, checks the topics, creates the internal ones, and joins the group. Resolves once the
   * consumer is running (state `rebalancing`); tasks then restore and the state becomes `running`.
   */
  async start(): Promise<void> {
    this.checkStartable()
    const { config } = this
    const kafka = this.client()
    try {
      this.admin = kafka.admin()
      await this.admin.connect().catch((e: unknown) => {
        throw new TopologyStartError(
          `cannot reach Kafka at ${config.brokers.join(', ')}: ${(e as Error).message}. Check the brokers (--brokers or KAFKA_BROKERS), or start a local one with \`npm run kafka:start\`.`,
        )
      })
      if (config.processingGuarantee === 'exactly-once' && !readCommittedFilterInstalled()) {
        this.logger.warn('kafkajs was loaded before sentinel-streams, so its own read_committed filter is in use, which shows records of some aborted transactions (restores, repartition topics): import sentinel-streams before kafkajs')
      }
      if (config.processingGuarantee === 'exactly-once' && !sendMessagesFixInstalled()) {
        this.logger.warn('kafkajs was loaded before sentinel-streams, so its own producer send is in use, which can write a transaction\'s records twice when a leader broker fails mid-send: import sentinel-streams before kafkajs')
      }
      const partitionCounts = new AdminPartitionCounts(this.admin)
      await this.checkTopics(partitionCounts)
      await this.prepareSerdes()
      this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
      await this.producer.connect()
      const stateDirectory = new StateDirectory({ stateDir: config.stateDir, applicationId: config.applicationId, logger: this.logger })
      const engine = engineOfKind(config.storeEngine, config)
      this.metrics.watchEngine(engine)
      const cacheBudget = new CacheBudget(config.cacheMaxBytes)
      this.metrics.watchCacheBudget(cacheBudget)
      this.running = { stateDirectory, engine, cacheBudget, partitionCounts }
      this.transition('rebalancing')
      await this.startThread()
    } catch (e) {
      await this.disconnect()
      this.transition('error')
      throw e
    }
  }

  /** The global tables, then the stream thread on the current topology: what start() and replaceTopology() share. */
  private async startThread(): Promise<void> {
    const { config } = this
    const kafka = this.client()
    const { stateDirectory, engine, cacheBudget, partitionCounts } = this.running!
    // Before any task exists: no task may read a global table that is still loading.
    if (this.plan.globalStores.length > 0) {
      this.globals = await GlobalConsumer.start({
        kafka,
        plan: this.plan,
        stateDir: config.stateDir,
        engine,
        logger: this.logger,
        ...(this.options.metrics ? { metrics: this.options.metrics } : {}),
        checkpointIntervalMs: config.commitIntervalMs,
        onFatal: (error) => this.fail(error),
      })
    }
    this.thread = new StreamThread({
      config,
      topology: this.topology,
      plan: this.plan,
      kafka,
      clientWithSockets: (socketFactory) => this.newClient(socketFactory),
      admin: this.admin!,
      producer: this.producer!,
      engine,
      cacheBudget,
      globalStores: this.globals?.stores ?? new Map(),
      stateDirectory,
      partitionCounts,
      errorPolicy: this.options.errorPolicy ?? 'dlq',
      metrics: this.metrics,
      logger: this.logger,
      onRebalance: (state) => this.transition(state),
      onFatal: (error) => this.fail(error),
      onHostMap: (map) => this.taskHosts.update(map),
      ...(this.options.beforeJoin ? { beforeJoin: this.options.beforeJoin } : {}),
      ...(this.generation ? { topologyGeneration: this.generation } : {}),
    })
    await this.thread.start()
  }

  /**
   * Runs `next` (tagged with `versioned`) in place of the current topology, without stopping the instance: `send`, `consume`
   * and the store views go on (a view of a store the new topology lacks then refuses, naming it).
   * The steps:
   * 1. the stream thread stops as on close(): flush, commit, checkpoints, leave the group;
   * 2. the global tables close (the new topology may read others);
   * 3. the new topology's topics are checked and its internal topics created;
   * 4. the global tables load again, and a new stream thread joins the group with `next`'s generation.
   * Stores whose name and shape the new topology keeps restore from their local state and
   * checkpoint, so they lose nothing; a store it names anew starts empty. Every instance of the
   * application must switch: until one does, the leader gives it no tasks (`membersOnTarget`), so no
   * task runs under two topologies. A failure moves the instance to `error`, as a failed start does.
   */
  replaceTopology(next: Topology): Promise<void> {
    const generation = next.generation
    if (generation === undefined || this.generation === undefined) {
      return Promise.reject(new Error('replaceTopology() needs versioned topologies, the running one and the next (topology.versioned(configVersion)), so that members can tell them apart'))
    }
    if (this.state !== 'running' && this.state !== 'rebalancing') {
      return Promise.reject(new Error(`replaceTopology() needs a started instance (state '${this.state}')`))
    }
    const previous = this.replacing ?? Promise.resolve()
    const replacing = previous.then(() => this.switchTopology(next, generation))
    this.replacing = replacing.catch(() => undefined)
    return replacing
  }

  private async switchTopology(next: Topology, generation: TopologyGeneration): Promise<void> {
    if (this.closeRequested) return
    const nextPlan = next.plan(this.config.applicationId)
    this.logger.info({ from: this.generation, to: generation }, 'replacing the topology: stopping the stream thread (flush, commit, leave the group)')
    this.transition('rebalancing')
    try {
      await this.thread?.stop()
      this.thread = undefined
      await this.globals?.close()
      this.globals = undefined
      this.topology = next
      this.currentPlan = nextPlan
      this.generation = generation
      this.stores = new StoreLocator(this.plan, () => this.tasksPerSubtopology)
      await this.checkTopics(this.running!.partitionCounts)
      await this.prepareSerdes()
      if (this.closeRequested) return
      await this.startThread()
      this.logger.info({ generation }, 'topology replaced: the new stream thread joined the group')
    } catch (e) {
      this.fail(e as Error)
      throw e
    }
  }

  private async checkTopics(partitionCounts: AdminPartitionCounts): Promise<void> {
    const admin = this.admin!
    const userSources = [...new Set(this.plan.subtopologies.flatMap((s) => s.userSourceTopics))]
    const globalSources = this.plan.globalStores.map((g) => g.topic)
    const internal = new Set(this.plan.internalTopics.map((t) => t.name))
    const userSinks = [...new Set(this.plan.subtopologies.flatMap((s) => s.sinkTopics))].filter((t) => !internal.has(t))
    const existing = new Set(await admin.listTopics())
    const missingSources = [...userSources, ...globalSources].filter((t) => !existing.has(t))
    const missingSinks = userSinks.filter((t) => !existing.has(t))
    const create = this.config.createMissingTopics
    if (create !== null && missingSources.length + missingSinks.length > 0) {
      const topics = [...new Set([...missingSources, ...missingSinks])]
      await createTopicsWithLeaders(admin, topics.map((topic) => ({ topic, numPartitions: create.partitions, replicationFactor: create.replicationFactor ?? -1 })))
      this.logger.info({ topics, ...create }, 'created missing topics (createMissingTopics)')
    } else {
      const hint = 'or set createMissingTopics: { partitions: N } to have them created at start'
      if (missingSources.length > 0) {
        throw new TopologyStartError(`source topic(s) ${missingSources.map((t) => `'${t}'`).join(', ')} do not exist. Create them (with the partition count you want to scale to) before starting, ${hint}.`)
      }
      if (missingSinks.length > 0) {
        throw new TopologyStartError(`output topic(s) ${missingSinks.map((t) => `'${t}'`).join(', ')} do not exist. Create them before starting (sentinel-streams does not rely on broker-side auto-creation), ${hint}.`)
      }
    }
    await partitionCounts.load(userSources)
    let partitions: ReturnType<typeof resolvePartitions>
    try {
      partitions = resolvePartitions(this.plan, (topic) => partitionCounts.get(topic))
    } catch (e) {
      throw new TopologyStartError((e as Error).message, { cause: e })
    }
    this.tasksPerSubtopology = partitions.tasksPerSubtopology
    const internalTopics = this.plan.internalTopics.map((spec) => ({ ...spec, partitions: partitions.topicPartitions.get(spec.name)! }))
    const created = await ensureInternalTopics(admin, internalTopics)
    if (created.length > 0) this.logger.info({ topics: created }, 'created internal topics')
  }

  /** One-off async serde work (e.g. Schema Registry ids) before the first record is written. */
  private async prepareSerdes(): Promise<void> {
    for (const sub of this.topology.subtopologies) {
      for (const sink of sub.sinks) {
        if (!isTopicRef(sink.topic)) continue
        const topic = this.plan.topicName(sink.topic)
        await sink.key.prepare?.(topic)
        await sink.value.prepare?.(topic)
      }
    }
  }

  /** Graceful shutdown (close()): stop fetching, flush and commit, write checkpoints, leave the group. */
  protected async shutdown(): Promise<void> {
    await this.replacing
    try {
      await this.thread?.stop()
    } finally {
      await this.disconnect()
    }
  }

  private async disconnect(): Promise<void> {
    // After the stream thread: its tasks read the global stores until they close.
    await this.globals?.close()
    await Promise.allSettled([...this.readers].map((r) => r.stop()))
    this.readers.clear()
    await this.writer.close()
    await this.producer?.disconnect().catch(() => undefined)
    await this.admin?.disconnect().catch(() => undefined)
  }
}
