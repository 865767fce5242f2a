/**
 * For tests of when stores are loaded: an in-memory engine counting one store's batched reads, and
 * a processor after suppress that reads a store synchronously (it throws unless the key was loaded).
 */
import { type EngineStore, engines, type KeyValueStore, type StorageEngine, type Windowed } from '../../../../state/index.js'
import type { Processor, ProcessorContext, StreamRecord } from '../../../../topology/index.js'

/** An in-memory engine counting the batched reads of the one store whose directory ends with `store` (its name). */
export function readCountingEngine(store: string): { engine: StorageEngine; reads: { count: number } } {
  const reads = { count: 0 }
  const memory = engines.memory()
  const engine: StorageEngine = {
    ...memory,
    async open(path) {
      const opened = await memory.open(path)
      if (!path.endsWith(store)) return opened
      return Object.assign(Object.create(opened) as EngineStore, { getMany: (keys: readonly Buffer[]) => (reads.count++, opened.getMany(keys)) })
    },
  }
  return { engine, reads }
}

/** After suppress: a running total per key of the windows' counts, in store 'totals', forwarded by key. */
export function runningTotal(): Processor<Windowed<string>, number, string, number> {
  let store: KeyValueStore<string, number>
  let context: ProcessorContext<string, number>
  return {
    init(ctx) {
      context = ctx
      store = ctx.getStateStore<KeyValueStore<string, number>>('totals')
    },
    process(record: StreamRecord<Windowed<string>, number>) {
      const total = (store.get(record.key.key) ?? 0) + record.value
      store.put(record.key.key, total)
      context.forward({ key: record.key.key, value: total, timestamp: record.timestamp, headers: {} })
    },
  }
}
