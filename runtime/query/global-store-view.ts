/**
 * Interactive queries of a global table's store: every instance holds every row, so every read is
 * local (Kafka Streams answers `queryMetadataForKey` of a global store with the local host too).
 */
import type { KeyValueStore } from '../../state/index.js'
import { type ReadOnlyKeyValueStore, StoreNotQueryableError } from '../streams-runtime.js'
import type { LocalTasks } from './local-store-views.js'

/** `store()` returns undefined until the global store is open and restored. */
export function globalKeyValueView<K, V>(
  tasks: Pick<LocalTasks, 'read' | 'unavailable'>,
  name: string,
  store: () => KeyValueStore<K, V> | undefined,
): ReadOnlyKeyValueStore<K, V> {
  const open = (): KeyValueStore<K, V> => {
    const why = tasks.unavailable()
    if (why !== undefined) throw new StoreNotQueryableError(`store '${name}' cannot be queried: ${why}`)
    const found = store()
    if (!found) throw new StoreNotQueryableError(`global store '${name}' is restoring from its topic on this instance; retry shortly`)
    return found
  }
  // Rows are copied inside the gate: the global consumer applies updates between the gate's jobs.
  const scan = async function* (from?: K, to?: K): AsyncIterable<[K, V]> {
    const rows = await tasks.read(async () => {
      const out: [K, V][] = []
      for await (const row of open().range(from, to)) out.push(row)
      return out
    })
    yield* rows
  }
  return {
    get: (key) => tasks.read(async () => open().get(key)),
    range: scan,
    all: () => scan(),
    approximateCount: () => tasks.read(() => open().approximateCount()),
  }
}
