/**
 * Native memory of many RocksDB stores in one process, as an instance holds them (one database per
 * store per task: LLM-Sentinel on 6 partitions opens 289). Each configuration runs in a fresh child
 * process, `--runs` times; the parent prints medians. Per child: open `--stores` stores, write `--keys`
 * keys spread over them in engine batches (commits), close and reopen them all (recovery flushes the
 * WAL into table files, as after a restart), read every key `--passes` times in multi-gets of 100 (the
 * prefetch path), then update half the keys. RSS is read after each phase; "peak" is the max RSS.
 * Run: npx tsx bench/state/rocksdb-memory.ts [--runs 3] [--stores 100] [--keys 1000000] [--passes 2]
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { engines, type EngineStore, type RocksDBEngineOptions, ROCKSDB_DEFAULTS } from '../../state/index.js'
import { fmt, median, rate } from './stats.js'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]!
}
const RUNS = Number(arg('runs', '3'))
const STORES = Number(arg('stores', '100'))
const KEYS = Number(arg('keys', '1000000'))
const PASSES = Number(arg('passes', '2'))
const WRITE_BATCH = 500
const READ_BATCH = 100

/** What was compared; `before` is what the engine opened with before the setting existed (binding defaults). */
const CONFIGS: Record<string, RocksDBEngineOptions> = {
  'before: block cache (32 MB per store), all files open': { blockCache: true, maxOpenFiles: -1 },
  'no block cache, all files open': { blockCache: false, maxOpenFiles: -1 },
  [`default: no block cache, maxOpenFiles ${ROCKSDB_DEFAULTS.maxOpenFiles}`]: {},
  'default + 1 MB write buffers': { writeBufferSize: 1024 * 1024 },
}

interface Reading {
  opened: number
  written: number
  read: number
  updated: number
  peak: number
  putsPerSec: number
  getsPerSec: number
  tableFiles: number
}

const mib = (bytes: number): number => bytes / (1024 * 1024)
const rss = (): number => mib(process.memoryUsage().rss)
const keyOf = (i: number): Buffer => Buffer.from(`tenant-${i % 97}|model-${i}`.padEnd(24, '.'))
/** ~120 bytes like a serialized aggregate: digits vary per key, so compression cannot fold them. */
const valueOf = (i: number, round: number): Buffer =>
  Buffer.from(JSON.stringify({ count: i + round, sum: i * 1.37 + round, mean: Math.sin(i) * 1000, m2: Math.cos(i + round) * 1e6, first: 1765000000000 + i }))

async function child(name: string): Promise<Reading> {
  const dir = await mkdtemp(join(tmpdir(), 'rocksdb-memory-'))
  const engine = engines.rocksdb(CONFIGS[name])
  const paths = Array.from({ length: STORES }, (_, s) => join(dir, `store-${s}`))
  const openAll = (): Promise<EngineStore[]> => Promise.all(paths.map((p) => engine.open(p)))
  const perStore = Math.ceil(KEYS / STORES)
  // Key i lives in store i % STORES, so each store gets every STORES-th key.
  const writeRound = async (stores: EngineStore[], round: number, share: number): Promise<number> => {
    const t = process.hrtime.bigint()
    let n = 0
    for (let from = 0; from < perStore * share; from += WRITE_BATCH) {
      await Promise.all(
        stores.map((store, s) => {
          const ops = []
          for (let j = from; j < Math.min(from + WRITE_BATCH, perStore * share); j++) {
            const i = j * STORES + s
            if (i < KEYS) ops.push({ type: 'put' as const, key: keyOf(i), value: valueOf(i, round) })
          }
          n += ops.length
          return store.write(ops)
        }),
      )
    }
    return rate(n, t)
  }
  let stores = await openAll()
  const opened = rss()
  const putsPerSec = await writeRound(stores, 0, 1)
  const written = rss()
  await Promise.all(stores.map((s) => s.close()))
  stores = await openAll()
  const t = process.hrtime.bigint()
  let gets = 0
  for (let pass = 0; pass < PASSES; pass++) {
    for (let from = 0; from < perStore; from += READ_BATCH) {
      await Promise.all(
        stores.map(async (store, s) => {
          const keys: Buffer[] = []
          // A stride through the store's keys, so consecutive batches touch different blocks.
          for (let j = from; j < Math.min(from + READ_BATCH, perStore); j++) keys.push(keyOf((((j * 7919) % perStore) * STORES + s) % KEYS))
          gets += keys.length
          const values = await store.getMany(keys)
          if (values.some((v) => v === undefined)) throw new Error('a written key is missing')
        }),
      )
    }
  }
  const getsPerSec = rate(gets, t)
  const read = rss()
  await writeRound(stores, 1, 0.5)
  const updated = rss()
  const peak = mib(process.resourceUsage().maxRSS * 1024)
  await Promise.all(stores.map((s) => s.close()))
  const tableFiles = paths.reduce((n, p) => n + readdirSync(p).filter((f) => f.endsWith('.sst')).length, 0)
  await rm(dir, { recursive: true, force: true })
  return { opened, written, read, updated, peak, putsPerSec, getsPerSec, tableFiles }
}

async function main(): Promise<void> {
  const only = arg('child', '')
  if (only !== '') {
    process.stdout.write(JSON.stringify(await child(only)) + '\n')
    return
  }
  const self = fileURLToPath(import.meta.url)
  console.log(`${STORES} stores, ${KEYS} keys (24-byte keys, ~120-byte values), ${PASSES} read passes; MiB RSS, medians of ${RUNS} runs`)
  console.log('| config | after open | after writes | after reopen + reads | after updates | peak | put/s | get/s | .sst files |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const name of Object.keys(CONFIGS)) {
    const runs: Reading[] = []
    for (let r = 0; r < RUNS; r++) {
      const out = spawnSync(
        process.execPath,
        ['--import', 'tsx', self, '--child', name, '--stores', `${STORES}`, '--keys', `${KEYS}`, '--passes', `${PASSES}`],
        { encoding: 'utf8', maxBuffer: 1 << 24 },
      )
      if (out.status !== 0) throw new Error(`${name}: ${out.stderr}`)
      runs.push(JSON.parse(out.stdout.trim().split('\n').pop()!) as Reading)
    }
    const m = (k: keyof Reading): number => median(runs.map((r) => r[k]))
    const mb = (k: keyof Reading): string => m(k).toFixed(0)
    console.log(
      `| ${name} | ${mb('opened')} | ${mb('written')} | ${mb('read')} | ${mb('updated')} | ${mb('peak')} | ${fmt(m('putsPerSec'))} | ${fmt(m('getsPerSec'))} | ${mb('tableFiles')} |`,
    )
  }
}

await main()
