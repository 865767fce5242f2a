/**
 * suppress(untilWindowCloses): buffers each window's latest value and emits it once, when stream time
 * reaches the window's close time. The values live in a logged key-value store (so a restarted task
 * rebuilds the buffer in `init` and emits nothing twice); memory holds only each buffered window's id
 * and close time, indexed by close time, and the closing windows' values are read back from the store.
 *
 * Why not the values in memory too (as before, and as Kafka Streams' in-memory buffer): the buffer
 * holds every window not closed yet, so its size follows the keys active within a window plus grace
 * (a session operator: within the gap), not the record cache's bound. With 1M users a session
 * summary each, ~550 bytes of heap per window was most of the process (bench/state/key-scale.ts);
 * an id and a close time are ~150. A bounded buffer (`maxRecords` / `maxBytes`) keeps its values in
 * memory, since it is bounded by definition: emit-early forwards them within the record that overfills it.
 */
import type { Serde } from '../../schemas/serde.js'
import type { KeyValueStore, TimeWindow, Windowed } from '../../state/types.js'
import { FatalTaskError, type Processor, type ProcessorContext, type StreamRecord } from '../processor.js'
import { internal, type InternalProcessorContext, type SourceKeyRead } from '../internal-context.js'
import { MinHeap } from './min-heap.js'
import { type ValueAndTimestamp, valueAndTimestampSerde } from './value-and-timestamp.js'

export type SuppressedEntry<V> = ValueAndTimestamp<V>

/** `[timestamp: int64 BE][value bytes]`; the name is part of describe()'s store line. */
export function suppressedEntrySerde<V>(value: Serde<V>): Serde<SuppressedEntry<V>> {
  return valueAndTimestampSerde(value, `suppressed(${value.name})`)
}

/** A buffered window's record, kept in memory by a bounded buffer only. */
interface Held<K, V> {
  readonly key: Windowed<K>
  readonly value: V
  readonly timestamp: number
  /** Bytes counted against `maxBytes`: key, value and timestamp as stored. */
  readonly size: number
}

interface Closing<K, V> {
  readonly key: Windowed<K>
  readonly value: V
  readonly timestamp: number
}

/** The bounds of a suppression buffer (Kafka Streams' `Suppressed.BufferConfig`). */
export interface SuppressBufferBounds {
  readonly maxRecords: number
  readonly maxBytes: number
  /** `shut-down`: the task stops with an error naming the bound (final results stay final). `emit-early`: the windows closing soonest are emitted before they close. */
  readonly whenFull: 'shut-down' | 'emit-early'
}

/** A full buffer under `shutDownWhenFull`: stops the task whatever the error policy. */
export class SuppressBufferFullError extends FatalTaskError {
  override readonly name = 'SuppressBufferFullError'
}

export class SuppressProcessor<K, V> implements Processor<Windowed<K>, V | null, Windowed<K>, V> {
  private context!: InternalProcessorContext<Windowed<K>, V>
  private store!: KeyValueStore<Windowed<K>, SuppressedEntry<V>>
  /** Each buffered window's close time, by id (its serialized windowed key). */
  private readonly closeAts = new Map<string, number>()
  /** With bounds only: each buffered window's record (emit-early forwards it synchronously). */
  private readonly held = new Map<string, Held<K, V>>()
  /** Ids by close time; an id whose close time changed or that left stays until popped, then is skipped. */
  private readonly byCloseTime = new MinHeap<string>()
  private bufferedBytes = 0
  /** The stream time up to which the current batch's load put the closing windows in the cache. */
  private loadedUpTo = -Infinity

  constructor(
    private readonly storeName: string,
    private readonly keySerde: Serde<Windowed<K>>,
    private readonly closeTime: (window: TimeWindow) => number,
    private readonly valueSerde?: Serde<V>,
    private readonly bounds?: SuppressBufferBounds & { readonly name: string },
  ) {}

  async init(context: ProcessorContext<Windowed<K>, V>): Promise<void> {
    this.context = internal(context)
    this.store = context.getStateStore<KeyValueStore<Windowed<K>, SuppressedEntry<V>>>(this.storeName)
    for await (const [key, entry] of this.store.all()) this.buffer_(this.id(key), key, entry.value, entry.timestamp)
    // Interval 1: runs whenever stream time advances (after the record that advanced it), including
    // idle-timeout advances of a quiet task. A window can only close when stream time advances.
    context.schedule(1, 'stream-time', (streamTime) => this.emitClosed(streamTime))
    if (!this.bounds) this.context.loadBeforeBatch((upTo) => this.loadClosing(upTo))
  }

  process(record: StreamRecord<Windowed<K>, V | null>): void {
    if (record.value === null) {
      // A session merged away or a filtered row: it was never final, so it is dropped, not emitted.
      const id = this.id(record.key)
      if (this.closeAts.has(id)) this.remove(id, record.key)
      return
    }
    this.buffer_(this.id(record.key), record.key, record.value, record.timestamp)
    this.store.put(record.key, { value: record.value, timestamp: record.timestamp })
    if (this.bounds) this.enforceBounds(this.bounds)
  }

  private enforceBounds(bounds: SuppressBufferBounds & { readonly name: string }): void {
    const over = (): boolean => this.closeAts.size > bounds.maxRecords || this.bufferedBytes > bounds.maxBytes
    if (!over()) return
    if (bounds.whenFull === 'shut-down') {
      throw new SuppressBufferFullError(
        `suppress '${bounds.name}': the buffer holds ${this.closeAts.size} windows (${this.bufferedBytes} bytes), over its bound ` +
          `(maxRecords ${bounds.maxRecords}, maxBytes ${bounds.maxBytes}) with shutDownWhenFull; raise the bound, shorten the grace, or use emitEarlyWhenFull`,
      )
    }
    // The windows closing soonest leave first, after this record, once their keys' stores are loaded.
    while (over()) {
      const next = this.byCloseTime.peekPriority()
      if (next === undefined) break
      const id = this.byCloseTime.pop()!
      const entry = this.held.get(id)
      if (entry === undefined || this.closeAts.get(id) !== next) continue
      this.remove(id, entry.key)
      this.context.forwardAfterPrefetch({ key: entry.key, value: entry.value, timestamp: entry.timestamp, headers: {} }, entry.key.key)
    }
  }

  private remove(id: string, key: Windowed<K>): void {
    this.closeAts.delete(id)
    const held = this.held.get(id)
    if (held) {
      this.held.delete(id)
      this.bufferedBytes -= held.size
    }
    this.store.delete(key)
  }

  private id(key: Windowed<K>): string {
    return this.keySerde.serialize(key).toString('latin1')
  }

  private buffer_(id: string, key: Windowed<K>, value: V, timestamp: number): void {
    const closeAt = this.closeTime(key.window)
    const previousCloseAt = this.closeAts.get(id)
    this.closeAts.set(id, closeAt)
    if (previousCloseAt !== closeAt) this.byCloseTime.push(closeAt, id)
    if (!this.bounds) return
    // Sized only when a byte bound asks for it: sizing serializes the value.
    const size = Number.isFinite(this.bounds.maxBytes) && this.valueSerde ? id.length + this.valueSerde.serialize(value).length + 8 : 0
    this.bufferedBytes += size - (this.held.get(id)?.size ?? 0)
    this.held.set(id, { key, value, timestamp, size })
  }

  /**
   * Before each input batch (with the batch's prefetch): loads into the cache the stored records of the
   * windows that close by `upTo`, the highest stream time the batch reaches, so that `emitClosed`
   * reads them synchronously; those it evicted come from RocksDB in this one batched read. The batch's
   * prefetch then loads the stores after suppress keyed by the source key for those windows' keys
   * (what it resolves to), so that a window that closes at some record of the batch is forwarded at
   * once, not after an engine read of its own (with keys spread over event time, nearly every record
   * closes one). A window buffered during the batch needs nothing more: its key and time are those of
   * a batch record, or of a held-back row coming due, which the task loads with the batch too.
   */
  private loadClosing(upTo: number): Promise<SourceKeyRead[]> | undefined {
    const keys: Windowed<K>[] = []
    this.byCloseTime.forEachUpTo(upTo, (closeAt, id) => {
      if (this.closeAts.get(id) === closeAt) keys.push(this.keyOf(id))
    })
    this.loadedUpTo = upTo
    if (keys.length === 0) return undefined
    return this.store.prefetch(keys).then(() => {
      const sources: SourceKeyRead[] = []
      for (const key of keys) {
        const entry = this.store.get(key)
        if (entry !== undefined) sources.push({ key: key.key, timestamp: entry.timestamp })
      }
      return sources
    })
  }

  /** Emits the closed windows; async only when there is something to emit. */
  private emitClosed(streamTime: number): Promise<void> | undefined {
    // Runs at every advance of stream time: most find nothing closed, and allocate nothing.
    const first = this.byCloseTime.peekPriority()
    if (first === undefined || first > streamTime) return undefined
    const due: string[] = []
    for (;;) {
      const next = this.byCloseTime.peekPriority()
      if (next === undefined || next > streamTime) break
      const id = this.byCloseTime.pop()!
      // Out of the buffer now: an id dropped and buffered again at the same close time is in the heap twice.
      if (this.closeAts.get(id) !== next) continue
      this.closeAts.delete(id)
      due.push(id)
    }
    if (due.length === 0) return undefined
    if (this.bounds) return this.forwardAll(this.takeHeld(due))
    const keys = due.map((id) => this.keyOf(id))
    // Within a batch, loadClosing loaded them; a window buffered since is in the cache as written.
    if (streamTime <= this.loadedUpTo) return this.forwardLoaded(this.takeStored(due, keys))
    return this.loadAndForward(due, keys)
  }

  /** Within a batch: loadClosing loaded the downstream stores for these windows. */
  private forwardLoaded(due: readonly Closing<K, V>[]): undefined {
    for (const entry of due) this.context.forward({ key: entry.key, value: entry.value, timestamp: entry.timestamp, headers: {} })
    return undefined
  }

  private takeHeld(ids: readonly string[]): Closing<K, V>[] {
    return ids.map((id) => {
      const entry = this.held.get(id)!
      this.remove(id, entry.key)
      return entry
    })
  }

  /** The closing windows' records from the store, which must hold them in its cache. */
  private takeStored(ids: readonly string[], keys: readonly Windowed<K>[]): Closing<K, V>[] {
    return keys.map((key, i) => {
      const entry = this.store.get(key)
      // The store is the buffer's only copy of the value: absent means it was lost, not never buffered.
      if (entry === undefined) throw new Error(`suppress: a buffered window (end ${key.window.end}) is missing from store '${this.storeName}'`)
      this.remove(ids[i]!, key)
      return { key, value: entry.value, timestamp: entry.timestamp }
    })
  }

  /**
   * Outside a batch (stream time advanced by the idle timeout, past what the last batch loaded): one
   * batched read of the closing windows, then as within a batch. The task runs nothing else meanwhile.
   */
  private async loadAndForward(ids: readonly string[], keys: readonly Windowed<K>[]): Promise<void> {
    await this.store.prefetch(keys)
    return this.forwardAll(this.takeStored(ids, keys))
  }

  private keyOf(id: string): Windowed<K> {
    return this.keySerde.deserialize(Buffer.from(id, 'latin1'))
  }

  private async forwardAll(due: readonly Closing<K, V>[]): Promise<void> {
    // Emitted outside the input batch: downstream stores keyed by the source key (the windows' key)
    // are loaded first, so processors after suppress can read them synchronously.
    await this.context.prefetchSourceKeys(due.map((e) => ({ key: e.key.key, timestamp: e.timestamp })))
    for (const entry of due) {
      this.context.forward({ key: entry.key, value: entry.value, timestamp: entry.timestamp, headers: {} })
    }
  }
}
