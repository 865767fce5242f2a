/**
 * KTable-KTable joins (Kafka Streams' KTableKTable{Inner,Left,Right,Outer}Join): an update of either
 * table looks the key up in the other table's store and forwards the joined row, or a delete.
 * Table updates here carry no old value, so a delete is forwarded wherever Kafka Streams would
 * forward one, and also for a key that had no joined row (a delete of nothing, harmless downstream).
 */
import type { KeyValueStore } from '../../state/types.js'
import type { Processor, ProcessorContext, StreamRecord } from '../processor.js'

/** Which rows a side's update produces: `right` is a left join's right side (only where the left row exists). */
export type TableJoinSide = 'inner' | 'left' | 'right' | 'outer'

/** The user's joiner, always called as (left, right, key); `undefined` for a missing side. */
export type TableJoiner<K, VL, VR, VO> = (left: VL | undefined, right: VR | undefined, key: K) => VO

export class TableTableJoinProcessor<K, VO> implements Processor<K, unknown, K, VO | null> {
  private context!: ProcessorContext<K, VO | null>
  private other!: KeyValueStore<K, unknown>

  constructor(
    private readonly otherStore: string,
    private readonly side: TableJoinSide,
    /** Whether this processor takes the left table's updates. */
    private readonly leftSide: boolean,
    private readonly joiner: TableJoiner<K, unknown, unknown, VO>,
  ) {}

  init(context: ProcessorContext<K, VO | null>): void {
    this.context = context
    this.other = context.getStateStore<KeyValueStore<K, unknown>>(this.otherStore)
  }

  process(record: StreamRecord<K, unknown>): void {
    if (record.key === null || record.key === undefined) return
    const value = record.value ?? undefined
    const other = this.other.get(record.key)
    let joined: VO | null
    switch (this.side) {
      case 'inner':
        if (other === undefined) return
        joined = value === undefined ? null : this.join(value, other, record.key)
        break
      case 'left':
        joined = value === undefined ? null : this.join(value, other, record.key)
        break
      case 'right':
        if (other === undefined) return
        joined = this.join(value, other, record.key)
        break
      case 'outer':
        joined = value === undefined && other === undefined ? null : this.join(value, other, record.key)
        break
    }
    this.context.forward({ key: record.key, value: joined, timestamp: record.timestamp, headers: record.headers })
  }

  private join(value: unknown, other: unknown, key: K): VO {
    return this.leftSide ? this.joiner(value, other, key) : this.joiner(other, value, key)
  }
}
