/**
 * Where a process holding many RocksDB stores grows under steady traffic (the soak's native growth,
 * issue 18): `--stores` stores opened through the engine, window-store-like traffic for `--minutes`,
 * and a reading every `--sample-seconds` of RSS, V8 (heap, external, ArrayBuffers), glibc's heaps
 * (/proc/self/smaps: the main `[heap]` and the 64 MiB thread arenas where the binding's pool threads
 * allocate) and what RocksDB says it holds (memtables, table readers), summed over the stores.
 *
 * Traffic per 100 ms batch, as a task's stores see it: `--rate` records a second, each touching 3
 * stores at random; per store and batch, a prefetch (one multi-get of the batch's keys, mostly new
 * windows, so mostly misses) and every 10 batches (the 1 s commit) one write batch of the windows put
 * since. Stream time runs `--speedup` times the wall clock, 1-minute windows, 1-hour retention,
 * 30-minute segments: each store range-deletes an expired segment every 30 stream minutes. A short
 * range scan (a window fetch) per store every 50 batches.
 *
 * Run: npx tsx bench/state/native-growth.ts [--minutes 8] [--stores 150] [--rate 600] [--configs a,b]
 * Each config runs in its own child process, one after the other; the parent prints a table.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { engines, ROCKSDB_DEFAULTS, type EngineStore, type RocksDBEngineOptions, type WriteOp } from '../../state/index.js'
import { writeOrderedInt64 } from '../../state/bytes.js'
import { Segments } from '../../state/stores/segments.js'
import { glibcHeaps } from '../soak/glibc-heaps.js'
import { cliArg as arg, median, runChildIfAsked } from './stats.js'

const MINUTES = Number(arg('minutes', '8'))
const STORES = Number(arg('stores', '150'))
const RATE = Number(arg('rate', '600'))
const SAMPLE_S = Number(arg('sample-seconds', '30'))
const SPEEDUP = Number(arg('speedup', '20'))
const KEYS_PER_STORE = 500
const WINDOW_MS = 60_000
const RETENTION_MS = 3_600_000
const SEGMENT_MS = RETENTION_MS / 2

const CONFIGS: Record<string, RocksDBEngineOptions> = {
  'before: no memtable budget': { memtableBudgetBytes: 0 },
  [`default: memtable budget ${ROCKSDB_DEFAULTS.memtableBudgetBytes / 1048576} MiB`]: {},
  'budget + 1 MiB write buffers': { writeBufferSize: 1024 * 1024 },
}

interface Reading {
  s: number
  rss: number
  v8Heap: number
  external: number
  arrayBuffers: number
  mainHeap: number
  arenas: number
  memtables: number
  walMiB: number
  sst: number
}

const mib = (bytes: number): number => bytes / (1024 * 1024)
/** The RocksDB engine's stores also tell their memtable size (what the memtable budget reads). */
type WithMemtable = EngineStore & { memtableBytes(): Promise<number> }

async function memtables(stores: WithMemtable[]): Promise<number> {
  let total = 0
  for (const s of stores) total += await s.memtableBytes()
  return mib(total)
}

function filesOf(dir: string): { wal: number; sst: number } {
  let wal = 0
  let sst = 0
  for (const store of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, store))) {
      if (f.endsWith('.log')) wal += statSync(join(dir, store, f)).size
      else if (f.endsWith('.sst')) sst++
    }
  }
  return { wal: mib(wal), sst }
}

const keyOf = (store: number, k: number): Buffer => Buffer.from(`tenant-${k % 7}|model-${k}|s${store}`)
/** ~150 bytes like a serialized window aggregate; digits vary, so compression cannot fold them. */
const valueOf = (k: number, t: number): Buffer =>
  Buffer.from(JSON.stringify({ count: k + t, sum: k * 1.37 + t, mean: Math.sin(k + t) * 1000, m2: Math.cos(k) * 1e6, first: t, last: t + k }))

/** The window store's engine key: segment, u32 length, key, window start. */
function windowKey(key: Buffer, windowStart: number): Buffer {
  const b = Buffer.allocUnsafe(8 + 4 + key.length + 8)
  writeOrderedInt64(b, Math.floor(windowStart / SEGMENT_MS), 0)
  b.writeUInt32BE(key.length, 8)
  key.copy(b, 12)
  writeOrderedInt64(b, windowStart, 12 + key.length)
  return b
}

async function child(name: string): Promise<Reading[]> {
  const dir = await mkdtemp(join(tmpdir(), 'native-growth-'))
  const engine = engines.rocksdb(CONFIGS[name])
  const stores = (await Promise.all(Array.from({ length: STORES }, (_, s) => engine.open(join(dir, `store-${s}`))))) as WithMemtable[]
  const dirty = stores.map(() => new Map<string, WriteOp>())
  const droppedBelow = stores.map(() => 0)
  const readings: Reading[] = []
  const t0 = Date.now()
  const streamStart = 1_765_000_000_000
  const perBatch = Math.max(1, Math.round(RATE / 10))
  let nextSample = t0
  for (let batch = 0; Date.now() - t0 < MINUTES * 60_000; batch++) {
    const started = Date.now()
    const streamTime = streamStart + (started - t0) * SPEEDUP
    const windowStart = streamTime - (streamTime % WINDOW_MS)
    const touched = new Map<number, Buffer[]>()
    for (let r = 0; r < perBatch * 3; r++) {
      const s = Math.floor(Math.random() * STORES)
      const k = Math.floor(Math.random() * KEYS_PER_STORE)
      const ek = windowKey(keyOf(s, k), windowStart)
      let keys = touched.get(s)
      if (!keys) touched.set(s, (keys = []))
      keys.push(ek)
      dirty[s]!.set(ek.toString('latin1'), { type: 'put', key: ek, value: valueOf(k, streamTime) })
    }
    await Promise.all([...touched].map(([s, keys]) => stores[s]!.getMany(keys)))
    if (batch % 10 === 9) {
      const firstLive = Math.floor((streamTime - RETENTION_MS) / SEGMENT_MS)
      await Promise.all(
        stores.map((store, s) => {
          const ops = [...dirty[s]!.values()]
          dirty[s]!.clear()
          if (firstLive > droppedBelow[s]!) {
            ops.push({ type: 'deleteRange', gte: Buffer.alloc(8), lt: Segments.prefix(firstLive) })
            droppedBelow[s] = firstLive
          }
          return store.write(ops)
        }),
      )
    }
    if (batch % 50 === 49) {
      await Promise.all(
        stores.map(async (store, s) => {
          const from = windowKey(keyOf(s, batch % KEYS_PER_STORE), windowStart - 10 * WINDOW_MS)
          for await (const entry of store.iterate({ gte: from, limit: 6 })) void entry
        }),
      )
    }
    if (Date.now() >= nextSample) {
      nextSample += SAMPLE_S * 1000
      const mem = process.memoryUsage()
      const files = filesOf(dir)
      readings.push({
        s: Math.round((Date.now() - t0) / 1000),
        rss: mib(mem.rss),
        v8Heap: mib(mem.heapTotal),
        external: mib(mem.external),
        arrayBuffers: mib(mem.arrayBuffers),
        ...glibcHeaps(),
        memtables: await memtables(stores),
        walMiB: files.wal,
        sst: files.sst,
      })
      process.stderr.write(JSON.stringify(readings[readings.length - 1]) + '\n')
    }
    const wait = 100 - (Date.now() - started)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  await Promise.all(stores.map((s) => s.close()))
  await rm(dir, { recursive: true, force: true })
  return readings
}

async function main(): Promise<void> {
  if (await runChildIfAsked(child)) return
  const self = fileURLToPath(import.meta.url)
  const names = arg('configs', Object.keys(CONFIGS).join(',')).split(',')
  console.log(`${STORES} stores, ${RATE} records/s x 3 stores, ${MINUTES} min each, stream time x${SPEEDUP}; MiB`)
  for (const name of names) {
    const out = spawnSync(process.execPath, ['--import', 'tsx', self, ...process.argv.slice(2), '--child', name], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    if (out.status !== 0) throw new Error(`${name}: exit ${out.status}`)
    const readings = JSON.parse(out.stdout.trim().split('\n').pop()!) as Reading[]
    const cols = Object.keys(readings[0]!) as (keyof Reading)[]
    console.log(`\n${name}\n| ${cols.join(' | ')} |\n|${cols.map(() => '---:').join('|')}|`)
    for (const r of readings) console.log(`| ${cols.map((c) => r[c].toFixed(0)).join(' | ')} |`)
    const half = readings.slice(Math.floor(readings.length / 2))
    const m = (k: keyof Reading): string => median(half.map((r) => r[k])).toFixed(0)
    console.log(`second half, medians: RSS ${m('rss')} MiB, memtables ${m('memtables')} MiB, glibc arenas ${m('arenas')} MiB, main heap ${m('mainHeap')} MiB`)
  }
}

await main()
