/**
 * Per engine (RocksDB with its defaults and with the block cache it had before `blockCache`): uncached (engine batch) put/get, cached (typed store + record cache) put/get, the
 * per-batch prefetch path, and window fetch. Medians of several runs.
 * Run: npx tsx bench/state/store-throughput.ts [--runs 3] [--records 200000] [--engines "rocksdb,rocksdb (block cache)"]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Serde } from '../../schemas/serde.js'
import { createRecordCache, engines, openKeyValueStore, openWindowStore } from '../../state/index.js'
import type { StorageEngine, WriteOp } from '../../state/index.js'
import { fmt, rate, timeRuns } from './stats.js'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const RUNS = arg('runs', 3)
const N = arg('records', 200_000)
const BATCH = 1000

interface Agg {
  count: number
  sum: number
}
const keySerde: Serde<string> = { name: 'string', serialize: (v) => Buffer.from(v), deserialize: (b) => b.toString() }
const aggSerde: Serde<Agg> = { name: 'json', serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString()) as Agg }
const keyOf = (i: number): string => `user-${(i * 2654435761) % N}`.padEnd(16, '.')
const value = Buffer.alloc(64, 7)

async function bench(name: string, makeEngine: () => StorageEngine, dir: string): Promise<Record<string, number>> {
  let run = 0
  const fresh = () => join(dir, `${name}-${run++}`)
  const out: Record<string, number> = {}

  out['uncached put/s'] = await timeRuns(RUNS, async () => {
    const engine = makeEngine()
    const store = await engine.open(fresh())
    const t = process.hrtime.bigint()
    for (let i = 0; i < N; i += BATCH) {
      const ops: WriteOp[] = []
      for (let j = i; j < i + BATCH; j++) ops.push({ type: 'put', key: Buffer.from(keyOf(j)), value })
      await store.write(ops)
    }
    const r = rate(N, t)
    await store.close()
    return r
  })

  const engine = makeEngine()
  const path = fresh()
  {
    const store = await engine.open(path)
    for (let i = 0; i < N; i += BATCH) {
      const ops: WriteOp[] = []
      for (let j = i; j < i + BATCH; j++) ops.push({ type: 'put', key: Buffer.from(keyOf(j)), value: Buffer.from(JSON.stringify({ count: j, sum: j * 2 })) })
      await store.write(ops)
    }
    await store.close()
  }
  out['uncached get/s'] = await timeRuns(RUNS, async () => {
    const store = await engine.open(path)
    const t = process.hrtime.bigint()
    for (let i = 0; i < N; i += BATCH) {
      const keys: Buffer[] = []
      for (let j = i; j < i + BATCH; j++) keys.push(Buffer.from(keyOf((j * 7) % N)))
      await store.getMany(keys)
    }
    const r = rate(N, t)
    await store.close()
    return r
  })

  out['cached put/s (incl. flush)'] = await timeRuns(RUNS, async () => {
    const cache = createRecordCache(256 * 1024 * 1024)
    const kv = await openKeyValueStore({ name: 'agg', keySerde, valueSerde: aggSerde, logged: false }, { applicationId: name, taskId: `p${run++}`, stateDir: dir, engine: makeEngine(), cache })
    const t = process.hrtime.bigint()
    for (let i = 0; i < N; i++) kv.put(keyOf(i), { count: i, sum: i })
    await kv.flush()
    const r = rate(N, t)
    await kv.close()
    return r
  })

  // The hot path of an aggregation: per batch of 500 records, one prefetch, then get + put each.
  const taskId = `agg-${run++}`
  {
    const kv = await openKeyValueStore({ name: 'agg', keySerde, valueSerde: aggSerde, logged: false }, { applicationId: name, taskId, stateDir: dir, engine, cache: createRecordCache(1 << 30) })
    for (let i = 0; i < N; i++) kv.put(keyOf(i), { count: 1, sum: i })
    await kv.close()
  }
  out['prefetch+get+put/s (cold cache, batches of 500)'] = await timeRuns(RUNS, async () => {
    const cache = createRecordCache(32 * 1024 * 1024)
    const kv = await openKeyValueStore({ name: 'agg', keySerde, valueSerde: aggSerde, logged: false }, { applicationId: name, taskId, stateDir: dir, engine, cache })
    const t = process.hrtime.bigint()
    for (let i = 0; i < N; i += 500) {
      const keys: string[] = []
      for (let j = i; j < i + 500; j++) keys.push(keyOf((j * 13) % N))
      await kv.prefetch(keys)
      for (const k of keys) {
        const agg = kv.get(k) ?? { count: 0, sum: 0 }
        kv.put(k, { count: agg.count + 1, sum: agg.sum + 1 })
      }
      await cache.maintain()
    }
    await kv.flush()
    const r = rate(N, t)
    await kv.close()
    return r
  })

  out['cached get/s (hits)'] = await timeRuns(RUNS, async () => {
    const cache = createRecordCache(1 << 30)
    const kv = await openKeyValueStore({ name: 'agg', keySerde, valueSerde: aggSerde, logged: false }, { applicationId: name, taskId, stateDir: dir, engine, cache })
    const keys = Array.from({ length: 50_000 }, (_, i) => keyOf(i))
    await kv.prefetch(keys)
    const t = process.hrtime.bigint()
    let found = 0
    for (let round = 0; round < 4; round++) for (const k of keys) if (kv.get(k)) found++
    const r = rate(found, t)
    await kv.close()
    return r
  })

  // Window fetch: 5,000 keys x 24 hourly windows, fetch a 6-window range of a random key.
  const wTask = `win-${run++}`
  const wKeys = 5000
  {
    const w = await openWindowStore(
      { name: 'win', keySerde, valueSerde: aggSerde, logged: false, retentionMs: 48 * 3600_000, windowSizeMs: 3600_000 },
      { applicationId: name, taskId: wTask, stateDir: dir, engine, cache: createRecordCache(1 << 30) },
    )
    for (let h = 0; h < 24; h++) for (let k = 0; k < wKeys; k++) w.put(keyOf(k), { count: h, sum: k }, h * 3600_000)
    await w.close()
  }
  out['window fetch/s (6 windows each)'] = await timeRuns(RUNS, async () => {
    const w = await openWindowStore(
      { name: 'win', keySerde, valueSerde: aggSerde, logged: false, retentionMs: 48 * 3600_000, windowSizeMs: 3600_000 },
      { applicationId: name, taskId: wTask, stateDir: dir, engine, cache: createRecordCache(1 << 20) },
    )
    const fetches = 5000
    let windows = 0
    const t = process.hrtime.bigint()
    for (let i = 0; i < fetches; i++) {
      const from = (i % 18) * 3600_000
      for await (const _ of w.fetch(keyOf((i * 31) % wKeys), from, from + 5 * 3600_000)) windows++
    }
    const r = rate(fetches, t)
    if (windows !== fetches * 6) throw new Error(`window fetch returned ${windows} windows, expected ${fetches * 6}`)
    await w.close()
    return r
  })
  return out
}

const dir = await mkdtemp(join(tmpdir(), 'state-bench-'))
try {
  const results: Record<string, Record<string, number>> = {}
  // `rocksdb (block cache)` is the engine as it opened before `blockCache` existed (binding defaults).
  const candidates = [
    ['memory', engines.memory],
    ['rocksdb', () => engines.rocksdb()],
    ['rocksdb (block cache)', () => engines.rocksdb({ blockCache: true, maxOpenFiles: -1 })],
    ['leveldb', engines.leveldb],
  ] as const
  // --engines "rocksdb (block cache),rocksdb": a subset, in that order (on a shared box, run an A/B both ways).
  const wanted = process.argv.includes('--engines') ? process.argv[process.argv.indexOf('--engines') + 1]!.split(',') : candidates.map(([name]) => name as string)
  const chosen = wanted.map((w) => candidates.find(([name]) => name === w) ?? (() => { throw new Error(`unknown engine '${w}'; one of ${candidates.map(([n]) => n).join(', ')}`) })())
  for (const [name, make] of chosen) {
    const started = Date.now()
    results[name] = await bench(name.replace(/\W+/g, '-'), make, dir)
    console.error(`${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }
  const names = chosen.map(([name]) => name)
  const metrics = Object.keys(results[names[0]!]!)
  console.log(`| ops/s, median of ${RUNS} runs, ${fmt(N)} records | ${names.join(' | ')} |`)
  console.log(`|---|${names.map(() => '---:').join('|')}|`)
  for (const m of metrics) console.log(`| ${m} | ${names.map((e) => fmt(results[e]![m]!)).join(' | ')} |`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
