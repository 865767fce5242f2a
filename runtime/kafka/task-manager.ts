/**
 * The tasks of one instance and everything that changes them (Kafka Streams' TaskManager): the
 * task maps, assignment changes, restore beside the consumer loop, re-initialisation after a failed
 * commit, recovery of a fenced task the group still gives here (`fenced-recovery.ts`), tasks lost
 * when this member was out of the group (`membershipLost`), and failed-commit counting. The
 * `StreamThread` is the loop that drives it; every method that changes tasks runs on the thread's
 * `SerialQueue`, except `onAssignment`, `onHeartbeat` and `membershipLost`, which queue their own work.
 *
 * Size: about 520 lines: assignment, restore, re-initialisation, fenced recovery and lost tasks all
 * change the same task maps, and each must see the others' changes at once (a task forgotten by one
 * is invisible to the next batch), so they stay in one place.
 */
import type { Consumer, Producer } from 'kafkajs'
import type pino from 'pino'
import { parseTaskId, tasksOfAssignment, type SubtopologySources } from '../assignor.js'
import { ActiveTask, type TaskServices } from './active-task.js'
import { commitTasks } from './commit.js'
import { decideOnFence, MAX_FENCED_RECOVERIES, taskOwnership } from './fenced-recovery.js'
import { TaskRevokedError } from './revocable-connections.js'
import { withCoordinatorRetry } from './coordinator-retry.js'
import type { SerialQueue } from './serial-queue.js'
import type { StallWatch } from './stall-watch.js'
import { TaskCountersExport } from './task-counters-export.js'
import { TaskHandover } from './task-handover.js'
import { PartitionSeeks } from './partition-seeks.js'
import { whenConsumerRuns } from './consumer-restart.js'
import { StartTogether } from './start-together.js'
import { commitMembershipError } from './group-membership-errors.js'
import type { StandbyTasks } from './standby-tasks.js'

/** Re-initialisations of one task after failed commits before the instance gives up. */
const MAX_REINITIALISATIONS = 2
/**
 * How long a task abandoned mid-send waits for its last write before it is restored again: past a
 * leader move (seconds) and kafkajs' retries of one request, short of holding a partition for minutes.
 */
export const ABANDONED_SENDS_BOUND_MS = 60_000

/** A newer producer with the task's transactional id exists: this instance is a zombie for it. */
export function isFenced(e: unknown): boolean {
  for (let err = e as { type?: string; cause?: unknown } | undefined; err; err = err.cause as typeof err) {
    if (err.type === 'PRODUCER_FENCED' || err.type === 'INVALID_PRODUCER_EPOCH') return true
  }
  return false
}

/** What the task manager (and the thread around it) is given by the runtime. */
export interface TaskManagerContext extends TaskServices {
  /** The instance's shared producer (at-least-once). */
  producer: Producer
  onRebalance(state: 'rebalancing' | 'running'): void
  onFatal(error: Error): void
}

/** What the task manager does to the consumer: pause and resume a task's partitions, seek, commit. */
export type ConsumerControl = Pick<Consumer, 'pause' | 'resume' | 'seek' | 'commitOffsets'>

export interface TaskManagerOptions {
  thread: TaskManagerContext
  consumer: ConsumerControl
  queue: SerialQueue
  adminCalls: SerialQueue
  subtopologies: readonly SubtopologySources[]
  stalls: StallWatch
  logger: pino.Logger
  /** Standby copies held here (`numStandbyReplicas` > 0): a task that becomes active here closes its standby first. */
  standbys?: Pick<StandbyTasks, 'held' | 'release'>
}

export class TaskManager {
  private readonly tasks = new Map<string, ActiveTask>()
  /** Topic-partition key → task id. */
  private readonly taskOfPartition = new Map<string, string>()
  private restoring = 0
  /** Restores in flight: a stop waits for them, so no task initialises against closed clients. */
  private readonly restores = new Set<Promise<void>>()
  /** Each task's restore, so a revoked one's end can be waited for by the task's next incarnation. */
  private readonly restoreOf = new WeakMap<ActiveTask, Promise<void>>()
  /** Revoked incarnations still closing: a task given back waits for them (`task-handover.ts`). */
  private readonly handover = new TaskHandover()
  /** Consecutive failed commits per task: a failure that persists stops the instance instead of looping. */
  private readonly failedCommits = new Map<string, number>()
  /** The tasks of the last assignment, and which one it was: a fenced task's recovery is for that assignment only. */
  private assigned: ReadonlySet<string> = new Set()
  private generation = 0
  private memberId = ''
  /** When the group last showed this member is in it (a join or a heartbeat): at-least-once commits check it. */
  private membershipProvenAt = 0
  /** Tasks were lost because nothing showed membership for a session timeout (`commit`). */
  private lostToSilence = false
  /** Between kafkajs' REBALANCING and the next GROUP_JOIN: the assignment is about to change. */
  rebalancing = false
  /** Consecutive fences per task, reset by a commit that carried offsets. */
  private readonly fences = new Map<string, number>()
  private readonly recoveryTimers = new Set<NodeJS.Timeout>()
  private stopping = false
  private readonly options: TaskManagerOptions['thread']
  private readonly consumer: ConsumerControl
  private readonly queue: SerialQueue
  private readonly adminCalls: SerialQueue
  private readonly subtopologies: readonly SubtopologySources[]
  private readonly stalls: StallWatch
  private readonly log: pino.Logger
  private readonly standbys: TaskManagerOptions['standbys']

  constructor(options: TaskManagerOptions) {
    this.standbys = options.standbys
    this.options = options.thread
    this.consumer = options.consumer
    this.queue = options.queue
    this.adminCalls = options.adminCalls
    this.subtopologies = options.subtopologies
    this.stalls = options.stalls
    this.log = options.logger
  }

  get owned(): ReadonlyMap<string, ActiveTask> {
    return this.tasks
  }

  /** Resolves once no revoked incarnation of the task holds its state directory here (a standby waits for it). */
  released(id: string): Promise<void> {
    return this.handover.released(id)
  }

  /** The running task that reads this topic-partition, if any. */
  runningTaskOf(topic: string, partition: number): ActiveTask | undefined {
    const id = this.taskOfPartition.get(`${topic}:${partition}`)
    const task = id === undefined ? undefined : this.tasks.get(id)
    return task?.state === 'running' ? task : undefined
  }

  /** Seeks of source partitions: a batch taken before one is not processed after it (`partition-seeks.ts`). */
  readonly seeks = new PartitionSeeks()

  private seek(topic: string, partition: number, offset: string): void {
    this.seeks.moved(topic, partition)
    this.consumer.seek({ topic, partition, offset })
  }

  /** Tasks the last assignment gave here that are not running past the bound are reported. */
  checkStalls(): void {
    // While a rebalance runs every task waits by design; the clock of a stalled one keeps going.
    if (!this.rebalancing) this.stalls.check(this.assigned, (id) => this.tasks.get(id)?.state === 'running')
  }

  /** A task whose producer was fenced while it processed a batch: dropped, then `onFenced`. */
  async fencedWhileProcessing(task: ActiveTask, err: unknown): Promise<void> {
    this.forget(task)
    await task.abandon()
    this.retireAbandoned(task)
    this.onFenced(task.id, err, 'process')
  }

  /**
   * Shutdown: no more recoveries, restores in flight finish, a last commit, then every task closes
   * with its checkpoint. Must run while the consumer still runs (kafkajs drops a later commit).
   */
  async stop(): Promise<void> {
    this.stopping = true
    for (const timer of this.recoveryTimers) clearTimeout(timer)
    this.recoveryTimers.clear()
    await Promise.allSettled([...this.restores])
    await this.queue.run(async () => {
      await this.commit('shutdown').catch((e: unknown) => this.log.warn({ err: e }, 'final commit failed'))
      for (const task of [...this.tasks.values()]) {
        this.forget(task)
        await task.close(this.options.config.applicationId).catch((e: unknown) => this.log.warn({ err: e, task: task.id }, 'closing a task failed'))
      }
    })
  }

  /** A new assignment (kafkajs' GROUP_JOIN): revoked tasks close, new ones restore beside the loop. */
  onAssignment(assignment: Record<string, number[]>, memberId: string): void {
    // A rebalance caused by other members leaving while we shut down: nothing new to take on.
    if (this.stopping) return
    // Another member id than last time: this member was out of the group (the coordinator forgot
    // it, e.g. while it moved), so the group may have given its tasks to another instance meanwhile.
    if (this.memberId !== '' && memberId !== this.memberId) this.membershipLost('rejoined the group under a new member id')
    this.lostToSilence = false
    this.membershipProvenAt = Date.now()
    const assigned = new Set(tasksOfAssignment(assignment, this.subtopologies))
    this.assigned = assigned
    this.generation++
    this.memberId = memberId
    this.rebalancing = false
    for (const id of this.fences.keys()) if (!assigned.has(id)) this.fences.delete(id)
    const revoked = [...this.tasks.keys()].filter((id) => !assigned.has(id))
    const added = [...assigned].filter((id) => !this.tasks.has(id))
    this.log.info({ assigned: [...assigned], added, revoked }, 'assignment received')

    const fresh = this.createPaused(added)

    // Forgotten at once, not in the queued job: a revoked task still restoring must see it before it
    // retries an initialisation, which would create its transactional producer again and fence the
    // new owner (a zombie that wins). `restore()` closes such a task when its initialisation ends.
    const revokedTasks = revoked.flatMap((id) => this.tasks.get(id) ?? [])
    for (const task of revokedTasks) {
      this.forget(task)
      // Forgetting is not enough: kafkajs may be retrying this task's initTransactions right now,
      // and a retry that lands after the new owner's would fence it. A running task keeps its
      // producer for the closing commit below.
      if (task.state === 'restoring') task.revoke()
    }
    const closing = this.queue.run(async () => {
      for (const task of revokedTasks) {
        if (task.state !== 'running') continue
        await task.close(this.options.config.applicationId).catch((e: unknown) => this.log.warn({ err: e, task: task.id }, 'closing a revoked task failed'))
      }
      this.updateTaskGauge()
      if (fresh.length === 0) this.options.onRebalance('running')
    })
    // A restoring task closes when its initialisation ends (`restore`), a running one in the job above.
    for (const task of revokedTasks) this.handover.retire(task.id, task.state === 'restoring' ? (this.restoreOf.get(task) ?? closing) : closing)
    this.startRestores(fresh)
  }

  /** New tasks, their partitions paused before any fetch: they wait for their restore. */
  private createPaused(ids: readonly string[]): ActiveTask[] {
    const fresh = ids.map((id) => this.createTask(id))
    const pause = fresh.flatMap((t) => t.sourceTopics.map((topic) => ({ topic, partitions: [t.partition] })))
    if (pause.length > 0) this.consumer.pause(pause)
    return fresh
  }

  private startRestores(fresh: readonly ActiveTask[]): void {
    // A standby of a task now active here hands over its stores and checkpoint: the restore replays only the tail.
    const held = new Set(this.standbys?.held ?? [])
    for (const task of fresh) if (held.has(task.id)) this.handover.retire(task.id, this.standbys!.release(task.id))
    const together = new StartTogether(fresh.map((t) => t.id))
    for (const task of fresh) this.startRestore(task, together)
  }

  /**
   * kafkajs' HEARTBEAT: the coordinator still knows this member in its current generation (a stale
   * one is refused), so the assignment stands. Tasks lost to silence (`commit`) while the group in
   * fact kept this member, as when its coordinator was down and the next one loaded the group with
   * its members, are taken on again: nobody else ran them.
   */
  onHeartbeat(memberId: string): void {
    this.membershipProvenAt = Date.now()
    if (!this.lostToSilence || this.stopping || this.rebalancing || memberId !== this.memberId) return
    this.lostToSilence = false
    const back = [...this.assigned].filter((id) => !this.tasks.has(id))
    if (back.length === 0) return
    this.log.info({ tasks: back }, 'still a member of the same generation after all: lost tasks taken on again')
    this.startRestores(this.createPaused(back))
  }

  /**
   * This member was out of the group for a while (kafkajs restarted its consumer, or rejoined under a
   * new member id): its tasks may have run on another instance meanwhile, which processed past them
   * and logged its own state. Exactly-once needs nothing here: that owner's producer fenced ours, and
   * a fenced task re-initialises from the committed changelog. At-least-once has no fence, so a kept
   * task would go on from its own, older state and drop the other owner's updates (chaos: totals
   * short after a rolling broker restart). Its tasks are lost, as in Kafka Streams'
   * `onPartitionsLost`: closed without a flush or a commit (`ActiveTask.closeLost`), and a task the
   * group gives back restores again from its checkpoint, the other owner's changelog tail included.
   */
  membershipLost(reason: string): void {
    if (this.stopping || this.options.config.processingGuarantee === 'exactly-once') return
    const lost = [...this.tasks.values()]
    if (lost.length === 0) return
    this.log.warn({ tasks: lost.map((t) => t.id), reason }, 'tasks lost: this member was out of the group; closed without a commit, restored again if assigned back')
    for (const task of lost) {
      this.forget(task)
      if (task.state === 'restoring') task.revoke()
    }
    const closing = this.queue.run(async () => {
      for (const task of lost) {
        if (task.state !== 'running') continue
        await task.closeLost().catch((e: unknown) => this.log.warn({ err: e, task: task.id }, 'closing a lost task failed'))
      }
      this.updateTaskGauge()
    })
    for (const task of lost) {
      this.handover.retire(task.id, task.state === 'restoring' ? (this.restoreOf.get(task) ?? closing) : closing)
      this.retireAbandoned(task, closing)
    }
  }

  /**
   * A task closed dirty may still have a write in flight (kafkajs retrying it past a leader move);
   * its next incarnation here waits for that write to end (`ActiveTask.sendsSettled`), so whatever
   * it wrote is in the changelog the restore reads rather than landing after it.
   */
  private retireAbandoned(task: ActiveTask, closed: Promise<unknown> = Promise.resolve()): void {
    const settled = closed.then(async () => {
      if (!(await task.sendsSettled(ABANDONED_SENDS_BOUND_MS))) {
        this.log.warn({ task: task.id, waitedMs: ABANDONED_SENDS_BOUND_MS }, 'a write of the abandoned task is still in flight: restoring it anyway (a late write may leave its changelog behind its state until the key is written again)')
      }
    })
    this.handover.retire(task.id, settled)
  }

  private startRestore(task: ActiveTask, together?: StartTogether): void {
    const restoring = this.restore(task, together)
    this.restores.add(restoring)
    this.restoreOf.set(task, restoring)
    void restoring.finally(() => this.restores.delete(restoring))
  }

  private createTask(id: string): ActiveTask {
    const { subtopology, partition } = parseTaskId(id)
    const task = new ActiveTask({
      id,
      subtopology,
      partition,
      config: this.options.config,
      topology: this.options.topology,
      plan: this.options.plan,
      kafka: this.options.kafka,
      clientWithSockets: (socketFactory) => this.options.clientWithSockets(socketFactory),
      admin: this.options.admin,
      adminCalls: this.adminCalls,
      sharedProducer: this.options.producer,
      engine: this.options.engine,
      cacheBudget: this.options.cacheBudget,
      globalStores: this.options.globalStores,
      stateDirectory: this.options.stateDirectory,
      partitionCounts: this.options.partitionCounts,
      errorPolicy: this.options.errorPolicy,
      logger: this.log,
      metrics: this.options.metrics,
    })
    this.tasks.set(id, task)
    for (const topic of task.sourceTopics) this.taskOfPartition.set(`${topic}:${partition}`, id)
    return task
  }

  forget(task: ActiveTask): void {
    if (this.tasks.get(task.id) === task) this.tasks.delete(task.id)
    for (const topic of task.sourceTopics) {
      if (this.taskOfPartition.get(`${topic}:${task.partition}`) === task.id) this.taskOfPartition.delete(`${topic}:${task.partition}`)
    }
  }

  private async restore(task: ActiveTask, together?: StartTogether): Promise<void> {
    this.restoring++
    this.updateTaskGauge()
    try {
      // A revoked incarnation of this task may still hold its state directory here.
      await this.handover.released(task.id)
      await this.initializeWithRetries(task)
      together?.arrived(task.id)
      await together?.all()
      if (this.tasks.get(task.id) !== task || this.stopping) {
        // Revoked by a rebalance while restoring, or shutting down: its checkpoint lets the next owner resume.
        this.forget(task)
        await task.close(this.options.config.applicationId)
        return
      }
      // From the offsets committed before this instance fenced the previous owner (see ActiveTask).
      const started = await whenConsumerRuns(
        () => {
          for (const { topic, offset } of task.startOffsets()) this.seek(topic, task.partition, offset)
          this.consumer.resume(task.sourceTopics.map((topic) => ({ topic, partitions: [task.partition] })))
        },
        { stillWanted: () => this.tasks.get(task.id) === task && !this.stopping },
      )
      if (!started) {
        // Revoked while kafkajs restarted its consumer.
        this.forget(task)
        await task.close(this.options.config.applicationId)
        return
      }
      this.log.info({ task: task.id, restored: task.restoredRecords }, 'task running')
    } catch (e) {
      const revoked = this.tasks.get(task.id) !== task || this.stopping || task.revoked
      this.forget(task)
      await task.abandon()
      this.retireAbandoned(task)
      // A task revoked while it was initialising is no longer ours: its failure is not the instance's.
      if (revoked) {
        if (task.revoked || e instanceof TaskRevokedError) this.log.info({ task: task.id }, 'initialisation of a revoked task abandoned')
        else this.log.warn({ err: e, task: task.id }, 'initialisation of a revoked task failed; dropped')
        return
      }
      this.stalls.note(task.id, 'initialisation failed', e)
      this.log.error({ err: e, task: task.id }, 'task initialisation failed')
      this.options.onFatal(e as Error)
    } finally {
      together?.arrived(task.id)
      this.restoring--
      this.updateTaskGauge()
      if (this.restoring === 0 && !this.stopping) this.options.onRebalance('running')
    }
  }

  /** Transient broker errors (a leader moving, metadata lagging a new topic) get a few retries. */
  private async initializeWithRetries(task: ActiveTask, attempts = 5): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await task.initialize()
      } catch (e) {
        const retriable = (e as { retriable?: boolean }).retriable === true
        if (!retriable || attempt >= attempts || this.tasks.get(task.id) !== task || task.revoked) throw e
        this.stalls.note(task.id, 'initialisation retrying after a transient error', e)
        this.log.warn({ err: e, task: task.id, attempt }, 'task initialisation hit a transient error: retrying')
        await task.resetAfterFailedInit()
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt))
      }
    }
  }

  /** Commits every running task (`commit.ts`) and deals with those that failed. Must run on the queue. */
  async commit(reason: string): Promise<void> {
    // At-least-once has no fence: a member the coordinator has dropped (no heartbeat for a session
    // timeout: the process was paused, e.g. SIGSTOP, or starved) may have had its tasks given to
    // others, and this commit would flush state older than theirs into the changelog after theirs.
    const silentMs = Date.now() - this.membershipProvenAt
    if (this.membershipProvenAt > 0 && silentMs > this.options.config.sessionTimeoutMs && this.options.config.processingGuarantee === 'at-least-once' && this.tasks.size > 0) {
      this.lostToSilence = true
      this.membershipLost(`no heartbeat for ${silentMs} ms, past the session timeout: the group has likely given this member's tasks to others`)
      return
    }
    const running = [...this.tasks.values()].filter((t) => t.state === 'running')
    if (running.length === 0) return
    const began = performance.now()
    const { config } = this.options
    let result: Awaited<ReturnType<typeof commitTasks<ActiveTask>>>
    try {
      result = await commitTasks(running, {
        groupId: config.applicationId,
        exactlyOnce: config.processingGuarantee === 'exactly-once',
        commitOffsets: (offsets) => this.consumer.commitOffsets([...offsets]),
        writeCheckpoints: config.processingGuarantee === 'at-least-once',
      })
    } catch (e) {
      // At-least-once offsets the group refused: not this instance's failure (it used to stop here).
      const membership = commitMembershipError(e)
      if (membership === null) throw e
      if (membership === 'out') this.membershipLost(`the group refused the commit: this member is no longer in it (${(e as Error).message})`)
      else this.log.warn({ err: e, reason }, 'offsets not committed: the group is rebalancing; the next assignment decides which tasks stay')
      return
    }
    const { committed, failed } = result
    for (const { task, error: e } of failed) {
      this.forget(task)
      await task.abandon()
      this.retireAbandoned(task)
      if (isFenced(e)) {
        this.onFenced(task.id, e, reason)
      } else if ((this.failedCommits.get(task.id) ?? 0) >= MAX_REINITIALISATIONS) {
        this.log.error({ err: e, task: task.id, reason }, `task commit failed ${MAX_REINITIALISATIONS + 1} times in a row: stopping`)
        this.options.onFatal(e as Error)
      } else {
        this.failedCommits.set(task.id, (this.failedCommits.get(task.id) ?? 0) + 1)
        this.log.error({ err: e, task: task.id, reason }, 'task commit failed: re-initialising it from its changelog and last committed offsets')
        await this.reinitialize(task.id).catch((err: unknown) => this.options.onFatal(err as Error))
      }
    }
    for (const { task, offsets } of committed) {
      this.failedCommits.delete(task.id)
      // Offsets in a committed transaction: the task's producer holds the current epoch.
      if (offsets.length > 0) this.fences.delete(task.id)
    }
    this.exportTaskCounters(running)
    this.options.metrics.commitSeconds.observe((performance.now() - began) / 1000)
    this.log.debug({ reason, tasks: committed.length, ms: Math.round(performance.now() - began) }, 'committed')
  }

  /**
   * Starts a task again after a failed commit: its uncommitted work is gone with the aborted
   * transaction (or is reprocessed, at-least-once), so its partitions go back to the last committed
   * offsets and its stores restore from the changelog, as on a new assignment.
   */
  private async reinitialize(id: string): Promise<void> {
    const task = this.createTask(id)
    const partitions = task.sourceTopics.map((topic) => ({ topic, partitions: [task.partition] }))
    this.consumer.pause(partitions)
    const { admin, config } = this.options
    const committed = await this.adminCalls.run(() => withCoordinatorRetry(() => admin.fetchOffsets({ groupId: config.applicationId, topics: [...task.sourceTopics] })))
    for (const { topic, partitions: offsets } of committed) {
      const offset = offsets.find((p) => p.partition === task.partition)?.offset ?? '-1'
      // No committed offset yet: from the beginning for now; the task seeks again once running
      // (ActiveTask.startOffsets, which applies autoOffsetReset).
      this.seek(topic, task.partition, offset === '-1' ? '0' : offset)
    }
    this.startRestore(task)
  }

  /**
   * A task's producer was fenced; the task is already dropped. Either it moved (we missed a
   * rebalance, the group will tell us) or a zombie initialisation elsewhere fenced it while the group
   * still gives it to us, in which case no rebalance will come: see `fenced-recovery.ts`.
   */
  onFenced(id: string, err: unknown, reason: string): void {
    if (this.stopping) {
      this.log.warn({ err, task: id, reason }, 'task fenced while shutting down: dropped it')
      return
    }
    // Its batches are not processed meanwhile; paused, the consumer stops fetching them in a loop.
    const topics = this.subtopologies[parseTaskId(id).subtopology]?.topics ?? []
    this.consumer.pause(topics.map((topic) => ({ topic, partitions: [parseTaskId(id).partition] })))
    const attempt = (this.fences.get(id) ?? 0) + 1
    this.fences.set(id, attempt)
    const decision = decideOnFence({ assignedHere: this.assigned.has(id), rebalancing: this.rebalancing, attempt })
    switch (decision.action) {
      case 'wait-for-rebalance':
        this.stalls.note(id, 'fenced by a newer owner; waiting for the rebalance', err)
        this.log.warn({ err, task: id, reason }, 'task fenced by a newer owner: dropped it, waiting for the rebalance')
        return
      case 'give-up':
        this.stalls.note(id, `fenced ${decision.attempts + 1} times in a row`, err)
        this.log.error({ err, task: id, reason, attempts: decision.attempts }, `task fenced again after ${MAX_FENCED_RECOVERIES} re-initialisations: stopping this instance so the group moves its tasks`)
        this.options.onFatal(err as Error)
        return
      case 'reinitialize': {
        this.stalls.note(id, 'fenced while still assigned here; re-initialising', err)
        this.log.warn({ err, task: id, reason, attempt: decision.attempt, delayMs: decision.delayMs }, 'task fenced, but the group still assigns it to this instance: re-initialising it')
        const generation = this.generation
        const timer = setTimeout(() => {
          this.recoveryTimers.delete(timer)
          void this.queue.run(() => this.recoverFenced(id, generation, err)).catch((e: unknown) => this.options.onFatal(e as Error))
        }, decision.delayMs)
        this.recoveryTimers.add(timer)
      }
    }
  }

  /** Must run on the queue. */
  private async recoverFenced(id: string, generation: number, err: unknown): Promise<void> {
    // A rebalance since then decided afresh (a task still ours came back as a new one).
    if (this.stopping || generation !== this.generation || this.tasks.has(id)) return
    const { admin, config } = this.options
    const ownership = await this.adminCalls
      .run(() => taskOwnership({ admin, groupId: config.applicationId, memberId: this.memberId, task: id, subtopologies: this.subtopologies }))
      .catch((e: unknown) => {
        this.log.debug({ err: e, task: id }, 'reading the group assignment failed')
        return 'unknown' as const
      })
    if (ownership === 'not-ours') {
      // Our view is stale: kafkajs learns it at the next heartbeat and rejoins.
      this.stalls.note(id, 'fenced; the group coordinator gives it to another member, waiting for the rebalance', err)
      this.log.warn({ task: id }, 'fenced task belongs to another member now: waiting for the rebalance')
      return
    }
    if (ownership === 'unknown') {
      // A rebalance may be starting; if not, try again (counted, so this cannot loop forever).
      this.onFenced(id, err, 'ownership unknown')
      return
    }
    this.options.metrics.fencedRecoveries.inc()
    await this.reinitialize(id)
  }

  /** Task counters (late, DLQ, ...) as of the last commit, so Prometheus gets the increments. */
  private taskCounters: TaskCountersExport | undefined
  private exportTaskCounters(tasks: readonly ActiveTask[]): void {
    this.taskCounters ??= new TaskCountersExport(this.options.metrics)
    for (const task of tasks) this.taskCounters.export(task.id, task.metrics)
  }

  updateTaskGauge(): void {
    const running = [...this.tasks.values()].filter((t) => t.state === 'running').length
    this.options.metrics.tasks.set({ state: 'running' }, running)
    this.options.metrics.tasks.set({ state: 'restoring' }, this.restoring)
  }
}
