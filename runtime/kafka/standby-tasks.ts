/**
 * Standby tasks (Kafka Streams' `num.standby.replicas`): warm copies of other instances' task
 * stores. The group leader places them (`assignStandbyTasks`); this instance reads its own list from
 * its assignment (`HostMapRefresher`), opens each standby's stores in the task's state directory and
 * keeps them up to date from the changelog, checkpointing as it goes. When the group later gives the
 * task itself to this instance, the standby closes first (`release`, through the task handover) and
 * the active task's restore starts from the standby's checkpoint: only the tail is replayed.
 *
 * One kafkajs consumer reads every standby. kafkajs cannot assign partitions without a group, so it
 * joins a consumer group of its own (one member, never committing), subscribes to every changelog a
 * standby could need, keeps all of them paused, and resumes and seeks only the standby partitions.
 * Under exactly-once it reads committed records only (kafkajs' default, with the corrected filter):
 * a standby never holds state of an aborted transaction. Records reach the stores one fetched batch
 * at a time (`restoreBatch`), never one by one.
 */
// First: kafkajs must load with the corrected read_committed filter (see the module).
import '../../state/changelog/read-committed-filter.js'
import { randomUUID } from 'node:crypto'
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type pino from 'pino'
import { Gauge, type Registry } from 'prom-client'
import type { ChangelogRecord, StateDirectory, StateStore, StorageEngine, TaskCheckpoint, TaskLock } from '../../state/index.js'
import type { TopologyPlan } from '../../topology/topology.js'
import { parseTaskId } from '../assignor.js'
import { openTaskStores } from '../task/task-stores.js'

/** Minimum time between checkpoint rewrites of one standby (each is a small fsync'd file). */
const CHECKPOINT_EVERY_MS = 1_000

export interface StandbyTasksOptions {
  kafka: Kafka
  applicationId: string
  plan: TopologyPlan
  engine: StorageEngine
  stateDirectory: StateDirectory
  stateDir: string
  /** Resolves once no active incarnation of the task holds its state directory here. */
  released: (taskId: string) => Promise<void>
  logger: pino.Logger
  registry: Registry
}

/** One store of a standby: where it reads from and up to where its local copy is complete. */
interface StandbyStore {
  readonly store: StateStore
  readonly topic: string
  /** Next changelog offset to apply. */
  next: number
  lag: number
}

class StandbyTask {
  readonly stores = new Map<string, StandbyStore>()
  /** The batch being applied: a close waits for it. */
  busy: Promise<void> = Promise.resolve()
  closed = false
  private lastCheckpoint = 0

  constructor(
    readonly id: string,
    readonly partition: number,
    private readonly lock: TaskLock,
    private readonly checkpoint: TaskCheckpoint,
  ) {}

  /** Offsets moved since the file was last written. */
  dirty = false

  /** Records the stores' offsets; rewrites the file at most once a second unless `force`. */
  async saveCheckpoint(force = false): Promise<void> {
    if (!force && Date.now() - this.lastCheckpoint < CHECKPOINT_EVERY_MS) return
    this.lastCheckpoint = Date.now()
    this.dirty = false
    for (const [name, s] of this.stores) this.checkpoint.update(name, s.next)
    await this.checkpoint.write()
  }

  async close(): Promise<void> {
    this.closed = true
    await this.busy.catch(() => undefined)
    try {
      await this.saveCheckpoint(true)
    } finally {
      for (const s of this.stores.values()) await s.store.close().catch(() => undefined)
      await this.lock.release()
    }
  }
}

export class StandbyTasks {
  private consumer: Consumer | undefined
  /** Standby task id → its task once opened (a promise while opening). */
  private readonly tasks = new Map<string, Promise<StandbyTask | undefined>>()
  /** Changelog `topic:partition` → the open standby store reading it. */
  private readonly readers = new Map<string, { task: StandbyTask; name: string }>()
  /** Every topic a standby could read, by sub-topology: the consumer subscribes to all of them. */
  private readonly topics: ReadonlySet<string>
  private readonly lag: Gauge<'store'>
  private readonly log: pino.Logger
  private stopped = false
  /** Writes the checkpoints a throttled batch left behind once the changelog goes quiet. */
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly options: StandbyTasksOptions) {
    this.log = options.logger.child({ component: 'standby' })
    this.topics = new Set(options.plan.subtopologies.flatMap((s) => s.stores.flatMap((p) => (p.changelogTopic === null ? [] : [p.changelogTopic]))))
    const existing = options.registry.getSingleMetric('sentinel_streams_standby_lag') as Gauge<'store'> | undefined
    this.lag =
      existing ??
      new Gauge({
        name: 'sentinel_streams_standby_lag',
        help: 'Changelog records a standby store is behind, summed over its standby partitions on this instance',
        labelNames: ['store'],
        registers: [options.registry],
      })
  }

  /** Sub-topologies with at least one store restored from a topic: the only ones that get standbys. */
  static statefulSubtopologies(plan: TopologyPlan): Set<number> {
    return new Set(plan.subtopologies.filter((s) => s.stores.some((p) => p.changelogTopic !== null)).map((s) => s.id))
  }

  /** Task ids this instance holds (or is opening) standbys for. */
  get held(): string[] {
    return [...this.tasks.keys()]
  }

  async start(): Promise<void> {
    if (this.topics.size === 0) return
    const consumer = this.options.kafka.consumer({
      groupId: `${this.options.applicationId}-standby-${randomUUID()}`,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    })
    this.consumer = consumer
    // kafkajs rejoins after a crash; its pauses and positions may not survive that, so they are set again.
    consumer.on(consumer.events.GROUP_JOIN, () => this.applyPositions())
    await consumer.connect()
    await consumer.subscribe({ topics: [...this.topics], fromBeginning: true })
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch: (payload) => this.applyBatch(payload) })
    this.applyPositions()
    this.timer = setInterval(() => void this.flushCheckpoints(), CHECKPOINT_EVERY_MS)
    this.timer.unref()
  }

  /** The standby tasks of a new assignment: new ones open, those no longer listed close. */
  assign(taskIds: readonly string[]): void {
    if (this.stopped) return
    const wanted = new Set(taskIds)
    const before = this.held
    if (before.length === wanted.size && before.every((id) => wanted.has(id))) return
    this.log.info({ standby: [...wanted] }, 'standby tasks assigned')
    for (const id of before) if (!wanted.has(id)) void this.release(id)
    for (const id of wanted) {
      if (this.tasks.has(id)) continue
      const opening = this.open(id).catch((e: unknown) => {
        this.log.warn({ err: e, task: id }, 'opening a standby failed; the task restores in full if it moves here')
        if (this.tasks.get(id) === opening) this.tasks.delete(id)
        return undefined
      })
      this.tasks.set(id, opening)
    }
  }

  /** Closes the standby of `taskId`, if any, with its checkpoint; resolves once its state directory is free. */
  async release(taskId: string): Promise<void> {
    const opening = this.tasks.get(taskId)
    if (opening === undefined) return
    this.tasks.delete(taskId)
    const task = await opening
    if (task === undefined) return
    this.forgetReaders(task)
    await task.close()
    this.log.info({ task: taskId, offsets: Object.fromEntries([...task.stores].map(([n, s]) => [n, s.next])) }, 'standby closed')
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    await Promise.allSettled(this.held.map((id) => this.release(id)))
    await this.consumer?.disconnect()
  }

  private async open(id: string): Promise<StandbyTask | undefined> {
    const { subtopology, partition } = parseTaskId(id)
    const plans = (this.options.plan.subtopologies[subtopology]?.stores ?? []).filter((p) => p.changelogTopic !== null)
    if (plans.length === 0) return undefined
    // An active incarnation of this task may still be closing here (it was just revoked).
    await this.options.released(id)
    const { stateDirectory } = this.options
    const lock = await stateDirectory.lockTask(id)
    let task: StandbyTask | undefined
    try {
      const checkpoint = await stateDirectory.readCheckpoint(id)
      // No changelog sink: a standby only applies what its owner logged.
      const { stores } = await openTaskStores(plans, {
        applicationId: this.options.applicationId,
        taskId: id,
        state: { engine: this.options.engine, stateDir: this.options.stateDir },
        changelog: undefined,
      })
      task = new StandbyTask(id, partition, lock, checkpoint)
      for (const plan of plans) {
        const store = stores.get(plan.name)!
        let from = checkpoint.status === 'ok' ? checkpoint.offset(plan.name) : undefined
        if (from === undefined || store.localState !== 'existing') {
          // Files without a checkpoint to trust (see restoreTaskStores): from scratch.
          if (store.localState === 'existing') await store.wipe()
          checkpoint.remove(plan.name)
          from = 0
        }
        task.stores.set(plan.name, { store, topic: plan.changelogTopic!, next: from, lag: 0 })
      }
      await task.saveCheckpoint(true)
    } catch (e) {
      if (task) await task.close().catch(() => undefined)
      else await lock.release()
      throw e
    }
    if (this.tasks.get(id) === undefined || this.stopped) {
      // Released while opening.
      await task.close()
      return undefined
    }
    for (const [name, s] of task.stores) this.readers.set(`${s.topic}:${partition}`, { task, name })
    this.applyPositions()
    this.log.info({ task: id, from: Object.fromEntries([...task.stores].map(([n, s]) => [n, s.next])) }, 'standby opened')
    return task
  }

  /** Every subscribed partition paused, except the standbys', which are resumed at their next offset. */
  private applyPositions(): void {
    const consumer = this.consumer
    if (!consumer || this.stopped) return
    try {
      consumer.pause([...this.topics].map((topic) => ({ topic })))
      for (const [key, { task, name }] of this.readers) {
        const s = task.stores.get(name)!
        const topic = key.slice(0, key.lastIndexOf(':'))
        consumer.resume([{ topic, partitions: [task.partition] }])
        consumer.seek({ topic, partition: task.partition, offset: String(s.next) })
      }
    } catch (e) {
      // Before `run` has joined the group kafkajs refuses both; the GROUP_JOIN handler calls again.
      this.log.debug({ err: e }, 'standby positions not applied yet')
    }
  }

  private async applyBatch({ batch }: EachBatchPayload): Promise<void> {
    const reader = this.readers.get(`${batch.topic}:${batch.partition}`)
    if (!reader || reader.task.closed) return
    const { task, name } = reader
    const s = task.stores.get(name)!
    const records: ChangelogRecord[] = []
    let last = -1
    for (const m of batch.messages) {
      const offset = Number(m.offset)
      if (offset < s.next) continue
      last = offset
      if (m.key !== null) records.push({ key: m.key, value: m.value })
    }
    // After a checkpoint write in flight (`flushCheckpoints`): two writes must not share the temp file.
    const work = task.busy
      .catch(() => undefined)
      .then(async () => {
        if (records.length > 0) await s.store.restoreBatch(records)
        // Only past a record seen: an empty read_committed fetch says nothing about progress.
        if (last >= 0) {
          s.next = last + 1
          task.dirty = true
        }
        s.lag = Math.max(0, Number(batch.highWatermark) - s.next)
        this.updateLag(name)
        await task.saveCheckpoint()
      })
    task.busy = work
    await work
  }

  private async flushCheckpoints(): Promise<void> {
    for (const { task } of new Set(this.readers.values())) {
      if (!task.dirty || task.closed) continue
      // After the batch in flight, if any: the checkpoint never runs ahead of the store.
      const write = task.busy.then(() => (task.closed ? undefined : task.saveCheckpoint(true)))
      task.busy = write
      await write.catch((e: unknown) => this.log.warn({ err: e, task: task.id }, 'writing a standby checkpoint failed'))
    }
  }

  private updateLag(store: string): void {
    let sum = 0
    for (const { task, name } of this.readers.values()) if (name === store) sum += task.stores.get(name)!.lag
    this.lag.set({ store }, sum)
  }

  private forgetReaders(task: StandbyTask): void {
    for (const [key, reader] of this.readers) if (reader.task === task) this.readers.delete(key)
    try {
      this.consumer?.pause([...new Set([...task.stores.values()].map((s) => s.topic))].map((topic) => ({ topic, partitions: [task.partition] })))
    } catch {
      // Not running: nothing to pause.
    }
    for (const name of task.stores.keys()) this.updateLag(name)
  }
}
