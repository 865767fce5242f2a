/**
 * One task this instance owns on Kafka: the Kafka-independent `StreamTask` plus what running it on
 * Kafka takes — its lock and checkpoint, its record collector over a Kafka sink, its consumed
 * positions, and under exactly-once its own transactional producer.
 *
 * Its commit steps are run by `commit.ts`. Under exactly-once the changelog, outputs and consumer
 * offsets commit in one Kafka transaction, per task: kafkajs' TxnOffsetCommit
 * carries no group generation (no KIP-447), so only a transactional id per task (`<app>-<task>`)
 * fences a zombie that still processes this task after a rebalance.
 *
 * Size: about 400 lines: the producer, the checkpoint and the lock of one task change together at
 * start, commit, fencing and close; the commit's steps themselves are in commit.ts.
 */
import kafkajs, { type Admin, type ISocketFactory, type Kafka, type Producer, type Transaction } from 'kafkajs'
import type pino from 'pino'
import { type CacheBudget, ChangelogRestorer, restoreTaskStores, type StateDirectory, type StateStore, type TaskCheckpoint, type TaskLock } from '../../state/index.js'
import type { StorageEngine } from '../../state/types.js'
import type { Topology, TopologyPlan } from '../../topology/topology.js'
import { RecordCollector, StreamTask } from '../task/index.js'
import type { ErrorPolicy, SourceRecord } from '../task/records.js'
import type { ResolvedStreamsConfig } from '../config.js'
import { type CommittableTask, commitTasks, type TaskOffset } from './commit.js'
import { KafkaRecordSink } from './kafka-record-sink.js'
import type { PartitionCounts } from './partition-counts.js'
import type { RuntimeMetrics } from './runtime-metrics.js'
import { acknowledgedSender } from './acknowledged-sender.js'
import type { SerialQueue } from './serial-queue.js'
import { RevocableConnections, TaskRevokedError } from './revocable-connections.js'
import { withCoordinatorRetry } from './coordinator-retry.js'

// kafkajs is CommonJS; Node's static analysis does not see this export.
const { Partitioners } = kafkajs

/** Output records a task may have in flight before it waits for the producer (memory bound). */
const MAX_UNACKNOWLEDGED_OUTPUT = 50_000

export type ActiveTaskState = 'restoring' | 'running' | 'closed'

/** What the runtime gives every task (and the task manager that creates them). */
export interface TaskServices {
  config: ResolvedStreamsConfig
  topology: Topology
  plan: TopologyPlan
  kafka: Kafka
  /** A client like `kafka` whose connections go through `socketFactory` (a task's revocable producer). */
  clientWithSockets(socketFactory: ISocketFactory): Kafka
  admin: Admin
  engine: StorageEngine
  /** The instance's global table stores (from its `GlobalConsumer`), shared by every task. */
  globalStores: ReadonlyMap<string, StateStore>
  stateDirectory: StateDirectory
  partitionCounts: PartitionCounts
  errorPolicy: ErrorPolicy
  logger: pino.Logger
  metrics: RuntimeMetrics
  /** The record cache budget of the whole instance (`cacheMaxBytes`), drawn on by every task's cache. */
  cacheBudget: CacheBudget
}

export interface ActiveTaskOptions extends TaskServices {
  id: string
  subtopology: number
  partition: number
  /** Serialises admin calls: concurrent kafkajs admin requests can race to connect and leak a socket. */
  adminCalls: SerialQueue
  /** The instance's shared producer (at-least-once); exactly-once makes one per task. */
  sharedProducer: Producer
}

const encodeOffsetMetadata = (streamTime: number): string => JSON.stringify({ streamTime })

function decodeStreamTime(metadata: string | null | undefined): number {
  try {
    const value = (JSON.parse(metadata ?? '') as { streamTime?: unknown }).streamTime
    return typeof value === 'number' ? value : -1
  } catch {
    return -1
  }
}

export class ActiveTask implements CommittableTask {
  readonly id: string
  readonly subtopology: number
  readonly partition: number
  /** Source topics of this task (user and repartition). */
  readonly sourceTopics: readonly string[]
  state: ActiveTaskState = 'restoring'
  /** Changelog records restored when the task was initialised. */
  restoredRecords = 0
  /** Next offset to consume, per source topic: everything before it is in the task's state. */
  readonly positions = new Map<string, bigint>()
  /** Positions as of the last successful commit. */
  private readonly committed = new Map<string, bigint>()

  private task: StreamTask
  private collector: RecordCollector
  /** Store name → the changelog topic it writes (from the plan), for the checkpoint. */
  private readonly changelogTopics: ReadonlyMap<string, string>
  private readonly exactlyOnce: boolean
  private producer: Producer | undefined
  /** The open transaction (exactly-once), begun lazily by the first send after a commit. */
  private transaction: Promise<Transaction> | undefined
  private lock: TaskLock | undefined
  private checkpoint: TaskCheckpoint | undefined
  private readonly log: pino.Logger
  /** What the task's transactional producer connects through; cut when the task is revoked. */
  private readonly connections: RevocableConnections

  constructor(private readonly options: ActiveTaskOptions) {
    this.id = options.id
    this.subtopology = options.subtopology
    this.partition = options.partition
    this.sourceTopics = options.plan.subtopologies[options.subtopology]!.sourceTopics
    this.exactlyOnce = options.config.processingGuarantee === 'exactly-once'
    this.log = options.logger.child({ task: options.id })
    this.connections = new RevocableConnections(options.config.kafka.socketFactory)
    const stores = options.plan.subtopologies[options.subtopology]!.stores
    this.changelogTopics = new Map(stores.flatMap((s) => (s.changelogTopic === null || s.restoresFromSourceTopic ? [] : [[s.name, s.changelogTopic] as const])))
    this.collector = this.createCollector()
    this.task = this.createStreamTask()
  }

  private createCollector(): RecordCollector {
    const { options } = this
    const collector: RecordCollector = new RecordCollector(
      new KafkaRecordSink({
        // A resolved kafkajs send may have dropped partitions after a leader moved (see acknowledgedSender).
        sender: acknowledgedSender(this.exactlyOnce ? { sendBatch: async (batch) => (await this.openTransaction()).sendBatch(batch) } : options.sharedProducer, options.partitionCounts, {
          onResend: (missing) => this.log.warn({ missing }, 'a send resolved without acknowledging these partitions (kafkajs retry after a leader move): sending them again'),
          stillWanted: () => collector.open,
        }),
        partitionCounts: options.partitionCounts,
        onProduced: (topic, count) => options.metrics.produced.inc({ topic }, count),
      }),
    )
    return collector
  }

  private createStreamTask(): StreamTask {
    const { options } = this
    return new StreamTask({
      topology: options.topology,
      plan: options.plan,
      subtopology: options.subtopology,
      partition: options.partition,
      collector: this.collector,
      state: { engine: options.engine, stateDir: options.config.stateDir, cacheBudget: options.cacheBudget },
      globalStores: options.globalStores,
      errorPolicy: options.errorPolicy,
      forwardingCacheMaxEntries: options.config.forwardingCacheMaxEntries,
      ...(options.config.idleTimeoutMs > 0 ? { idleTimeoutMs: options.config.idleTimeoutMs } : {}),
      logger: options.logger,
    })
  }

  /** One of the task's stores, for interactive queries (read through the thread's `ReadGate` only). */
  store(name: string): StateStore | undefined {
    return this.task.stores.get(name)
  }

  get metrics(): StreamTask['metrics'] {
    return this.task.metrics
  }

  /**
   * Locks the task's state directory, opens its stores and restores them from their changelogs,
   * from the checkpoint on. Runs beside the consumer loop (its partitions paused meanwhile), so a
   * long restore never keeps the member from heartbeating.
   */
  async initialize(): Promise<void> {
    const { stateDirectory, config } = this.options
    this.assertOwned()
    this.lock = await stateDirectory.lockTask(this.id)
    this.checkpoint = await stateDirectory.readCheckpoint(this.id)
    if (this.exactlyOnce) {
      // Fences a zombie owner of this task before we read its changelog: its next send fails.
      const client = this.options.clientWithSockets(this.connections.socketFactory)
      this.producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, transactionalId: `${config.applicationId}-${this.id}`, idempotent: true, maxInFlightRequests: 1 })
      await this.producer.connect()
      await this.openTransaction()
    }
    this.assertOwned()
    await this.task.openStores()
    const restorer = new ChangelogRestorer({
      kafka: this.options.kafka,
      applicationId: config.applicationId,
      logger: this.log,
      metrics: this.options.metrics.registry,
    })
    // Restore topics come from the plan: a table's store restores from its source topic.
    const restoreTopics = new Map(this.options.plan.subtopologies[this.subtopology]!.stores.flatMap((s) => (s.changelogTopic === null ? [] : [[s.name, s.changelogTopic] as const])))
    const results = await restoreTaskStores({ restorer, checkpoint: this.checkpoint, stores: [...this.task.stores.values()], restoreTopics, partition: this.partition, logger: this.log })
    const restored = results.reduce((sum, r) => sum + r.restored, 0)
    this.restoredRecords = restored
    if (restored > 0) this.log.info({ restored, stores: results.length }, 'task state restored')
    if (this.exactlyOnce) {
      // Under exactly-once, local state may run ahead of the last committed transaction until the
      // next commit, so the checkpoint is only valid after a clean close: a crash means a full restore.
      await this.checkpoint.delete()
    }
    await this.readCommittedPosition()
    this.assertOwned()
    await this.task.start()
    this.state = 'running'
  }

  /**
   * The task moved to another instance while it was initialising: its producer must never reach the
   * broker again (see `RevocableConnections`), and the initialisation stops at its next step.
   * Synchronous, so the rebalance that revokes the task cuts it before anything else runs.
   */
  revoke(): void {
    // Only a transactional producer can fence anyone; an at-least-once task finishes its restore and
    // closes cleanly, keeping its checkpoint for whoever restores it here next.
    if (!this.exactlyOnce || this.connections.revoked) return
    this.connections.revoke(this.id)
    void this.producer?.disconnect().catch(() => undefined)
  }

  get revoked(): boolean {
    return this.connections.revoked
  }

  private assertOwned(): void {
    if (this.connections.revoked) throw new TaskRevokedError(this.id)
  }

  /**
   * Where the task starts, read from the group's committed offsets *after* the producer fenced the
   * previous owner: kafkajs fetched this partition's offset when the assignment arrived, possibly
   * before the previous owner's last transaction (or best-effort rebalance commit) landed, and
   * starting there would process committed records again — duplicates even under exactly-once.
   * The positions are set here (earlier records are skipped) and `startOffsets()` tells the thread
   * where to seek the consumer.
   *
   * Stream time comes back the same way, from the offsets' metadata: without it a late record
   * arriving first would reopen a window whose final result was already emitted.
   */
  private async readCommittedPosition(): Promise<void> {
    const { admin, adminCalls, config } = this.options
    const committed = await adminCalls.run(() => withCoordinatorRetry(() => admin.fetchOffsets({ groupId: config.applicationId, topics: [...this.sourceTopics] })))
    let streamTime = -1
    for (const { topic, partitions } of committed) {
      for (const p of partitions) {
        if (p.partition !== this.partition) continue
        streamTime = Math.max(streamTime, decodeStreamTime(p.metadata))
        if (p.offset !== '-1') {
          this.positions.set(topic, BigInt(p.offset))
          this.committed.set(topic, BigInt(p.offset))
        }
      }
    }
    if (streamTime >= 0) this.task.restoreStreamTime(streamTime)
    if (config.autoOffsetReset === 'latest') {
      // A user topic never committed starts at its end; the application's own topics at their start.
      const internal = new Set(this.options.plan.internalTopics.map((t) => t.name))
      for (const topic of this.sourceTopics) {
        if (this.positions.has(topic) || internal.has(topic)) continue
        const offsets = await adminCalls.run(() => admin.fetchTopicOffsets(topic))
        const high = offsets.find((o) => o.partition === this.partition)?.high
        if (high !== undefined) this.positions.set(topic, BigInt(high))
      }
    }
  }

  /** The offset of each source topic the task starts from: committed, else per autoOffsetReset. */
  startOffsets(): { topic: string; offset: string }[] {
    return [...this.sourceTopics].map((topic) => ({ topic, offset: (this.positions.get(topic) ?? 0n).toString() }))
  }

  /** Undoes a failed `initialize` so it can run again: stores closed, producer and lock released. */
  async resetAfterFailedInit(): Promise<void> {
    await this.releaseStores(false)
    this.collector = this.createCollector()
    this.task = this.createStreamTask()
    const transaction = this.transaction
    this.transaction = undefined
    await transaction?.then((t) => t.abort()).catch(() => undefined)
    await this.producer?.disconnect().catch(() => undefined)
    this.producer = undefined
    await this.lock?.release()
    this.lock = undefined
  }

  /** Processes one fetched batch of one source partition; records before the position are skipped. */
  async process(topic: string, records: readonly SourceRecord[]): Promise<void> {
    const position = this.positions.get(topic)
    // Offsets ascend within a batch: usually the first record shows the whole batch is fresh.
    const fresh =
      position === undefined || records.length === 0 || BigInt(records[0]!.offset) >= position ? records : records.filter((r) => BigInt(r.offset) >= position)
    if (fresh.length === 0) return
    await this.task.process(fresh)
    this.positions.set(topic, BigInt(fresh[fresh.length - 1]!.offset) + 1n)
    // Backpressure: when the producer falls behind, stop taking input until it catches up.
    if (this.collector.unacknowledged > MAX_UNACKNOWLEDGED_OUTPUT) await this.collector.flush()
  }

  punctuate(now: number): Promise<void> {
    return this.task.punctuate(now)
  }

  /** Offsets to commit: positions that moved since the last commit. */
  pendingOffsets(): TaskOffset[] {
    const out: TaskOffset[] = []
    const metadata = encodeOffsetMetadata(this.task.streamTime)
    for (const [topic, position] of this.positions) {
      if (this.committed.get(topic) !== position) out.push({ topic, partition: this.partition, offset: position.toString(), metadata })
    }
    return out
  }

  prepareCommit(): Promise<void> {
    return this.task.prepareCommit()
  }

  flushState(): Promise<void> {
    return this.task.flushState()
  }

  async commitTransaction(groupId: string, offsets: readonly TaskOffset[]): Promise<void> {
    if (!this.transaction && offsets.length === 0) return
    const transaction = await this.openTransaction()
    if (offsets.length > 0) {
      // kafkajs passes each partition's `metadata` through to TxnOffsetCommit, though its types omit it.
      const partitions = offsets.map(({ topic, partition, offset, metadata }) => ({ topic, partitions: [{ partition, offset, metadata }] }))
      await transaction.sendOffsets({ consumerGroupId: groupId, topics: partitions })
    }
    await transaction.commit()
    this.transaction = undefined
  }

  async writeCheckpoint(): Promise<void> {
    for (const [store, topic] of this.changelogTopics) {
      const offset = this.collector.acknowledgedOffset(topic, this.partition)
      if (offset !== undefined) this.checkpoint!.update(store, offset)
    }
    await this.checkpoint!.write()
  }

  /** Records that `offsets` are now committed. */
  markCommitted(offsets: readonly { topic: string; offset: string }[]): void {
    for (const { topic, offset } of offsets) this.committed.set(topic, BigInt(offset))
  }

  /** Clean close: commit-time flush, checkpoint, stores closed, lock released. */
  /** Idempotent: a revoked task may be closed by the rebalance and by its own ending restore. */
  close(groupId: string): Promise<void> {
    this.closing ??= this.closeOnce(groupId)
    return this.closing
  }

  private closing: Promise<void> | undefined

  private async closeOnce(groupId: string): Promise<void> {
    if (this.state === 'closed') return
    if (this.state === 'running') {
      const { failed } = await commitTasks([this], {
        groupId,
        exactlyOnce: this.exactlyOnce,
        // The thread's commit before the rebalance or shutdown committed them; a revoked task's
        // offsets are no longer this member's to commit.
        commitOffsets: async () => undefined,
        writeCheckpoints: this.checkpoint !== undefined,
      })
      if (failed.length > 0) {
        // A dirty close, not none: left open, its stores would keep their RocksDB locks in this
        // process, and the group may give the task straight back (chaos F11).
        await this.abandon()
        throw failed[0]!.error
      }
    }
    try {
      await this.task.close()
    } catch (e) {
      await this.releaseStores(false)
      throw e
    } finally {
      this.state = 'closed'
      await this.producer?.disconnect().catch(() => undefined)
      await this.lock?.release()
    }
  }

  /** Every store closed whatever failed before (a store closed already ignores it), wiped first if asked. */
  private async releaseStores(wipe: boolean): Promise<void> {
    for (const store of this.task.stores.values()) {
      if (wipe) await store.wipe().catch(() => undefined)
      await store.close().catch(() => undefined)
    }
  }

  /**
   * Dirty close after a failure (fenced, transaction failed): nothing is flushed, the open
   * transaction is aborted, and under exactly-once the local state is dropped so the next owner
   * restores from the committed changelog.
   */
  async abandon(): Promise<void> {
    await this.closeDirty({ keepCheckpoint: false })
  }

  /**
   * Dirty close of a task this member may have lost to another (it was out of the group, Kafka
   * Streams' `onPartitionsLost`): nothing is flushed, sent or committed, since its unflushed state
   * may be older than what another owner has written to the changelog since. At-least-once keeps
   * the checkpoint: the local stores hold at least what it names (a store batch is written only after
   * its changelog records were acknowledged, the checkpoint after that), so the next incarnation
   * restores only the tail, which holds whatever the other owner wrote.
   */
  async closeLost(): Promise<void> {
    await this.closeDirty({ keepCheckpoint: !this.exactlyOnce })
  }

  private async closeDirty({ keepCheckpoint }: { keepCheckpoint: boolean }): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.collector.discard()
    const transaction = this.transaction
    this.transaction = undefined
    await transaction?.then((t) => t.abort()).catch(() => undefined)
    await this.producer?.disconnect().catch(() => undefined)
    // Closing a store flushes it: what it holds unflushed must reach neither changelog nor engine.
    for (const store of this.task.stores.values()) store.discardUnflushed()
    await this.releaseStores(this.exactlyOnce)
    if (!keepCheckpoint) await this.checkpoint?.delete().catch(() => undefined)
    await this.lock?.release()
  }

  /**
   * Resolves with true once no send of this incarnation is in flight (at once unless it was closed
   * dirty mid-send), or with false after `boundMs`. The next incarnation waits for it: under
   * at-least-once nothing fences a dead incarnation's write that kafkajs is still retrying, and one
   * landing after the restore read the changelog leaves the changelog's last value for its keys
   * older than the state built on it, which a later restore then brings back (chaos F14).
   */
  sendsSettled(boundMs: number): Promise<boolean> {
    // Exactly-once: the aborted transaction's records are never read, however late they land.
    if (this.exactlyOnce) return Promise.resolve(true)
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), boundMs)))
    return Promise.race([this.collector.settled().then(() => true), expired]).finally(() => clearTimeout(timer))
  }

  private async openTransaction(): Promise<Transaction> {
    if (!this.producer) throw new Error(`task ${this.id}: no transactional producer (exactly-once not initialised)`)
    // A producer of a task no longer ours would fence its new owner.
    this.assertOwned()
    // One promise, so concurrent sends (changelog and outputs) share the transaction.
    this.transaction ??= this.producer.transaction()
    return this.transaction
  }
}
