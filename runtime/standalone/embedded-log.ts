/**
 * The embedded in-process log standalone mode runs on: Kafka's model (topics of partitions, records
 * at offsets, per-group committed offsets), in memory, for one process.
 *
 * It is memory only: nothing here survives the process. Records appended but not yet processed and
 * committed into the stores are lost on a crash or kill (the stores on disk keep what was flushed at
 * the last commit). Crash recovery of in-flight records and scale-out need Kafka.
 *
 * Each partition keeps a bounded tail (retention in records and bytes): the oldest records are
 * dropped, as Kafka's retention does, and a reader behind the log start jumps to it (its loss is
 * the reader's to report). Readers wait for appends through `subscribe` wake-ups, never by polling.
 */
import type { RecordHeaders } from '../../topology/processor.js'
import { RecordPartitioner, UnknownPartitionError } from '../query/key-partition.js'

export { UnknownPartitionError }

export interface LogRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** Epoch ms. */
  readonly timestamp: number
  readonly headers: RecordHeaders
  /** Position in the log's global append order, across topics (to merge a task's inputs as appended). */
  readonly sequence: number
}

export interface AppendRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** Epoch ms; default now. */
  readonly timestamp?: number
  readonly headers?: RecordHeaders
  /** Default: Kafka's key hash partitioner (murmur2), round robin for null keys. */
  readonly partition?: number
}

export interface LogRetention {
  /** Records kept per partition (default 100 000). */
  readonly maxRecords?: number
  /** Approximate bytes (keys, values, headers) kept per partition (default 64 MiB). */
  readonly maxBytes?: number
}

export interface EmbeddedLogOptions {
  /** Partitions of a topic created on first use (default 1: one process needs no more). */
  readonly defaultPartitions?: number
  readonly retention?: LogRetention
  /** Default Date.now. */
  readonly clock?: () => number
}

export const LOG_DEFAULTS = { defaultPartitions: 1, maxRecords: 100_000, maxBytes: 64 * 1024 * 1024 } as const

/** Bytes counted per record beyond key, value and headers (object, array slot). */
const RECORD_OVERHEAD = 64

class PartitionLog {
  /** Retained records are `records[head..]`; `records[i]` has offset `base + i`. */
  private records: LogRecord[] = []
  private head = 0
  private base = 0
  bytes = 0

  get startOffset(): number {
    return this.base + this.head
  }

  get endOffset(): number {
    return this.base + this.records.length
  }

  get size(): number {
    return this.records.length - this.head
  }

  push(record: LogRecord, bytes: number): void {
    this.records.push(record)
    this.bytes += bytes
  }

  dropOldest(bytesOf: (r: LogRecord) => number): void {
    const oldest = this.records[this.head]
    if (!oldest) return
    this.bytes -= bytesOf(oldest)
    this.records[this.head] = undefined as unknown as LogRecord
    this.head++
    // Compact now and then, not per drop: amortised O(1) without an unbounded array.
    if (this.head >= 1024 && this.head * 2 >= this.records.length) {
      this.records = this.records.slice(this.head)
      this.base += this.head
      this.head = 0
    }
  }

  /** Drops every record before `offset`; returns how many. */
  deleteBefore(offset: number, bytesOf: (r: LogRecord) => number): number {
    const count = Math.min(offset, this.endOffset) - this.startOffset
    for (let i = 0; i < count; i++) this.dropOldest(bytesOf)
    return Math.max(0, count)
  }

  read(from: number, max: number): LogRecord[] {
    const start = Math.max(from, this.startOffset) - this.base
    if (start >= this.records.length) return []
    return this.records.slice(start, Math.min(this.records.length, start + max))
  }
}

interface Topic {
  readonly partitions: PartitionLog[]
}

export type AppendListener = (topic: string, partition: number) => void

export class EmbeddedLog {
  private readonly topicsByName = new Map<string, Topic>()
  /** group -> "topic\u0000partition" -> next offset to read. */
  private readonly groups = new Map<string, Map<string, number>>()
  private readonly listeners = new Map<string | null, Set<AppendListener>>()
  private readonly partitioner = new RecordPartitioner()
  private readonly defaultPartitions: number
  private readonly maxRecords: number
  private readonly maxBytes: number
  private readonly clock: () => number
  private sequence = 0

  constructor(options: EmbeddedLogOptions = {}) {
    this.defaultPartitions = positive('defaultPartitions', options.defaultPartitions ?? LOG_DEFAULTS.defaultPartitions)
    this.maxRecords = positive('retention.maxRecords', options.retention?.maxRecords ?? LOG_DEFAULTS.maxRecords)
    this.maxBytes = positive('retention.maxBytes', options.retention?.maxBytes ?? LOG_DEFAULTS.maxBytes)
    this.clock = options.clock ?? Date.now
  }

  /**
   * Creates a topic, or checks an existing one: a topic may grow (as Kafka's can), never shrink.
   * Returns its partition count.
   */
  createTopic(name: string, partitions = this.defaultPartitions): number {
    positive(`partitions of '${name}'`, partitions)
    const existing = this.topicsByName.get(name)
    if (!existing) {
      this.topicsByName.set(name, { partitions: Array.from({ length: partitions }, () => new PartitionLog()) })
      return partitions
    }
    while (existing.partitions.length < partitions) existing.partitions.push(new PartitionLog())
    return existing.partitions.length
  }

  hasTopic(name: string): boolean {
    return this.topicsByName.has(name)
  }

  /** The topic's partition count, or undefined before its first use. */
  partitionCount(topic: string): number | undefined {
    return this.topicsByName.get(topic)?.partitions.length
  }

  topics(): string[] {
    return [...this.topicsByName.keys()]
  }

  /** Appends one record (creating the topic with the default partition count on first use). */
  append(topic: string, record: AppendRecord): LogRecord {
    const t = this.topic(topic)
    const partition = this.partitioner.partition(topic, t.partitions.length, record.key, record.partition)
    const log = t.partitions[partition]!
    const stored: LogRecord = {
      topic,
      partition,
      offset: log.endOffset,
      key: record.key,
      value: record.value,
      timestamp: record.timestamp ?? this.clock(),
      headers: record.headers ?? {},
      sequence: this.sequence++,
    }
    log.push(stored, recordBytes(stored))
    while (log.size > this.maxRecords || (log.bytes > this.maxBytes && log.size > 1)) log.dropOldest(recordBytes)
    this.notify(topic, partition)
    return stored
  }

  /** Records of one partition from `offset` on (from the log start if `offset` fell out of retention). */
  read(topic: string, partition: number, offset: number, maxRecords = 1000): LogRecord[] {
    const log = this.topicsByName.get(topic)?.partitions[partition]
    if (!log) return []
    return log.read(offset, maxRecords)
  }

  startOffset(topic: string, partition: number): number {
    return this.partitionLog(topic, partition)?.startOffset ?? 0
  }

  endOffset(topic: string, partition: number): number {
    return this.partitionLog(topic, partition)?.endOffset ?? 0
  }

  /**
   * Drops a partition's records before `offset` (Kafka's deleteRecords): e.g. a repartition topic's
   * records once the task reading them has committed past them. Returns how many were dropped.
   */
  deleteRecordsBefore(topic: string, partition: number, offset: number): number {
    const log = this.partitionLog(topic, partition)
    if (!log) throw new UnknownPartitionError(`cannot delete records of ${topic}-${partition}: no such partition`)
    return log.deleteBefore(offset, recordBytes)
  }

  /** Records the next offset `group` will read in a partition. */
  commit(group: string, topic: string, partition: number, offset: number): void {
    if (!this.partitionLog(topic, partition)) throw new UnknownPartitionError(`cannot commit ${topic}-${partition}: no such partition`)
    let offsets = this.groups.get(group)
    if (!offsets) this.groups.set(group, (offsets = new Map()))
    offsets.set(partitionKey(topic, partition), offset)
  }

  committed(group: string, topic: string, partition: number): number | undefined {
    return this.groups.get(group)?.get(partitionKey(topic, partition))
  }

  /** Calls `listener` synchronously on every append to `topics` (null: any topic); returns the unsubscribe. */
  subscribe(topics: readonly string[] | null, listener: AppendListener): () => void {
    const keys = topics ?? [null]
    for (const key of keys) {
      let set = this.listeners.get(key)
      if (!set) this.listeners.set(key, (set = new Set()))
      set.add(listener)
    }
    return () => {
      for (const key of keys) this.listeners.get(key)?.delete(listener)
    }
  }

  /** The partition Kafka's default partitioner gives a non-null key among `count` partitions. */
  partitionForKey(topic: string, key: Buffer, count: number): number {
    return this.partitioner.partition(topic, count, key, undefined)
  }

  private topic(name: string): Topic {
    let t = this.topicsByName.get(name)
    if (!t) {
      this.createTopic(name)
      t = this.topicsByName.get(name)!
    }
    return t
  }

  private partitionLog(topic: string, partition: number): PartitionLog | undefined {
    return this.topicsByName.get(topic)?.partitions[partition]
  }

  private notify(topic: string, partition: number): void {
    const forTopic = this.listeners.get(topic)
    if (forTopic) for (const listener of forTopic) listener(topic, partition)
    const any = this.listeners.get(null)
    if (any) for (const listener of any) listener(topic, partition)
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

function recordBytes(r: LogRecord): number {
  let bytes = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0)
  for (const [k, v] of Object.entries(r.headers)) {
    bytes += k.length
    if (Array.isArray(v)) for (const item of v as unknown[]) bytes += headerLength(item)
    else bytes += headerLength(v)
  }
  return bytes
}

function headerLength(v: unknown): number {
  return Buffer.isBuffer(v) ? v.length : typeof v === 'string' ? v.length : 0
}

function positive(field: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`embedded log: ${field} must be a positive integer, got ${value}`)
  return value
}
