/**
 * The Kafka runtime's global consumer (Kafka Streams' global stream thread): keeps every global
 * table's store a full copy of its topic, all partitions, on this instance.
 *
 *  - `start()` opens the stores, restores each partition from its checkpointed offset (or the
 *    beginning) to the end offset at start, and only then resolves: the instance starts its tasks
 *    after it, so no task ever reads a half-loaded table.
 *  - Then a consumer follows the topics from where the restore ended. kafkajs cannot assign
 *    partitions without a group, so it joins a group of its own (`<applicationId>-global-<uuid>`,
 *    never committing; the only member, it gets every partition), unlike Kafka Streams' group-less
 *    consumer. Its rebalances are its own: the application's group never waits for it.
 *  - Positions are checkpointed every `checkpointIntervalMs` and at close, in
 *    `<stateDir>/<applicationId>/global/.checkpoint`, so a restart restores only the tail. A
 *    checkpoint is written only after the records before it are in the engine.
 */
import { randomUUID } from 'node:crypto'
import type { Consumer, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { ChangelogRestorer, type GlobalKeyValueStore, StateDirectory, type StorageEngine, type TaskCheckpoint, type TaskLock } from '../../state/index.js'
import type { TopologyPlan } from '../../topology/topology.js'
import { GLOBAL_STORES_DIR, globalStoresByName, type OpenedGlobalStore, openGlobalStores } from '../task/global-stores.js'

export interface GlobalConsumerOptions {
  readonly kafka: Kafka
  readonly plan: TopologyPlan
  readonly stateDir: string
  readonly engine: StorageEngine
  readonly logger: Logger
  readonly metrics?: Registry
  readonly checkpointIntervalMs: number
  /** The consumer crashed (kafkajs gave up) or a store write failed: the instance must stop. */
  readonly onFatal: (error: Error) => void
}

/** Checkpoint key of one partition of a global store. */
const checkpointKey = (store: string, partition: number): string => `${store}@${partition}`

export class GlobalConsumer {
  /** Next offset to apply, by `topic` then partition. */
  private readonly positions = new Map<string, Map<number, number>>()
  private consumer: Consumer | undefined
  private timer: NodeJS.Timeout | undefined
  private checkpointed = ''
  /** Records the start-up restore read, per store (0 when the checkpoint was current). */
  readonly restored = new Map<string, number>()
  private closing: Promise<void> | undefined

  private constructor(
    private readonly options: GlobalConsumerOptions,
    private readonly opened: readonly OpenedGlobalStore[],
    private readonly checkpoint: TaskCheckpoint,
    private readonly lock: TaskLock | undefined,
  ) {}

  /** Opens and restores every global store; resolves once all are current up to the end offsets at start. */
  static async start(options: GlobalConsumerOptions): Promise<GlobalConsumer> {
    const { plan, engine, stateDir, logger } = options
    const directory = new StateDirectory({ stateDir, applicationId: plan.applicationId, logger })
    const lock = engine.kind === 'memory' ? undefined : await directory.lockTask(GLOBAL_STORES_DIR)
    let opened: OpenedGlobalStore[] = []
    try {
      const checkpoint = await directory.readCheckpoint(GLOBAL_STORES_DIR)
      opened = await openGlobalStores(plan, { engine, stateDir }, logger)
      const consumer = new GlobalConsumer(options, opened, checkpoint, lock)
      await consumer.restore()
      await consumer.follow()
      return consumer
    } catch (err) {
      await Promise.allSettled(opened.map((g) => g.store.close()))
      await lock?.release()
      throw err
    }
  }

  /** The stores by name, for the tasks (`StreamTaskOptions.globalStores`) and interactive queries. */
  get stores(): Map<string, GlobalKeyValueStore<unknown, unknown>> {
    return globalStoresByName(this.opened)
  }

  private async restore(): Promise<void> {
    const { kafka, plan, logger, metrics } = this.options
    const admin = kafka.admin()
    await admin.connect()
    const targets = []
    try {
      for (const { plan: g, store } of this.opened) {
        const offsets = await admin.fetchTopicOffsets(g.topic)
        const checkpointed = offsets.map((o) => this.checkpoint.offset(checkpointKey(g.name, o.partition)))
        // Local files are trusted only with a checkpoint covering every partition within the topic's
        // offsets: otherwise (first start, crash before any checkpoint, topic recreated) start over.
        const trusted =
          this.checkpoint.status === 'ok' && store.localState === 'existing' && offsets.every((o, i) => checkpointed[i] !== undefined && checkpointed[i]! <= Number(o.high))
        if (!trusted && store.size > 0) {
          logger.warn({ store: g.name, topic: g.topic }, 'global store files without a usable checkpoint: wiping them for a full restore')
          await store.wipe()
        }
        for (const [i, o] of offsets.entries()) {
          targets.push({ store, partition: o.partition, topic: g.topic, ...(trusted ? { fromOffset: checkpointed[i]! } : {}) })
        }
      }
    } finally {
      await admin.disconnect()
    }
    const restorer = new ChangelogRestorer({ kafka, applicationId: plan.applicationId, logger, ...(metrics ? { metrics } : {}) })
    const began = Date.now()
    for (const result of await restorer.restore(targets)) {
      this.positionsOf(result.topic).set(result.partition, result.endOffset)
      this.restored.set(result.store, (this.restored.get(result.store) ?? 0) + result.restored)
    }
    await this.writeCheckpoint()
    logger.info({ stores: this.opened.map((g) => ({ store: g.plan.name, rows: g.store.size })), ms: Date.now() - began }, 'global tables restored')
  }

  /** Follows every global topic from the restored positions. */
  private async follow(): Promise<void> {
    const { kafka, plan, logger, onFatal } = this.options
    const storeOf = new Map(this.opened.map((g) => [g.plan.topic, g.store]))
    const consumer = kafka.consumer({ groupId: `${plan.applicationId}-global-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 })
    this.consumer = consumer
    consumer.on(consumer.events.CRASH, (event) => {
      if (this.closing) return
      // kafkajs restarts a consumer after retriable errors (a coordinator not found yet at start,
      // a broker gone): the group is private and positions are ours, so the restart resumes exactly
      // where the stores are. Only a crash it will not restart from stops the instance.
      if (event.payload.restart) {
        logger.warn({ err: event.payload.error }, 'global table consumer crashed; kafkajs restarts it and it resumes from the stored positions')
        return
      }
      onFatal(new Error(`the global table consumer stopped: ${event.payload.error.message}`, { cause: event.payload.error }))
    })
    await consumer.connect()
    await consumer.subscribe({ topics: [...storeOf.keys()], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const positions = this.positionsOf(batch.topic)
        const from = positions.get(batch.partition) ?? 0
        const records = []
        for (const m of batch.messages) if (Number(m.offset) >= from && m.key !== null) records.push({ key: m.key, value: m.value })
        try {
          await storeOf.get(batch.topic)!.restoreBatch(records)
        } catch (err) {
          onFatal(new Error(`global store of '${batch.topic}' could not apply a batch: ${(err as Error).message}`, { cause: err }))
          throw err
        }
        positions.set(batch.partition, Number(batch.lastOffset()) + 1)
      },
    })
    for (const [topic, positions] of this.positions) {
      for (const [partition, offset] of positions) consumer.seek({ topic, partition, offset: String(offset) })
    }
    this.timer = setInterval(() => {
      this.writeCheckpoint().catch((err: unknown) => logger.warn({ err }, 'global table checkpoint failed; retrying at the next interval'))
    }, this.options.checkpointIntervalMs)
    this.timer.unref()
  }

  private positionsOf(topic: string): Map<number, number> {
    let positions = this.positions.get(topic)
    if (!positions) this.positions.set(topic, (positions = new Map()))
    return positions
  }

  private async writeCheckpoint(): Promise<void> {
    for (const { plan: g } of this.opened) {
      for (const [partition, offset] of this.positionsOf(g.topic)) this.checkpoint.update(checkpointKey(g.name, partition), offset)
    }
    const text = JSON.stringify([...this.checkpoint.entries()])
    if (text === this.checkpointed) return
    await this.checkpoint.write()
    this.checkpointed = text
  }

  /** Stops following, checkpoints, closes the stores (after the tasks that read them). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer)
      await this.consumer?.disconnect().catch((err: unknown) => this.options.logger.warn({ err }, 'global consumer disconnect failed'))
      await this.writeCheckpoint().catch((err: unknown) => this.options.logger.warn({ err }, 'global table checkpoint at close failed'))
      await Promise.allSettled(this.opened.map((g) => g.store.close()))
      await this.lock?.release()
    })()
    return this.closing
  }
}
