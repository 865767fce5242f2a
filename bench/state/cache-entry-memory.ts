/**
 * What a record cache entry really holds, against what the cache counts (`RecordCache.sizeBytes`):
 * JS heap plus ArrayBuffer bytes after a forced GC, per entry, for key-value, window and session
 * stores. The cache's `ENTRY_OVERHEAD` and the session store's `SESSION_OVERHEAD` come from here; a
 * ratio far from 1 means the budget (`cacheMaxBytes`) does not bound memory.
 * Entries arrive as the runtime makes them: keys decoded from records in small batches (small Buffers
 * that Node carves from its shared pool), between the short-lived buffers of decoding each record
 * (`--churn` bytes per record), values put then flushed (serialized) to RocksDB.
 * Run: npx tsx --expose-gc bench/state/cache-entry-memory.ts [--entries 50000] [--batch 8] [--churn 400]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Serde } from '../../schemas/serde.js'
import { createRecordCache, engines, openKeyValueStore, openSessionStore, openWindowStore, type RecordCache } from '../../state/index.js'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]!
}
const ENTRIES = Number(arg('entries', '50000'))
const BATCH = Number(arg('batch', '8'))
const CHURN = Number(arg('churn', '400'))
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) {
  console.error('run with --expose-gc: npx tsx --expose-gc bench/state/cache-entry-memory.ts')
  process.exit(2)
}

interface Aggregate {
  count: number
  sum: number
  mean: number
  m2: number
}
const keySerde: Serde<string> = { name: 'string', serialize: (v) => Buffer.from(v), deserialize: (b) => b.toString() }
const aggSerde: Serde<Aggregate> = { name: 'json', serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString()) as Aggregate }
let sink = 0
/** The record's short-lived buffers (its fetched bytes, decoded fields), carved from the same pool as the keys. */
const keyOf = (i: number): string => {
  if (CHURN > 0) sink += Buffer.from('x'.repeat(CHURN)).length
  return `tenant-${i % 97}|model-${i}`
}
const aggregate = (i: number): Aggregate => ({ count: i, sum: i * 1.5, mean: 1.5, m2: i / 3 })

function held(): number {
  gc!()
  gc!()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

type Fill = (cache: RecordCache, dir: string) => Promise<() => Promise<void>>

const fills: Record<string, Fill> = {
  'key-value': async (cache, dir) => {
    const store = await openKeyValueStore({ name: 'kv', keySerde, valueSerde: aggSerde, logged: false }, context(cache, dir))
    for (let i = 0; i < ENTRIES; i += BATCH) {
      const keys = Array.from({ length: Math.min(BATCH, ENTRIES - i) }, (_, j) => keyOf(i + j))
      await store.prefetch(keys)
      for (const [j, key] of keys.entries()) store.put(key, aggregate(i + j))
      if (i % 4096 < BATCH) await store.flush()
    }
    await store.flush()
    return () => store.close()
  },
  window: async (cache, dir) => {
    const spec = { name: 'win', keySerde, valueSerde: aggSerde, logged: false, retentionMs: 3_600_000, windowSizeMs: 60_000 }
    const store = await openWindowStore(spec, context(cache, dir))
    for (let i = 0; i < ENTRIES; i += BATCH) {
      const keys = Array.from({ length: Math.min(BATCH, ENTRIES - i) }, (_, j) => keyOf(i + j))
      await store.prefetch(keys.map((key) => ({ key, windowStart: 60_000 })))
      for (const [j, key] of keys.entries()) store.put(key, aggregate(i + j), 60_000)
      if (i % 4096 < BATCH) await store.flush()
    }
    await store.flush()
    return () => store.close()
  },
  session: async (cache, dir) => {
    const store = await openSessionStore({ name: 'ses', keySerde, valueSerde: aggSerde, logged: false, retentionMs: 3_600_000 }, context(cache, dir))
    for (let i = 0; i < ENTRIES; i += BATCH) {
      const keys = Array.from({ length: Math.min(BATCH, ENTRIES - i) }, (_, j) => keyOf(i + j))
      await store.prefetch(keys)
      for (const [j, key] of keys.entries()) store.put({ key, start: 60_000, end: 120_000 }, aggregate(i + j))
      if (i % 4096 < BATCH) await store.flush()
    }
    await store.flush()
    return () => store.close()
  },
}

function context(cache: RecordCache, dir: string) {
  return { applicationId: 'bench', taskId: '0_0', stateDir: dir, engine: engines.rocksdb(), cache }
}

console.log(`entries=${ENTRIES} batch=${BATCH} (bytes per entry, after GC)`)
console.log('store      held  counted  held/counted')
for (const [name, fill] of Object.entries(fills)) {
  const dir = await mkdtemp(join(tmpdir(), 'cache-entry-memory-'))
  const cache = createRecordCache(1 << 30)
  const before = held()
  const close = await fill(cache, dir)
  const after = held()
  const perEntry = (after - before) / ENTRIES
  const counted = cache.sizeBytes / ENTRIES
  console.log(`${name.padEnd(10)} ${perEntry.toFixed(0).padStart(5)}  ${counted.toFixed(0).padStart(7)}  ${(perEntry / counted).toFixed(2).padStart(12)}`)
  await close()
  await rm(dir, { recursive: true, force: true })
}
if (sink < 0) console.log(sink)
