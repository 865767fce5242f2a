/**
 * The consumer loop of one instance: one kafkajs consumer in the application's group, its batches,
 * punctuation and commit intervals; the tasks themselves belong to its `TaskManager`. Modelled on
 * Kafka Streams' StreamThread, shaped by kafkajs:
 *
 * - Assignment is by task (`taskAssignor`): co-partitioned, sticky, balanced.
 * - kafkajs has no revoke callback and rebalances eagerly. When it reports `REBALANCING` every task
 *   is committed (best effort: the group may already refuse it); when the new assignment arrives
 *   (`GROUP_JOIN`), tasks no longer ours are closed, kept tasks go on where they were (records below
 *   their position are skipped, so a commit that lost the race costs no double counting), and new
 *   tasks are restored beside the loop with their partitions paused. The join callback returns at
 *   once: a long restore never starves heartbeats (the failure mode of kafkajs issue 387).
 * - A member that was out of the group (its consumer restarted, a new member id, no heartbeat for a
 *   session timeout) keeps no task under at-least-once: `TaskManager.membershipLost`.
 * - Every change to tasks runs through one `SerialQueue`: batches, commits, punctuation, rebalances.
 * - Exactly-once liveness: a task revoked mid-initialisation has its producer cut off
 *   (`RevocableConnections`), a fenced task the group still gives us is re-initialised
 *   (`fenced-recovery.ts`), and a task assigned but not running past a bound is reported (`StallWatch`).
 */
import type { Batch, Consumer } from 'kafkajs'
import type pino from 'pino'
import { taskAssignor, type HostAssignment, type SubtopologySources, type TopologyGeneration } from '../assignor.js'
import { formatHostInfo } from '../config.js'
import { ReadGate } from '../query/read-gate.js'
import type { SourceRecord } from '../task/records.js'
import type { ActiveTask } from './active-task.js'
import { STREAM_THREAD_FETCH } from './fetch-limits.js'
import { SerialQueue } from './serial-queue.js'
import { HostMapRefresher } from './host-map-refresher.js'
import { StallWatch } from './stall-watch.js'
import { isFenced, TaskManager, type TaskManagerContext } from './task-manager.js'
import { StandbyTasks } from './standby-tasks.js'

/** How often directories of tasks no longer owned are looked at (each is kept for the state directory's cleanup delay). */
const STATE_CLEANUP_INTERVAL_MS = 60_000

export interface StreamThreadOptions extends TaskManagerContext {
  /** Each assignment's map of task → instance address, for interactive queries. */
  onHostMap(map: HostAssignment): void
  /** Awaited once the consumer is connected and subscribed, just before it joins the group. */
  beforeJoin?: () => Promise<void>
  /** The topology's generation, sent to the leader: members on another one get no tasks (`membersOnTarget`). */
  topologyGeneration?: TopologyGeneration
}

export class StreamThread {
  private readonly consumer: Consumer
  private readonly queue = new SerialQueue()
  private readonly adminCalls = new SerialQueue()
  /** Interactive-query reads, run between the jobs of `queue`. */
  private readonly readGate = new ReadGate(this.queue)
  private readonly hostMap: HostMapRefresher
  private readonly subtopologies: SubtopologySources[]
  /** The application's own topics (repartition, changelog): always read from their beginning. */
  private readonly internalTopics: ReadonlySet<string>
  private readonly log: pino.Logger
  private lastCommit = Date.now()
  private timer: NodeJS.Timeout | undefined
  private stopping = false
  private readonly tasks: TaskManager
  /** Warm copies of other instances' tasks; none unless `numStandbyReplicas` > 0. */
  private readonly standbys: StandbyTasks | undefined

  constructor(private readonly options: StreamThreadOptions) {
    const { config, plan } = options
    this.log = options.logger
    this.subtopologies = plan.subtopologies.map((s) => ({ id: s.id, topics: s.sourceTopics }))
    this.internalTopics = new Set(plan.internalTopics.map((t) => t.name))
    this.consumer = options.kafka.consumer({
      groupId: config.applicationId,
      partitionAssigners: [
        taskAssignor({
          subtopologies: this.subtopologies,
          localTasks: () => this.localTasks(),
          ...(config.applicationServer ? { applicationServer: formatHostInfo(config.applicationServer) } : {}),
          numStandbyReplicas: config.numStandbyReplicas,
          statefulSubtopologies: StandbyTasks.statefulSubtopologies(plan),
          ...(options.topologyGeneration ? { topology: options.topologyGeneration } : {}),
          onTopologyMismatch: ({ idle, target, leaderOnTarget }) =>
            this.log.warn(
              { idle, target, own: options.topologyGeneration, leaderOnTarget },
              leaderOnTarget
                ? 'members run another topology than the newest: they get no tasks until they switch to it'
                : 'this leader runs an older topology than another member: no member gets tasks until it switches (the next rebalance)',
            ),
        }),
      ],
      // Exactly-once reads its repartition topics as committed only; plain user input is unaffected.
      readUncommitted: false,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 10)),
      // Room in one fetch for every partition's batch, and a short fetch wait: see fetch-limits.ts.
      ...STREAM_THREAD_FETCH,
    })
    this.standbys =
      config.numStandbyReplicas > 0
        ? new StandbyTasks({
            kafka: options.kafka,
            applicationId: config.applicationId,
            plan,
            engine: options.engine,
            stateDirectory: options.stateDirectory,
            stateDir: config.stateDir,
            released: (id) => this.tasks.released(id),
            logger: this.log,
            registry: options.metrics.registry,
          })
        : undefined
    const stalls = new StallWatch({ boundMs: config.taskStallTimeoutMs, logger: this.log, gauge: options.metrics.stalledTasks })
    this.tasks = new TaskManager({
      thread: options,
      consumer: this.consumer,
      queue: this.queue,
      adminCalls: this.adminCalls,
      subtopologies: this.subtopologies,
      stalls,
      logger: this.log,
      ...(this.standbys ? { standbys: this.standbys } : {}),
    })
    this.hostMap = new HostMapRefresher({
      admin: options.admin,
      adminCalls: this.adminCalls,
      groupId: config.applicationId,
      logger: this.log,
      onHostMap: options.onHostMap,
      // A task active here needs no copy, whatever the (possibly older) list says.
      onStandbyTasks: (tasks) => this.standbys?.assign(tasks.filter((id) => !this.tasks.owned.has(id))),
    })
  }

  /** What this member tells the group leader, for sticky assignment. */
  private onDisk: string[] = []
  private localTasks(): { owned: string[]; onDisk: string[]; standby: string[] } {
    return { owned: [...this.tasks.owned.keys()], onDisk: this.onDisk, standby: this.standbys?.held ?? [] }
  }

  get ownedTasks(): ReadonlyMap<string, ActiveTask> {
    return this.tasks.owned
  }

  /** Runs an interactive-query read between batches, commits and rebalances (see `ReadGate`). */
  read<T>(read: () => Promise<T>): Promise<T> {
    return this.readGate.read(read)
  }

  /** This instance's tasks of one sub-topology, restoring ones included. */
  tasksOf(subtopology: number): ActiveTask[] {
    return [...this.tasks.owned.values()].filter((t) => t.subtopology === subtopology)
  }

  async start(): Promise<void> {
    const { consumer } = this
    this.onDisk = await this.options.stateDirectory.tasksOnDisk()
    await this.standbys?.start()
    consumer.on(consumer.events.REBALANCING, () => {
      this.tasks.rebalancing = true
      this.options.metrics.rebalances.inc()
      this.options.onRebalance('rebalancing')
      void this.queue.run(() => this.commit('rebalance')).catch((e: unknown) => this.log.warn({ err: e }, 'commit before rebalance failed; kept tasks resume from their own positions'))
    })
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      // A rebalance caused by other members leaving while we shut down: nothing new to take on.
      if (this.stopping) return
      this.tasks.onAssignment(event.payload.memberAssignment, event.payload.memberId)
      this.hostMap.refresh(event.payload.memberId, event.payload.memberAssignment)
    })
    consumer.on(consumer.events.HEARTBEAT, (event) => this.tasks.onHeartbeat(event.payload.memberId))
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) {
        this.options.onFatal(event.payload.error)
        return
      }
      // kafkajs restarts a crashed consumer (e.g. its fetch retries against a killed broker ran
      // out) by leaving and rejoining the group, and says nothing else: until the rejoin, other
      // members may own our tasks. As in a rebalance, a fence now means "moved", not "re-initialise"
      // (re-initialising would fence the new owner back, five times, then stop this instance).
      this.tasks.rebalancing = true
      this.log.warn({ err: event.payload.error }, 'consumer crashed; kafkajs restarts it and rejoins the group: tasks wait for the new assignment')
      this.tasks.membershipLost('the consumer crashed and rejoins the group')
    })
    await consumer.connect()
    // A source without committed offsets starts where autoOffsetReset says; the application's own
    // repartition topics always from their beginning (records may be there before their reader).
    const topics = [...new Set(this.subtopologies.flatMap((s) => s.topics))]
    const internal = topics.filter((t) => this.internalTopics.has(t))
    const user = topics.filter((t) => !this.internalTopics.has(t))
    if (internal.length > 0) await consumer.subscribe({ topics: internal, fromBeginning: true })
    if (user.length > 0) await consumer.subscribe({ topics: user, fromBeginning: this.options.config.autoOffsetReset === 'earliest' })
    await this.options.beforeJoin?.()
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.isEmpty()) return
        const seeks = this.tasks.seeks.count(batch.topic, batch.partition)
        // A seek of its partition while the batch waited on the queue makes it stale: left
        // unresolved, as kafkajs fetches again from the seek (`partition-seeks.ts`).
        await this.queue.run(() => (this.tasks.seeks.count(batch.topic, batch.partition) === seeks ? this.processBatch(batch, resolveOffset) : Promise.resolve()))
        await heartbeat()
      },
    })
    this.timer = setInterval(() => void this.tick(), Math.min(1_000, this.options.config.commitIntervalMs))
    this.timer.unref()
  }

  private async processBatch(batch: Batch, resolveOffset: (offset: string) => void): Promise<void> {
    const task = this.tasks.runningTaskOf(batch.topic, batch.partition)
    // Not (yet) running, or shutting down: leave the batch unresolved; it is fetched again later.
    if (!task || this.stopping) return
    const began = performance.now()
    const records: SourceRecord[] = batch.messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
      timestamp: Number(m.timestamp),
      headers: m.headers ?? {},
    }))
    try {
      await task.process(batch.topic, records)
    } catch (e) {
      if (isFenced(e)) {
        // Backpressure waited on the producer, and the producer was fenced.
        await this.tasks.fencedWhileProcessing(task, e)
        return
      }
      // The `fail` error policy, or a failure outside any record: stop rather than skip data.
      this.options.onFatal(e as Error)
      throw e
    }
    resolveOffset(batch.lastOffset())
    const { metrics } = this.options
    metrics.consumed.inc({ topic: batch.topic }, records.length)
    metrics.batchSeconds.observe((performance.now() - began) / 1000)
    metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()))
    if (Date.now() - this.lastCommit >= this.options.config.commitIntervalMs) await this.commit('interval')
  }

  private lastCleanup = Date.now()

  /** Wall-clock punctuation for every running task (closes windows of quiet partitions), and interval commits. */
  private async tick(): Promise<void> {
    if (this.stopping) return
    this.tasks.checkStalls()
    if (Date.now() - this.lastCleanup >= STATE_CLEANUP_INTERVAL_MS) {
      this.lastCleanup = Date.now()
      void this.cleanUpState()
    }
    await this.queue
      .run(async () => {
        const now = Date.now()
        for (const task of this.tasks.owned.values()) if (task.state === 'running') await task.punctuate(now)
        if (now - this.lastCommit >= this.options.config.commitIntervalMs) await this.commit('interval')
      })
      .catch((e: unknown) => this.log.warn({ err: e }, 'punctuation or commit failed'))
  }

  /**
   * Deletes state directories of tasks this instance has not owned for a while (their state lives
   * in the changelog; a task that comes back restores it), and refreshes what it tells the group
   * leader it has on disk.
   */
  private async cleanUpState(): Promise<void> {
    try {
      const removed = await this.options.stateDirectory.cleanUnowned(new Set([...this.tasks.owned.keys(), ...(this.standbys?.held ?? [])]))
      if (removed.length > 0) this.log.info({ tasks: removed }, 'removed state of tasks no longer owned')
      this.onDisk = await this.options.stateDirectory.tasksOnDisk()
    } catch (e) {
      this.log.warn({ err: e }, 'state directory cleanup failed')
    }
  }

  /** Must run on the queue. */
  private async commit(reason: string): Promise<void> {
    this.lastCommit = Date.now()
    await this.tasks.commit(reason)
  }

  /** Graceful stop: no more fetching, a last commit, tasks closed with checkpoints, group left. */
  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.hostMap.stop()
    if (this.timer) clearInterval(this.timer)
    // The last commit must happen while the consumer still runs: kafkajs silently drops an offset
    // commit made after `consumer.stop()`. Batches fetched meanwhile are left unprocessed (stopping).
    this.consumer.pause([...new Set(this.subtopologies.flatMap((s) => s.topics))].map((topic) => ({ topic })))
    await this.tasks.stop()
    await this.standbys?.stop()
    await this.consumer.disconnect()
  }
}
