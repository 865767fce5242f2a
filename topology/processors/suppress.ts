/**
 * suppress(untilWindowCloses): buffers each window's latest value and emits it once, when stream time
 * reaches the window's close time. The buffer lives in memory, indexed by close time, and is mirrored
 * to a logged key-value store so a restarted task rebuilds it (`init`) and emits nothing twice.
 */
import type { Serde } from '../../schemas/serde.js'
import type { KeyValueStore, TimeWindow, Windowed } from '../../state/types.js'
import { FatalTaskError, type Processor, type ProcessorContext, type StreamRecord } from '../processor.js'
import { internal, type InternalProcessorContext } from '../internal-context.js'
import { MinHeap } from './min-heap.js'
import { type ValueAndTimestamp, valueAndTimestampSerde } from './value-and-timestamp.js'

export type SuppressedEntry<V> = ValueAndTimestamp<V>

/** `[timestamp: int64 BE][value bytes]`; the name is part of describe()'s store line. */
export function suppressedEntrySerde<V>(value: Serde<V>): Serde<SuppressedEntry<V>> {
  return valueAndTimestampSerde(value, `suppressed(${value.name})`)
}

interface Buffered<K, V> {
  readonly key: Windowed<K>
  readonly value: V
  readonly timestamp: number
  readonly closeAt: number
  /** Bytes counted against `maxBytes`: key, value and timestamp as stored. */
  readonly size: number
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
  private readonly buffer = new Map<string, Buffered<K, V>>()
  private readonly byCloseTime = new MinHeap<string>()
  private bufferedBytes = 0

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
    for await (const [key, entry] of this.store.all()) this.buffer_(key, entry.value, entry.timestamp)
    // Interval 1: runs whenever stream time advances (after the record that advanced it), including
    // idle-timeout advances of a quiet task. A window can only close when stream time advances.
    context.schedule(1, 'stream-time', (streamTime) => this.emitClosed(streamTime))
  }

  process(record: StreamRecord<Windowed<K>, V | null>): void {
    if (record.value === null) {
      // A session merged away or a filtered row: it was never final, so it is dropped, not emitted.
      const id = this.id(record.key)
      const previous = this.buffer.get(id)
      if (previous) {
        this.buffer.delete(id)
        this.bufferedBytes -= previous.size
        this.store.delete(record.key)
      }
      return
    }
    this.buffer_(record.key, record.value, record.timestamp)
    this.store.put(record.key, { value: record.value, timestamp: record.timestamp })
    if (this.bounds) this.enforceBounds(this.bounds)
  }

  private enforceBounds(bounds: SuppressBufferBounds & { readonly name: string }): void {
    const over = (): boolean => this.buffer.size > bounds.maxRecords || this.bufferedBytes > bounds.maxBytes
    if (!over()) return
    if (bounds.whenFull === 'shut-down') {
      throw new SuppressBufferFullError(
        `suppress '${bounds.name}': the buffer holds ${this.buffer.size} windows (${this.bufferedBytes} bytes), over its bound ` +
          `(maxRecords ${bounds.maxRecords}, maxBytes ${bounds.maxBytes}) with shutDownWhenFull; raise the bound, shorten the grace, or use emitEarlyWhenFull`,
      )
    }
    // The windows closing soonest leave first, after this record, once their keys' stores are loaded.
    while (over()) {
      const next = this.byCloseTime.peekPriority()
      if (next === undefined) break
      const id = this.byCloseTime.pop()!
      const entry = this.buffer.get(id)
      if (entry === undefined || entry.closeAt !== next) continue
      this.remove(id, entry)
      this.context.forwardAfterPrefetch({ key: entry.key, value: entry.value, timestamp: entry.timestamp, headers: {} }, entry.key.key)
    }
  }

  private remove(id: string, entry: Buffered<K, V>): void {
    this.buffer.delete(id)
    this.bufferedBytes -= entry.size
    this.store.delete(entry.key)
  }

  private id(key: Windowed<K>): string {
    return this.keySerde.serialize(key).toString('latin1')
  }

  private buffer_(key: Windowed<K>, value: V, timestamp: number): void {
    const id = this.id(key)
    const closeAt = this.closeTime(key.window)
    const previous = this.buffer.get(id)
    // Sized only when a byte bound asks for it: sizing serializes the value.
    const size = this.bounds && Number.isFinite(this.bounds.maxBytes) && this.valueSerde ? id.length + this.valueSerde.serialize(value).length + 8 : 0
    this.buffer.set(id, { key, value, timestamp, closeAt, size })
    this.bufferedBytes += size - (previous?.size ?? 0)
    if (previous?.closeAt !== closeAt) this.byCloseTime.push(closeAt, id)
  }

  /** Emits the closed windows; async only when there is something to emit. */
  private emitClosed(streamTime: number): Promise<void> | undefined {
    // Runs at every advance of stream time: most find nothing closed, and allocate nothing.
    const first = this.byCloseTime.peekPriority()
    if (first === undefined || first > streamTime) return undefined
    const due: Buffered<K, V>[] = []
    for (;;) {
      const next = this.byCloseTime.peekPriority()
      if (next === undefined || next > streamTime) break
      const id = this.byCloseTime.pop()!
      const entry = this.buffer.get(id)
      if (entry === undefined || entry.closeAt !== next) continue
      this.remove(id, entry)
      due.push(entry)
    }
    if (due.length === 0) return undefined
    return this.forwardAll(due)
  }

  private async forwardAll(due: readonly Buffered<K, V>[]): Promise<void> {
    // Emitted outside the input batch: downstream stores keyed by the source key (the windows' key)
    // are loaded first, so processors after suppress can read them synchronously.
    await this.context.prefetchSourceKeys(due.map((e) => ({ key: e.key.key, timestamp: e.timestamp })))
    for (const entry of due) {
      this.context.forward({ key: entry.key, value: entry.value, timestamp: entry.timestamp, headers: {} })
    }
  }
}
