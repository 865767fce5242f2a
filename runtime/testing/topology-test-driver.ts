/**
 * TopologyTestDriver: runs a topology in process, deterministically, without a broker, with the same
 * tasks, processors, serdes and stores (in-memory engine) as production.
 *
 *   const driver = await TopologyTestDriver.create(topology, { applicationId: 'app' })
 *   const input = driver.createInputTopic('in', Serdes.string(), Serdes.json<Event>())
 *   const output = driver.createOutputTopic('out', Serdes.string(), Serdes.long())
 *   await input.pipe('k', event, { timestamp: 1000 })
 *   output.readKeyValues()
 *   await driver.close()
 *
 * Each `pipe` call is one input batch (one prefetch per store, as the runtime does per poll); records
 * written to topics the topology reads (repartition topics, or user topics it also consumes) are
 * processed before the call returns, and the stores are flushed so changelog topics are readable.
 *
 * Size: over 400 lines because it is a public API surface (input and output topics, store access,
 * wall-clock control) over the same StreamTask as production; splitting it would spread one class.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isNullableSerde } from '../../schemas/primitive-serdes.js'
import type { Serde } from '../../schemas/serde.js'
import {
  CacheBudget,
  engines,
  type GlobalKeyValueStore,
  type KeyValueStore,
  type StateStore,
  type StorageEngine,
  type Windowed,
  type WindowStore,
} from '../../state/index.js'
import type { RecordHeaders } from '../../topology/processor.js'
import { resolvePartitions, type Topology, type TopologyPlan } from '../../topology/topology.js'
import { RecordPartitioner } from '../query/key-partition.js'
import type { LogRecord } from '../standalone/embedded-log.js'
import type { ErrorPolicy, OutputRecord, SourceRecord } from '../task/records.js'
import { openGlobalStores } from '../task/global-stores.js'
import { RecordCollector } from '../task/record-collector.js'
import { InMemoryRecordSink } from '../task/record-sink.js'
import { StreamTask } from '../task/stream-task.js'
import { TaskMetrics } from '../task/task-metrics.js'

export interface TestDriverOptions {
  /** Prefix of internal topics (default `test-app`). */
  applicationId?: string
  /** Partition counts of user topics (default 1 each). */
  partitions?: Readonly<Record<string, number>>
  errorPolicy?: ErrorPolicy
  /** See `StreamTaskOptions.idleTimeoutMs`; driven by `advanceWallClockTime`. */
  idleTimeoutMs?: number
  /** Initial mock wall-clock time, epoch ms (default 0). */
  startWallClockMs?: number
  /** Default: the in-memory engine. */
  engine?: StorageEngine
  /** For disk engines; default: a new temporary directory. */
  stateDir?: string
  /** The record cache budget shared by all the driver's tasks, as in an instance (default 64 MiB). */
  cacheMaxBytes?: number
  /**
   * The tasks' forwarding cache (`StreamTaskOptions.forwardingCacheMaxEntries`). Default 0 (off):
   * every table update is forwarded, so tests see each one. When on, every `pipe*` and
   * `advanceWallClockTime` call is one commit interval: table updates within it reach downstream as
   * the latest value per key, when the call ends.
   */
  forwardingCacheMaxEntries?: number
}

/** A record as stored in a driver topic: as in the standalone runtime's log, less its global order. */
export type StoredRecord = Omit<LogRecord, 'sequence'>

export interface TestRecord<K, V> {
  readonly key: K
  readonly value: V
  readonly timestamp: number
  readonly headers: RecordHeaders
  readonly partition: number
  readonly offset: number
}

export interface PipeOptions {
  /** Event time; default: the driver's wall-clock time. */
  timestamp?: number
  headers?: RecordHeaders
  /** Default: by key hash (Kafka's murmur2 partitioner), round robin for null keys. */
  partition?: number
}

export interface RawInput extends PipeOptions {
  key: Buffer | null
  value: Buffer | null
}

/** A DLQ record with its headers as strings, for assertions. */
export interface DeadLetter {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly timestamp: number
  readonly headers: Readonly<Record<string, string>>
}

interface Topic {
  readonly partitions: StoredRecord[][]
  /** Every record in append order (what output readers walk). */
  readonly log: StoredRecord[]
}

export class TopologyTestDriver {
  readonly plan: TopologyPlan
  private readonly topics = new Map<string, Topic>()
  private readonly partitionCounts: ReadonlyMap<string, number>
  /** Tasks by source topic, indexed by partition. */
  private readonly readers = new Map<string, StreamTask[]>()
  private readonly tasks: StreamTask[] = []
  private readonly pending: { task: StreamTask; record: SourceRecord }[] = []
  /** Global table stores by name, and by source topic; filled in `create()` before the tasks start. */
  private readonly globalStores = new Map<string, GlobalKeyValueStore<unknown, unknown>>()
  private readonly globalByTopic = new Map<string, GlobalKeyValueStore<unknown, unknown>>()
  private readonly pendingGlobal: { store: GlobalKeyValueStore<unknown, unknown>; record: StoredRecord }[] = []
  private readonly engine: StorageEngine
  private readonly stateDir: string
  private readonly partitioner = new RecordPartitioner()
  private wallClockMs: number
  private busy = false
  private ownedStateDir: string | undefined

  private constructor(
    private readonly topology: Topology,
    private readonly options: TestDriverOptions,
  ) {
    this.plan = topology.plan(options.applicationId ?? 'test-app')
    this.wallClockMs = options.startWallClockMs ?? 0
    const resolved = resolvePartitions(this.plan, (topic) => options.partitions?.[topic] ?? 1)
    this.partitionCounts = resolved.topicPartitions
    const engine = options.engine ?? engines.memory()
    // A disk engine without a state directory gets a fresh one, so drivers never share files.
    const stateDir = options.stateDir ?? (engine.kind === 'memory' ? '/nonexistent/in-memory' : mkdtempSync(join(tmpdir(), 'sentinel-driver-')))
    if (options.stateDir === undefined && engine.kind !== 'memory') this.ownedStateDir = stateDir
    this.engine = engine
    this.stateDir = stateDir
    const cacheBudget = new CacheBudget(options.cacheMaxBytes ?? 64 * 1024 * 1024)
    for (const sub of this.plan.subtopologies) {
      const count = resolved.tasksPerSubtopology.get(sub.id)!
      const tasks: StreamTask[] = []
      for (let partition = 0; partition < count; partition++) {
        const task = new StreamTask({
          topology,
          plan: this.plan,
          subtopology: sub.id,
          partition,
          collector: new RecordCollector(new InMemoryRecordSink((record) => this.collect(record))),
          state: { engine, stateDir, cacheBudget },
          globalStores: this.globalStores,
          ...(options.errorPolicy ? { errorPolicy: options.errorPolicy } : {}),
          ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
          ...(options.forwardingCacheMaxEntries === undefined ? {} : { forwardingCacheMaxEntries: options.forwardingCacheMaxEntries }),
          wallClock: () => this.wallClockMs,
        })
        tasks.push(task)
        this.tasks.push(task)
      }
      for (const topic of sub.sourceTopics) this.readers.set(topic, tasks)
    }
  }

  static async create(topology: Topology, options: TestDriverOptions = {}): Promise<TopologyTestDriver> {
    const driver = new TopologyTestDriver(topology, options)
    for (const { plan, store } of await openGlobalStores(driver.plan, { engine: driver.engine, stateDir: driver.stateDir })) {
      driver.globalStores.set(plan.name, store)
      driver.globalByTopic.set(plan.topic, store)
    }
    for (const task of driver.tasks) await task.start()
    return driver
  }

  get wallClockTime(): number {
    return this.wallClockMs
  }

  /** The DLQ topic's name (`<applicationId>-dlq`). */
  get deadLetterTopic(): string {
    return this.plan.dlqTopic
  }

  createInputTopic<K, V>(topic: string, key: Serde<K>, value: Serde<V>): TestInputTopic<K, V> {
    if (!this.reads(topic)) {
      throw new Error(`the topology does not read topic '${topic}' (it reads: ${[...this.readers.keys(), ...this.globalByTopic.keys()].join(', ')})`)
    }
    return new TestInputTopic(this, topic, key, value)
  }

  createOutputTopic<K, V>(topic: string, key: Serde<K>, value: Serde<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(this, topic, key, value)
  }

  /** Every record in the DLQ so far. */
  deadLetters(): DeadLetter[] {
    return this.records(this.plan.dlqTopic).map((r) => ({
      key: r.key,
      value: r.value,
      timestamp: r.timestamp,
      headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])),
    }))
  }

  /** Every record written to `topic` so far, in append order. */
  records(topic: string): readonly StoredRecord[] {
    return this.topics.get(topic)?.log ?? []
  }

  /** Pipes raw bytes (e.g. a malformed record) into a topic as one batch. */
  async pipeRaw(topic: string, records: readonly RawInput[]): Promise<void> {
    if (this.busy) throw new Error('pipe calls must be awaited one at a time')
    if (!this.reads(topic)) throw new Error(`the topology does not read topic '${topic}'`)
    this.busy = true
    try {
      for (const r of records) {
        this.append({
          topic,
          key: r.key,
          value: r.value,
          timestamp: r.timestamp ?? this.wallClockMs,
          headers: r.headers ?? {},
          ...(r.partition === undefined ? {} : { partition: r.partition }),
        })
      }
      await this.commit()
    } finally {
      this.busy = false
    }
  }

  /** Advances the mock wall clock: wall-clock punctuators and idle timeouts fire. */
  async advanceWallClockTime(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new Error(`advanceWallClockTime: ms must be >= 0 (got ${ms})`)
    this.wallClockMs += ms
    for (const task of this.tasks) await task.punctuate(this.wallClockMs)
    await this.commit()
  }

  /** A task's store (raw), e.g. for `range()`/`fetch()`; a global table's store whatever the partition. */
  getStore<S extends StateStore>(name: string, partition = 0): S {
    const global = this.globalStores.get(name)
    if (global) return global as unknown as S
    for (const task of this.tasks) {
      if (task.partition !== partition) continue
      const store = task.stores.get(name)
      if (store) return store as S
    }
    throw new Error(`no store '${name}' on partition ${partition}`)
  }

  /** Every entry of a key-value store, across partitions. */
  async readKeyValueStore<K, V>(name: string): Promise<[K, V][]> {
    const out: [K, V][] = []
    for (const store of this.storesNamed(name)) for await (const entry of (store as KeyValueStore<K, V>).all()) out.push(entry)
    return out
  }

  /** Every window of a window store with start in [from, to], across partitions. */
  async readWindowStore<K, V>(name: string, from = 0, to = Number.MAX_SAFE_INTEGER): Promise<[Windowed<K>, V][]> {
    const out: [Windowed<K>, V][] = []
    for (const store of this.storesNamed(name)) for await (const entry of (store as WindowStore<K, V>).fetchAll(from, to)) out.push(entry)
    return out
  }

  /** Counters summed over all tasks. */
  metrics(): TaskMetrics {
    const total = new TaskMetrics()
    for (const task of this.tasks) {
      const m = task.metrics
      total.processed += m.processed
      total.deadLettered += m.deadLettered
      total.skipped += m.skipped
      total.late += m.late
      total.punctuations += m.punctuations
      total.punctuationErrors += m.punctuationErrors
      total.idleAdvances += m.idleAdvances
      total.outOfBounds.ahead += m.outOfBounds.ahead
      total.outOfBounds.behind += m.outOfBounds.behind
      total.duplicates += m.duplicates
      for (const [p, n] of m.lateByProcessor) total.lateByProcessor.set(p, (total.lateByProcessor.get(p) ?? 0) + n)
    }
    return total
  }

  /** Stream time of one task. */
  streamTime(subtopology = 0, partition = 0): number {
    const task = this.tasks.find((t) => t.id === `${subtopology}_${partition}`)
    if (!task) throw new Error(`no task ${subtopology}_${partition}`)
    return task.streamTime
  }

  async close(): Promise<void> {
    for (const task of this.tasks) await task.close()
    for (const store of this.globalStores.values()) await store.close()
    if (this.ownedStateDir) rmSync(this.ownedStateDir, { recursive: true, force: true })
  }

  /** @internal */
  partitionFor(topic: string, key: Buffer | null, explicit: number | undefined): number {
    const count = this.partitionCounts.get(topic) ?? this.options.partitions?.[topic] ?? 1
    return this.partitioner.partition(topic, count, key, explicit)
  }

  private storesNamed(name: string): StateStore[] {
    const global = this.globalStores.get(name)
    if (global) return [global]
    const stores = this.tasks.flatMap((t) => {
      const s = t.stores.get(name)
      return s ? [s] : []
    })
    if (stores.length === 0) throw new Error(`no store named '${name}'`)
    return stores
  }

  private collect(record: OutputRecord): void {
    const count = this.partitionCounts.get(record.topic) ?? this.options.partitions?.[record.topic] ?? 1
    const chosen = record.partition ?? record.choosePartition?.(count)
    this.append({
      topic: record.topic,
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      headers: record.headers,
      ...(chosen === undefined ? {} : { partition: chosen }),
    })
  }

  private append(record: Omit<StoredRecord, 'offset' | 'partition'> & { partition?: number }): void {
    const partition = this.partitionFor(record.topic, record.key, record.partition)
    let topic = this.topics.get(record.topic)
    if (!topic) {
      const count = Math.max(this.partitionCounts.get(record.topic) ?? this.options.partitions?.[record.topic] ?? 1, partition + 1)
      topic = { partitions: Array.from({ length: count }, () => []), log: [] }
      this.topics.set(record.topic, topic)
    }
    const log = topic.partitions[partition]!
    const stored: StoredRecord = {
      topic: record.topic,
      partition,
      offset: log.length,
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      headers: record.headers,
    }
    log.push(stored)
    topic.log.push(stored)
    const global = this.globalByTopic.get(record.topic)
    // As Kafka Streams' global consumer: records without a key cannot be rows.
    if (global && stored.key !== null) this.pendingGlobal.push({ store: global, record: stored })
    const task = this.readers.get(record.topic)?.[partition]
    if (task) {
      const source: SourceRecord = {
        topic: stored.topic,
        partition,
        offset: String(stored.offset),
        key: stored.key,
        value: stored.value,
        timestamp: stored.timestamp,
        headers: stored.headers,
      }
      this.pending.push({ task, record: source })
    }
  }

  private reads(topic: string): boolean {
    return this.readers.has(topic) || this.globalByTopic.has(topic)
  }

  /**
   * Processes pending records in rounds: global table updates first (as the runtime's global consumer
   * would have them by then), then each task gets its pending records as one batch.
   */
  private async drain(): Promise<void> {
    while (this.pending.length > 0 || this.pendingGlobal.length > 0) {
      for (const { store, record } of this.pendingGlobal.splice(0)) await store.restoreBatch([{ key: record.key!, value: record.value }])
      const round = this.pending.splice(0)
      const batches = new Map<StreamTask, SourceRecord[]>()
      for (const { task, record } of round) {
        const batch = batches.get(task)
        if (batch) batch.push(record)
        else batches.set(task, [record])
      }
      for (const [task, batch] of batches) await task.process(batch)
    }
  }

  /**
   * Processes everything pending, then flushes every task, as a commit does. A flush may forward
   * held-back table updates into topics the topology reads (repartition topics): those are processed
   * and flushed too, so the call ends with nothing pending.
   */
  private async commit(): Promise<void> {
    do {
      await this.drain()
      for (const task of this.tasks) await task.flush()
    } while (this.pending.length > 0 || this.pendingGlobal.length > 0)
  }
}

export class TestInputTopic<K, V> {
  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  pipe(key: K, value: V, options: PipeOptions = {}): Promise<void> {
    return this.pipeRecords([{ key, value, ...options }])
  }

  /** A record without key. */
  pipeValue(value: V, options: PipeOptions = {}): Promise<void> {
    return this.pipeRecords([{ key: null, value, ...options }])
  }

  /** Pipes records as one batch (one prefetch per store, as one consumer poll). */
  pipeRecords(records: readonly ({ key: K | null; value: V | null } & PipeOptions)[]): Promise<void> {
    return this.driver.pipeRaw(
      this.topic,
      records.map((r) => ({
        key: r.key === null ? null : this.keySerde.serialize(r.key, this.topic),
        value: r.value === null ? null : this.valueSerde.serialize(r.value, this.topic),
        ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
        ...(r.headers === undefined ? {} : { headers: r.headers }),
        ...(r.partition === undefined ? {} : { partition: r.partition }),
      })),
    )
  }
}

export class TestOutputTopic<K, V> {
  private position = 0
  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  get queueSize(): number {
    return this.driver.records(this.topic).length - this.position
  }

  isEmpty(): boolean {
    return this.queueSize === 0
  }

  readRecord(): TestRecord<K, V> | undefined {
    const stored = this.driver.records(this.topic)[this.position]
    if (!stored) return undefined
    this.position++
    return {
      key: this.decode(stored.key, this.keySerde, 'key', stored) as K,
      value: this.decode(stored.value, this.valueSerde, 'value', stored) as V,
      timestamp: stored.timestamp,
      headers: stored.headers,
      partition: stored.partition,
      offset: stored.offset,
    }
  }

  readRecords(): TestRecord<K, V>[] {
    const out: TestRecord<K, V>[] = []
    for (let r = this.readRecord(); r !== undefined; r = this.readRecord()) out.push(r)
    return out
  }

  readKeyValues(): [K, V][] {
    return this.readRecords().map((r) => [r.key, r.value])
  }

  readValues(): V[] {
    return this.readRecords().map((r) => r.value)
  }

  private decode(bytes: Buffer | null, serde: Serde<unknown>, what: string, stored: StoredRecord): unknown {
    if (bytes !== null) return serde.deserialize(bytes, this.topic)
    if (isNullableSerde(serde)) return null
    throw new Error(
      `${this.topic}-${stored.partition}@${stored.offset} has a null ${what}; read the topic with Serdes.nullable(${serde.name}) to see nulls`,
    )
  }
}
