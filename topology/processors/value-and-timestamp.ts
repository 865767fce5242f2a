import { readInt64BE, writeInt64BE } from '../../schemas/int64.js'
import { type Serde, SerdeError } from '../../schemas/serde.js'

/** A stored value with a timestamp beside it (a suppressed update's, a sliding window's latest record). */
export interface ValueAndTimestamp<V> {
  readonly value: V
  readonly timestamp: number
}

/** `[timestamp: int64 BE][value bytes]`. */
export function valueAndTimestampSerde<V>(value: Serde<V>, name = `timestamped(${value.name})`): Serde<ValueAndTimestamp<V>> {
  return {
    name,
    serialize(entry, topic) {
      const bytes = value.serialize(entry.value, topic)
      const out = Buffer.allocUnsafe(bytes.length + 8)
      writeInt64BE(out, entry.timestamp, 0)
      bytes.copy(out, 8)
      return out
    },
    deserialize(data, topic) {
      if (data.length < 8) throw new SerdeError(name, `expected at least 8 bytes, got ${data.length}`)
      return { timestamp: readInt64BE(data, 0), value: value.deserialize(data.subarray(8), topic) }
    },
  }
}
