import type { Windowed } from './windowed.js'
import { readInt64BE, writeInt64BE } from './int64.js'
import { type Serde, SerdeError } from './serde.js'

/**
 * `Windowed<K>` as `[inner key bytes][window start: int64 BE][window end: int64 BE]`. The window end
 * is stored (unlike Kafka Streams' time-windowed serde) so session windows and readers that do not
 * know the window size can decode it.
 */
export function windowedSerde<K>(inner: Serde<K>): Serde<Windowed<K>> {
  const name = `windowed(${inner.name})`
  return {
    name,
    serialize(value, topic) {
      const key = inner.serialize(value.key, topic)
      const out = Buffer.allocUnsafe(key.length + 16)
      key.copy(out, 0)
      writeInt64BE(out, value.window.start, key.length)
      writeInt64BE(out, value.window.end, key.length + 8)
      return out
    },
    deserialize(data, topic) {
      if (data.length < 16) throw new SerdeError(name, `expected at least 16 bytes, got ${data.length}`)
      const keyLength = data.length - 16
      const start = readInt64BE(data, keyLength)
      const end = readInt64BE(data, keyLength + 8)
      return { key: inner.deserialize(data.subarray(0, keyLength), topic), window: { start, end } }
    },
  }
}
