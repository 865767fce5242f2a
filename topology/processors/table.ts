/** Table operators. Table records carry `null` values as deletes (tombstones). */
import type { Serde } from '../../schemas/serde.js'
import type { KeyValueStore } from '../../state/types.js'
import { internal, type InternalProcessorContext } from '../internal-context.js'
import type { Processor, ProcessorContext, StreamRecord } from '../processor.js'
import { keyRowId } from './row-id.js'

/**
 * Materializes a table's source topic into its store and forwards each change (the latest per key
 * and commit, when the task's forwarding cache is on).
 */
export class TableSourceProcessor<K, V> implements Processor<K, V | null, K, V | null> {
  private context!: InternalProcessorContext<K, V | null>
  private store!: KeyValueStore<K, V>
  private readonly rowId: (key: K) => string
  constructor(
    private readonly storeName: string,
    keySerde: Serde<K>,
  ) {
    this.rowId = keyRowId(keySerde)
  }
  init(context: ProcessorContext<K, V | null>): void {
    this.context = internal(context)
    this.store = context.getStateStore<KeyValueStore<K, V>>(this.storeName)
  }
  process(record: StreamRecord<K, V | null>): void {
    if (record.key === null) throw new Error('a table record needs a key; null keys cannot be stored')
    if (record.value === null) this.store.delete(record.key)
    else this.store.put(record.key, record.value)
    if (this.context.cachesForwards) this.context.forwardLatest(record, 0, this.rowId(record.key), record.key, Infinity)
    else this.context.forward(record)
  }
}

/** A filtered-out row becomes a delete, so downstream tables drop it too (as Kafka Streams). */
export class TableFilterProcessor<K, V> implements Processor<K, V | null, K, V | null> {
  private context!: ProcessorContext<K, V | null>
  constructor(
    private readonly predicate: (key: K, value: V) => boolean,
    private readonly keepWhen: boolean,
  ) {}
  init(context: ProcessorContext<K, V | null>): void {
    this.context = context
  }
  process(record: StreamRecord<K, V | null>): void {
    if (record.value === null || this.predicate(record.key, record.value) === this.keepWhen) this.context.forward(record)
    else this.context.forward({ ...record, value: null })
  }
}

export class TableMapValuesProcessor<K, V, V2> implements Processor<K, V | null, K, V2 | null> {
  private context!: ProcessorContext<K, V2 | null>
  constructor(private readonly mapper: (value: V, key: K) => V2) {}
  init(context: ProcessorContext<K, V2 | null>): void {
    this.context = context
  }
  process(record: StreamRecord<K, V | null>): void {
    const value = record.value === null ? null : this.mapper(record.value, record.key)
    this.context.forward({ key: record.key, value, timestamp: record.timestamp, headers: record.headers })
  }
}

/** Table to stream: updates become records; deletes are not forwarded. */
export class ToStreamProcessor<K, V> implements Processor<K, V | null, K, V> {
  private context!: ProcessorContext<K, V>
  init(context: ProcessorContext<K, V>): void {
    this.context = context
  }
  process(record: StreamRecord<K, V | null>): void {
    if (record.value !== null) this.context.forward(record as StreamRecord<K, V>)
  }
}

/** Stream–table join: looks the stream record's key up in the table's store. */
export class StreamTableJoinProcessor<K, V, VT, VR> implements Processor<K, V, K, VR> {
  private context!: ProcessorContext<K, VR>
  private store!: KeyValueStore<K, VT>
  constructor(
    private readonly storeName: string,
    private readonly joiner: (value: V, tableValue: VT | undefined, key: K) => VR,
    private readonly inner: boolean,
  ) {}
  init(context: ProcessorContext<K, VR>): void {
    this.context = context
    this.store = context.getStateStore<KeyValueStore<K, VT>>(this.storeName)
  }
  process(record: StreamRecord<K, V>): void {
    if (record.key === null) throw new Error('a stream-table join needs a key; selectKey() to a non-null key first')
    const tableValue = this.store.get(record.key)
    if (this.inner && tableValue === undefined) return
    const value = this.joiner(record.value, tableValue, record.key)
    this.context.forward({ key: record.key, value, timestamp: record.timestamp, headers: record.headers })
  }
}
