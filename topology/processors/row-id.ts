/** Row identities for the task's forwarding cache: equal ids if and only if equal keys. */
import type { Serde } from '../../schemas/serde.js'

/**
 * A string key is its own id (the common case, and free); any other key is identified by its
 * serialized bytes, as the store identifies it.
 */
export function keyRowId<K>(keySerde: Serde<K>): (key: K) => string {
  return (key) => (typeof key === 'string' ? key : keySerde.serialize(key).toString('latin1'))
}
