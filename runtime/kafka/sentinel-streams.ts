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
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import kafkajs, { type Admin, type Kafka, type LogEntry, type Producer } from 'kafkajs'
import pino from 'pino'
import type { Registry } from 'prom-client'
import { engines, StateDirectory } from '../../state/index.js'
import { resolvePartitions, type Topology, type TopologyPlan } from '../../topology/topology.js'
import { isTopicRef } from '../../topology/graph.js'
import { resolveConfig, type ResolvedStreamsConfig, type StreamsConfig } from '../config.js'
import { ensureInternalTopics } from '../internal-topics.js'
import type { ErrorPolicy } from '../task/records.js'
import { AdminPartitionCounts } from './partition-counts.js'
import { RuntimeMetrics } from './runtime-metrics.js'
import { StreamThread } from './stream-thread.js'

// kafkajs is CommonJS; Node's static analysis does not see these exports.
const { Kafka: KafkaClient, logLevel } = kafkajs

export type StreamsState = 'created' | 'rebalancing' | 'running' | 'pending-shutdown' | 'not-running' | 'error'

export type StateListener = (next: StreamsState, previous: StreamsState) => void

export interface SentinelStreamsOptions {
  /** Where metrics go (prom-client); none = not exported. */
  metrics?: Registry
  /** A pino logger, or `false` for silence. Default: pino at `SENTINEL_LOG_LEVEL` or `info`, to stderr. */
  logger?: pino.Logger | false
  /** What happens to a record that cannot be read or processed. Default `dlq`. */
  errorPolicy?: ErrorPolicy
}

const TRANSITIONS: Record<StreamsState, readonly StreamsState[]> = {
  created: ['rebalancing', 'pending-shutdown', 'error'],
  rebalancing: ['running', 'rebalancing', 'pending-shutdown', 'error'],
  running: ['rebalancing', 'pending-shutdown', 'error'],
  'pending-shutdown': ['not-running'],
  'not-running': [],
  error: ['pending-shutdown'],
}

/** The topology cannot run on this cluster as it is (missing topics, partition counts that do not fit). */
export class TopologyStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TopologyStartError'
  }
}

export class SentinelStreams {
  readonly config: ResolvedStreamsConfig
  readonly plan: TopologyPlan
  readonly metrics: RuntimeMetrics
  private currentState: StreamsState = 'created'
  private readonly listeners = new Set<StateListener>()
  private readonly log: pino.Logger
  private kafka: Kafka | undefined
  private admin: Admin | undefined
  private producer: Producer | undefined
  private thread: StreamThread | undefined
  private closing: Promise<void> | undefined

  /** Throws a `ConfigError` naming the field when the config is invalid. */
  constructor(
    private readonly topology: Topology,
    config: StreamsConfig,
    private readonly options: SentinelStreamsOptions = {},
  ) {
    this.config = resolveConfig(config)
    this.plan = topology.plan(this.config.applicationId)
    this.metrics = new RuntimeMetrics(options.metrics)
    this.log =
      options.logger === false
        ? pino({ level: 'silent' })
        : (options.logger ?? pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'info' }, pino.destination(2))).child({ app: this.config.applicationId })
  }

  get state(): StreamsState {
    return this.currentState
  }

  /** Calls `listener` on every state change; returns a function that removes it. */
  onStateChange(listener: StateListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Resolves when the state is `state`; rejects on `error`, or after `timeoutMs`. */
  waitForState(state: StreamsState, timeoutMs = 60_000): Promise<void> {
    if (this.currentState === state) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off()
        reject(new Error(`state did not become '${state}' within ${timeoutMs} ms (it is '${this.currentState}')`))
      }, timeoutMs)
      const off = this.onStateChange((next) => {
        if (next === state || (next === 'error' && state !== 'error')) {
          clearTimeout(timer)
          off()
          if (next === state) resolve()
          else reject(new Error(`the application went to 'error' while waiting for '${state}'`))
        }
      })
    })
  }

  /** Task ids this instance runs, with the changelog records each restored when it started. */
  tasks(): { id: string; state: string; restored: number }[] {
    return [...(this.thread?.ownedTasks.values() ?? [])].map((t) => ({ id: t.id, state: t.state, restored: t.restoredRecords }))
  }

  /**
   * Connects, checks the topics, creates the internal ones, and joins the group. Resolves once the
   * consumer is running (state `rebalancing`); tasks then restore and the state becomes `running`.
   */
  async start(): Promise<void> {
    if (this.currentState !== 'created') throw new Error(`start() called in state '${this.currentState}'; create a new instance to start again`)
    const { config } = this
    this.kafka = new KafkaClient({
      ...config.kafka,
      clientId: `${config.applicationId}-${hostname()}-${randomBytes(3).toString('hex')}`,
      brokers: config.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.kafkaLog(entry),
    })
    try {
      this.admin = this.kafka.admin()
      await this.admin.connect().catch((e: unknown) => {
        throw new TopologyStartError(
          `cannot reach Kafka at ${config.brokers.join(', ')}: ${(e as Error).message}. Check the brokers (--brokers or KAFKA_BROKERS), or start a local one with \`npm run kafka:start\`.`,
        )
      })
      const partitionCounts = new AdminPartitionCounts(this.admin)
      await this.checkTopics(partitionCounts)
      await this.prepareSerdes()
      this.producer = this.kafka.producer({ allowAutoTopicCreation: false })
      await this.producer.connect()
      const stateDirectory = new StateDirectory({ stateDir: config.stateDir, applicationId: config.applicationId, logger: this.log })
      this.thread = new StreamThread({
        config,
        topology: this.topology,
        plan: this.plan,
        kafka: this.kafka,
        admin: this.admin,
        producer: this.producer,
        engine: engines[config.storeEngine](),
        stateDirectory,
        partitionCounts,
        errorPolicy: this.options.errorPolicy ?? 'dlq',
        metrics: this.metrics,
        logger: this.log,
        onRebalance: (state) => this.transition(state),
        onFatal: (error) => this.fail(error),
      })
      this.transition('rebalancing')
      await this.thread.start()
    } catch (e) {
      await this.disconnect()
      this.transition('error')
      throw e
    }
  }

  private async checkTopics(partitionCounts: AdminPartitionCounts): Promise<void> {
    const admin = this.admin!
    const userSources = [...new Set(this.plan.subTopologies.flatMap((s) => s.userSourceTopics))]
    const internal = new Set(this.plan.internalTopics.map((t) => t.name))
    const userSinks = [...new Set(this.plan.subTopologies.flatMap((s) => s.sinkTopics))].filter((t) => !internal.has(t))
    const existing = new Set(await admin.listTopics())
    const missingSources = userSources.filter((t) => !existing.has(t))
    if (missingSources.length > 0) {
      throw new TopologyStartError(`source topic(s) ${missingSources.map((t) => `'${t}'`).join(', ')} do not exist. Create them (with the partition count you want to scale to) before starting.`)
    }
    const missingSinks = userSinks.filter((t) => !existing.has(t))
    if (missingSinks.length > 0) {
      throw new TopologyStartError(`output topic(s) ${missingSinks.map((t) => `'${t}'`).join(', ')} do not exist. Create them before starting: sentinel-streams does not rely on topic auto-creation.`)
    }
    await partitionCounts.load(userSources)
    let partitions: ReturnType<typeof resolvePartitions>
    try {
      partitions = resolvePartitions(this.plan, (topic) => partitionCounts.get(topic))
    } catch (e) {
      throw new TopologyStartError((e as Error).message, { cause: e })
    }
    const internalTopics = this.plan.internalTopics.map((spec) => ({ ...spec, partitions: partitions.topicPartitions.get(spec.name)! }))
    const created = await ensureInternalTopics(admin, internalTopics)
    if (created.length > 0) this.log.info({ topics: created }, 'created internal topics')
  }

  /** One-off async serde work (e.g. Schema Registry ids) before the first record is written. */
  private async prepareSerdes(): Promise<void> {
    for (const sub of this.topology.subTopologies) {
      for (const sink of sub.sinks) {
        if (!isTopicRef(sink.topic)) continue
        const topic = this.plan.topicName(sink.topic)
        await sink.key.prepare?.(topic)
        await sink.value.prepare?.(topic)
      }
    }
  }

  /** Graceful shutdown: stop fetching, flush and commit, write checkpoints, leave the group. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.currentState === 'not-running') return
      this.transition('pending-shutdown')
      try {
        await this.thread?.stop()
      } catch (e) {
        this.log.error({ err: e }, 'error while stopping')
      } finally {
        await this.disconnect()
        this.transition('not-running')
      }
    })()
    return this.closing
  }

  private async disconnect(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined)
    await this.admin?.disconnect().catch(() => undefined)
  }

  private fail(error: Error): void {
    if (this.currentState === 'error' || this.currentState === 'pending-shutdown' || this.currentState === 'not-running') return
    this.log.error({ err: error }, 'stream processing failed: shutting down this instance')
    this.transition('error')
    void this.close()
  }

  private transition(next: StreamsState): void {
    const previous = this.currentState
    if (previous === next && next !== 'rebalancing') return
    if (!TRANSITIONS[previous].includes(next)) return
    this.currentState = next
    this.log.info({ from: previous, to: next }, 'state change')
    for (const listener of this.listeners) listener(next, previous)
  }

  private kafkaLog(entry: LogEntry): void {
    const { message, ...extra } = entry.log
    const level = entry.level === logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : 'debug'
    this.log[level]({ kafkajs: entry.namespace, ...extra }, message)
  }
}
