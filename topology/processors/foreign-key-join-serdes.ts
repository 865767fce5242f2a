/**
 * Wire formats of the foreign-key join's internal topics and stores. Keys of the left table travel
 * as the bytes its key serde made (`Serdes.bytes()`): the right side never needs their type, and the
 * response topic is then partitioned exactly as the left table's own records were.
 */
import { type Serde, SerdeError } from '../../schemas/serde.js'

/** Left to right, keyed by the foreign key: `sub` registers the left key (at `version`), `unsub` removes it. */
export interface Subscription {
  readonly op: 'sub' | 'unsub'
  readonly version: number
  readonly leftKey: Buffer
}

/** Right to left, keyed by the left key: the right row for the subscription at `version` (null: none). */
export interface SubscriptionResponse {
  readonly version: number
  readonly rightValue: Buffer | null
}

/** Left side, per left key: the foreign key it subscribed to (serialized; null: none) and the version of that subscription. */
export interface ForeignKeyState {
  readonly foreignKey: Buffer | null
  readonly version: number
}

/** Right side, per foreign key: the subscribed left keys (latin1 of their bytes) with their subscription versions. */
export type Subscribers = Map<string, number>

function tooShort(name: string, data: Buffer, need: number): void {
  if (data.length < need) throw new SerdeError(name, `expected at least ${need} bytes, got ${data.length}`)
}

/** `[op: u8][version: f64][left key bytes]` */
export const subscriptionSerde: Serde<Subscription> = {
  name: 'fk-subscription',
  serialize(s) {
    const out = Buffer.allocUnsafe(9 + s.leftKey.length)
    out.writeUInt8(s.op === 'sub' ? 0 : 1, 0)
    out.writeDoubleBE(s.version, 1)
    s.leftKey.copy(out, 9)
    return out
  },
  deserialize(data) {
    tooShort('fk-subscription', data, 9)
    return { op: data.readUInt8(0) === 0 ? 'sub' : 'unsub', version: data.readDoubleBE(1), leftKey: Buffer.from(data.subarray(9)) }
  },
}

/** `[version: f64][present: u8][bytes]`: a version and optional bytes, the shape of responses and of the left side's state. */
function versionedBytesSerde<T>(name: string, split: (t: T) => readonly [number, Buffer | null], join: (version: number, bytes: Buffer | null) => T): Serde<T> {
  return {
    name,
    serialize(t) {
      const [version, bytes] = split(t)
      const out = Buffer.allocUnsafe(9 + (bytes?.length ?? 0))
      out.writeDoubleBE(version, 0)
      out.writeUInt8(bytes === null ? 0 : 1, 8)
      bytes?.copy(out, 9)
      return out
    },
    deserialize(data) {
      tooShort(name, data, 9)
      return join(data.readDoubleBE(0), data.readUInt8(8) === 0 ? null : Buffer.from(data.subarray(9)))
    },
  }
}

export const responseSerde = versionedBytesSerde<SubscriptionResponse>(
  'fk-response',
  (r) => [r.version, r.rightValue],
  (version, rightValue) => ({ version, rightValue }),
)

export const foreignKeyStateSerde = versionedBytesSerde<ForeignKeyState>(
  'fk-state',
  (s) => [s.version, s.foreignKey],
  (version, foreignKey) => ({ version, foreignKey }),
)

/** `[count: u32]` then per subscriber `[length: u32][left key bytes][version: f64]` */
export const subscribersSerde: Serde<Subscribers> = {
  name: 'fk-subscribers',
  serialize(map) {
    const keys = [...map.keys()].map((k) => Buffer.from(k, 'latin1'))
    const out = Buffer.allocUnsafe(4 + keys.reduce((n, k) => n + 12 + k.length, 0))
    out.writeUInt32BE(keys.length, 0)
    let at = 4
    for (const key of keys) {
      out.writeUInt32BE(key.length, at)
      key.copy(out, at + 4)
      out.writeDoubleBE(map.get(key.toString('latin1'))!, at + 4 + key.length)
      at += 12 + key.length
    }
    return out
  },
  deserialize(data) {
    tooShort('fk-subscribers', data, 4)
    const map: Subscribers = new Map()
    const count = data.readUInt32BE(0)
    let at = 4
    for (let i = 0; i < count; i++) {
      tooShort('fk-subscribers', data, at + 4)
      const length = data.readUInt32BE(at)
      tooShort('fk-subscribers', data, at + 12 + length)
      map.set(data.toString('latin1', at + 4, at + 4 + length), data.readDoubleBE(at + 4 + length))
      at += 12 + length
    }
    return map
  },
}
