/**
 * KStream-KStream windowed joins, after Kafka Streams' KStreamKStreamJoin (3.x, with its fix for
 * spurious left/outer results):
 *
 *   source L -> JoinWindowProcessor (L's store) -> StreamStreamJoinProcessor(left)  (reads R's store) -+-> merge
 *   source R -> JoinWindowProcessor (R's store) -> StreamStreamJoinProcessor(right) (reads L's store) -+
 *
 * Each side keeps its records in a window store by (key, time), a list per time for duplicates.
 * Left and outer joins keep a record without a partner in a shared buffer until its window closes,
 * then emit it with `undefined` for the missing side; a partner arriving in time removes it. The
 * buffer is held in memory (ordered by time) and mirrored to a logged key-value store, from which a
 * restarted task rebuilds it, as `suppress` does: emitting closed entries needs no scan per record.
 */
import type { Serde } from '../../schemas/serde.js'
import type { KeyValueStore, WindowStore } from '../../state/types.js'
import type { Processor, ProcessorContext, StreamRecord } from '../processor.js'
import type { JoinWindows } from '../windows.js'
import { type LeftOrRightValues, type TimestampedKeyAndJoinSide } from './stream-join-serdes.js'

/** The window starts a record at `timestamp` reads, on either side: its own time and its partners'. */
export function startsReadByJoin(windows: JoinWindows): (timestamp: number) => { from: number; to: number } {
  const reach = Math.max(windows.beforeMs, windows.afterMs, 0)
  return (timestamp) => ({ from: timestamp - reach, to: timestamp + reach })
}

/** Appends each keyed record to its side's window store, after passing it on (Kafka Streams' KStreamJoinWindow). */
export class JoinWindowProcessor<K, V> implements Processor<K, V, K, V> {
  private context!: ProcessorContext<K, V>
  private store!: WindowStore<K, V[]>
  constructor(private readonly storeName: string) {}
  init(context: ProcessorContext<K, V>): void {
    this.context = context
    this.store = context.getStateStore<WindowStore<K, V[]>>(this.storeName)
  }
  process(record: StreamRecord<K, V>): void {
    this.context.forward(record)
    if (record.key === null || record.key === undefined || record.value === null || record.value === undefined) return
    const existing = this.store.findWindows(record.key, record.timestamp, record.timestamp)[0]?.[1]
    this.store.put(record.key, existing ? [...existing, record.value] : [record.value], record.timestamp)
  }
}

interface BufferEntry<K> {
  readonly id: string
  readonly timestamp: number
  readonly leftSide: boolean
  readonly key: K
  readonly keyBytes: Buffer
  values: unknown[]
}

/**
 * The non-joined records of a left or outer join in one task, shared by both join processors (one
 * per store instance), mirrored to the store: puts and deletes are blind writes.
 */
export class OuterJoinBuffer<K> {
  private static readonly byStore = new WeakMap<object, OuterJoinBuffer<unknown>>()
  private readonly entries = new Map<string, BufferEntry<K>>()
  private loading: Promise<void> | undefined
  /** No entry is older than this (a bound, not exact: deletes do not raise it). */
  minTime = Infinity

  private constructor(
    private readonly store: KeyValueStore<TimestampedKeyAndJoinSide<K>, LeftOrRightValues<unknown, unknown>>,
    private readonly keySerde: Serde<K>,
  ) {}

  /** The buffer of this task's store, loaded from it once. */
  static async of<K>(store: KeyValueStore<TimestampedKeyAndJoinSide<K>, LeftOrRightValues<unknown, unknown>>, keySerde: Serde<K>): Promise<OuterJoinBuffer<K>> {
    let buffer = OuterJoinBuffer.byStore.get(store) as OuterJoinBuffer<K> | undefined
    if (!buffer) {
      buffer = new OuterJoinBuffer(store, keySerde)
      OuterJoinBuffer.byStore.set(store, buffer as OuterJoinBuffer<unknown>)
    }
    buffer.loading ??= buffer.load()
    await buffer.loading
    return buffer
  }

  private async load(): Promise<void> {
    for await (const [k, v] of this.store.all()) this.entry(k.timestamp, k.leftSide, k.key).values = [...v.values]
  }

  add(timestamp: number, leftSide: boolean, key: K, value: unknown): void {
    const entry = this.entry(timestamp, leftSide, key)
    entry.values = [...entry.values, value]
    this.store.put({ timestamp, leftSide, key }, { leftSide, values: entry.values } as LeftOrRightValues<unknown, unknown>)
  }

  /** A partner arrived: the other side's records of this key at this time are joined, not left over. */
  remove(timestamp: number, leftSide: boolean, key: K): void {
    const id = this.id(timestamp, leftSide, this.keySerde.serialize(key))
    if (!this.entries.delete(id)) return
    this.store.delete({ timestamp, leftSide, key })
  }

  /**
   * Takes out the entries whose window closed (time + look-back + grace < stream time; look-back:
   * `after` for left records, `before` for right ones), in Kafka Streams' order: time, side (right
   * first), key bytes.
   */
  takeClosed(streamTime: number, windows: JoinWindows): BufferEntry<K>[] {
    const due: BufferEntry<K>[] = []
    let minTime = Infinity
    for (const entry of this.entries.values()) {
      const lookBack = entry.leftSide ? windows.afterMs : windows.beforeMs
      if (entry.timestamp + lookBack + windows.graceMs < streamTime) due.push(entry)
      else minTime = Math.min(minTime, entry.timestamp)
    }
    this.minTime = minTime
    due.sort((a, b) => a.timestamp - b.timestamp || Number(a.leftSide) - Number(b.leftSide) || Buffer.compare(a.keyBytes, b.keyBytes))
    for (const entry of due) {
      this.entries.delete(entry.id)
      this.store.delete({ timestamp: entry.timestamp, leftSide: entry.leftSide, key: entry.key })
    }
    return due
  }

  private entry(timestamp: number, leftSide: boolean, key: K): BufferEntry<K> {
    const keyBytes = this.keySerde.serialize(key)
    const id = this.id(timestamp, leftSide, keyBytes)
    let entry = this.entries.get(id)
    if (!entry) {
      entry = { id, timestamp, leftSide, key, keyBytes, values: [] }
      this.entries.set(id, entry)
      this.minTime = Math.min(this.minTime, timestamp)
    }
    return entry
  }

  private id(timestamp: number, leftSide: boolean, keyBytes: Buffer): string {
    return `${timestamp}|${leftSide ? 'L' : 'R'}|${keyBytes.toString('latin1')}`
  }
}

/** The user's joiner, always called as (key, left value, right value); `undefined` for a missing side. */
export type StreamJoiner<K, VL, VR, VO> = (key: K, left: VL | undefined, right: VR | undefined) => VO

export interface StreamJoinSide {
  /** Which input this processor takes. */
  readonly leftSide: boolean
  /** Whether a record of this side without a partner is emitted (left: left and outer joins; right: outer joins). */
  readonly outer: boolean
  /** The other side's window store. */
  readonly otherStore: string
  /** The non-joined buffer's store (left and outer joins). */
  readonly bufferStore: string | undefined
}

export class StreamStreamJoinProcessor<K, VThis, VO> implements Processor<K, VThis, K, VO> {
  private context!: ProcessorContext<K, VO>
  private other!: WindowStore<K, unknown[]>
  private buffer: OuterJoinBuffer<K> | undefined
  /** Partners of a record at t: other-side records within [t - joinBefore, t + joinAfter]. */
  private readonly joinBeforeMs: number
  private readonly joinAfterMs: number

  constructor(
    private readonly side: StreamJoinSide,
    private readonly windows: JoinWindows,
    private readonly joiner: StreamJoiner<K, unknown, unknown, VO>,
    private readonly keySerde: Serde<K>,
  ) {
    this.joinBeforeMs = side.leftSide ? windows.beforeMs : windows.afterMs
    this.joinAfterMs = side.leftSide ? windows.afterMs : windows.beforeMs
  }

  async init(context: ProcessorContext<K, VO>): Promise<void> {
    this.context = context
    this.other = context.getStateStore<WindowStore<K, unknown[]>>(this.side.otherStore)
    if (this.side.bufferStore !== undefined) {
      const store = context.getStateStore<KeyValueStore<TimestampedKeyAndJoinSide<K>, LeftOrRightValues<unknown, unknown>>>(this.side.bufferStore)
      this.buffer = await OuterJoinBuffer.of(store, this.keySerde)
    }
  }

  process(record: StreamRecord<K, VThis>): void {
    const { key, value, timestamp } = record
    if (key === null || key === undefined) {
      // Nothing to join by; an outer side still reports the record (Kafka Streams does the same).
      if (this.side.outer && value !== null && value !== undefined) this.context.forward({ ...record, value: this.join(key, value, undefined) })
      return
    }
    if (value === null || value === undefined) return
    const streamTime = this.context.streamTime()
    // Records that moved stream time forward are the moments windows close.
    if (this.buffer && timestamp === streamTime) this.emitClosed(record, streamTime)

    const from = Math.max(0, timestamp - this.joinBeforeMs)
    const to = Math.max(0, timestamp + this.joinAfterMs)
    let joined = false
    for (const [otherTime, values] of this.other.findWindows(key, from, to)) {
      for (const otherValue of values) {
        joined = true
        this.buffer?.remove(otherTime, !this.side.leftSide, key)
        this.context.forward({ key, value: this.join(key, value, otherValue), timestamp: Math.max(timestamp, otherTime), headers: record.headers })
      }
    }
    if (joined || !this.side.outer) return
    // Its window ended before stream time (an out-of-order record): no partner can come any more
    // within the window (Kafka Streams compares without grace here), so it is emitted at once.
    if (!this.buffer || to < streamTime) this.context.forward({ ...record, value: this.join(key, value, undefined) })
    else this.buffer.add(timestamp, this.side.leftSide, key, value)
  }

  private emitClosed(record: StreamRecord<K, VThis>, streamTime: number): void {
    const buffer = this.buffer!
    // Cheap test first, as Kafka Streams: nothing can have closed yet.
    if (buffer.minTime + this.joinAfterMs + this.windows.graceMs >= streamTime) return
    for (const entry of buffer.takeClosed(streamTime, this.windows)) {
      for (const v of entry.values) {
        const value = entry.leftSide ? this.joiner(entry.key, v, undefined) : this.joiner(entry.key, undefined, v)
        this.context.forward({ key: entry.key, value, timestamp: entry.timestamp, headers: record.headers })
      }
    }
  }

  private join(key: K, thisValue: unknown, otherValue: unknown): VO {
    return this.side.leftSide ? this.joiner(key, thisValue, otherValue) : this.joiner(key, otherValue, thisValue)
  }
}
