/** Serdes of the stream-stream join's stores: records per (key, time), and the non-joined buffer. */
import { type Serde, SerdeError } from '../../schemas/serde.js'
import { readOrderedInt64, writeOrderedInt64 } from '../../state/bytes.js'

/** `[count: u32]` then per value `[length: u32][bytes]`: the records of one key at one time, in arrival order. */
export function valueListSerde<V>(inner: Serde<V>): Serde<V[]> {
  const name = `list(${inner.name})`
  return {
    name,
    serialize(values, topic) {
      const parts = values.map((v) => inner.serialize(v, topic))
      const out = Buffer.allocUnsafe(4 + parts.reduce((n, p) => n + 4 + p.length, 0))
      out.writeUInt32BE(parts.length, 0)
      let at = 4
      for (const p of parts) {
        out.writeUInt32BE(p.length, at)
        p.copy(out, at + 4)
        at += 4 + p.length
      }
      return out
    },
    deserialize(data, topic) {
      if (data.length < 4) throw new SerdeError(name, `expected at least 4 bytes, got ${data.length}`)
      const count = data.readUInt32BE(0)
      const values: V[] = []
      let at = 4
      for (let i = 0; i < count; i++) {
        if (at + 4 > data.length) throw new SerdeError(name, `truncated at value ${i} of ${count}`)
        const length = data.readUInt32BE(at)
        if (at + 4 + length > data.length) throw new SerdeError(name, `truncated at value ${i} of ${count}`)
        values.push(inner.deserialize(data.subarray(at + 4, at + 4 + length), topic))
        at += 4 + length
      }
      return values
    },
  }
}

/** A key of the non-joined buffer: which side's records, of which key, at which time (Kafka Streams' TimestampedKeyAndJoinSide). */
export interface TimestampedKeyAndJoinSide<K> {
  readonly timestamp: number
  readonly leftSide: boolean
  readonly key: K
}

/** `[timestamp: 8 bytes ordered][side: 1 left, 0 right][key bytes]`: the buffer's entries sort by time first. */
export function timestampedKeyAndJoinSideSerde<K>(key: Serde<K>): Serde<TimestampedKeyAndJoinSide<K>> {
  const name = `timestamped-key-and-join-side(${key.name})`
  return {
    name,
    serialize(k, topic) {
      const bytes = key.serialize(k.key, topic)
      const out = Buffer.allocUnsafe(9 + bytes.length)
      writeOrderedInt64(out, k.timestamp, 0)
      out[8] = k.leftSide ? 1 : 0
      bytes.copy(out, 9)
      return out
    },
    deserialize(data, topic) {
      if (data.length < 9) throw new SerdeError(name, `expected at least 9 bytes, got ${data.length}`)
      return { timestamp: readOrderedInt64(data, 0), leftSide: data[8] === 1, key: key.deserialize(data.subarray(9), topic) }
    },
  }
}

/** The non-joined records of one buffer entry: left values or right values. */
export type LeftOrRightValues<VL, VR> = { readonly leftSide: true; readonly values: VL[] } | { readonly leftSide: false; readonly values: VR[] }

/** `[side: 1 left, 0 right][list of that side's values]`. */
export function leftOrRightValuesSerde<VL, VR>(left: Serde<VL>, right: Serde<VR>): Serde<LeftOrRightValues<VL, VR>> {
  const lefts = valueListSerde(left)
  const rights = valueListSerde(right)
  const name = `left-or-right(${left.name}, ${right.name})`
  return {
    name,
    serialize(v, topic) {
      const list = v.leftSide ? lefts.serialize(v.values, topic) : rights.serialize(v.values, topic)
      return Buffer.concat([Buffer.from([v.leftSide ? 1 : 0]), list])
    },
    deserialize(data, topic) {
      if (data.length < 1) throw new SerdeError(name, 'expected at least 1 byte')
      return data[0] === 1 ? { leftSide: true, values: lefts.deserialize(data.subarray(1), topic) } : { leftSide: false, values: rights.deserialize(data.subarray(1), topic) }
    },
  }
}
