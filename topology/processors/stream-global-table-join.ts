/** KStream-GlobalKTable join: each record looks up the key it computes in the global table's store. */
import type { KeyValueStore } from '../../state/types.js'
import type { Processor, ProcessorContext, StreamRecord } from '../processor.js'

export class StreamGlobalTableJoinProcessor<K, V, GK, GV, VR> implements Processor<K, V | null, K, VR> {
  private context!: ProcessorContext<K, VR>
  private store!: KeyValueStore<GK, GV>
  constructor(
    private readonly storeName: string,
    private readonly keySelector: (key: K, value: V) => GK | null | undefined,
    private readonly joiner: (value: V, globalValue: GV | undefined, key: K) => VR,
    private readonly inner: boolean,
  ) {}
  init(context: ProcessorContext<K, VR>): void {
    this.context = context
    this.store = context.getStateStore<KeyValueStore<GK, GV>>(this.storeName)
  }
  process(record: StreamRecord<K, V | null>): void {
    // As Kafka Streams: a record without a value joins nothing; one whose selector finds no key (null)
    // is dropped by an inner join and joined with no row by a left join.
    if (record.value === null || record.value === undefined) return
    const value = record.value
    const globalKey = this.keySelector(record.key, value)
    const globalValue = globalKey === null || globalKey === undefined ? undefined : this.store.get(globalKey)
    if (this.inner && globalValue === undefined) return
    this.context.forward({ key: record.key, value: this.joiner(value, globalValue, record.key), timestamp: record.timestamp, headers: record.headers })
  }
}
