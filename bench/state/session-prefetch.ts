/**
 * Session-store prefetch on a disk engine, cold cache: keys/s of batches of 500 keys loading all
 * live sessions of each key, against loading only those a batch can touch (`prefetch(keys,
 * earliestEnd)`: sessions ending at or after the batch's earliest event time minus the gap).
 * Run: npx tsx bench/state/session-prefetch.ts [--runs 3] [--keys 5000] [--engine rocksdb|leveldb]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Serde } from '../../schemas/serde.js'
import { createRecordCache, engines, openSessionStore } from '../../state/index.js'
import type { SessionStoreSpec, StoreOpenContext } from '../../state/index.js'
import { fmt, rate, timeRuns } from './stats.js'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]!
}
const RUNS = Number(arg('runs', '3'))
const KEYS = Number(arg('keys', '5000'))
const ENGINE = arg('engine', 'rocksdb') === 'leveldb' ? engines.leveldb : () => engines.rocksdb()
const BATCH = 500
const HOUR = 3_600_000
// A day of retention in the default segments (12 h): a key's sessions span three live segments.
const RETENTION = 24 * HOUR
const GAP = 5 * 60_000
const NOW = 30 * HOUR

const keySerde: Serde<string> = { name: 'string', serialize: (v) => Buffer.from(v), deserialize: (b) => b.toString() }
const countSerde: Serde<number> = { name: 'json', serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString()) as number }
const keyOf = (i: number): string => `user-${i}`.padEnd(16, '.')
const spec: SessionStoreSpec<string, number> = { name: 'sessions', keySerde, valueSerde: countSerde, retentionMs: RETENTION, logged: false }

const dir = await mkdtemp(join(tmpdir(), 'session-prefetch-'))
const engine = ENGINE()
const context = (): StoreOpenContext => ({ applicationId: 'bench', taskId: '0_0', stateDir: dir, engine, cache: createRecordCache(256 << 20) })
try {
  {
    // Every 2 hours of the last day one session per key: 12 sessions per key.
    const store = await openSessionStore(spec, context())
    for (let t = NOW - RETENTION + HOUR; t < NOW; t += 2 * HOUR) {
      for (let k = 0; k < KEYS; k++) store.put({ key: keyOf(k), start: t, end: t + 60_000 }, k)
      await store.flush()
    }
    await store.expire(NOW)
    await store.close()
  }
  const measure = (earliestEnd: number | undefined): Promise<number> =>
    timeRuns(RUNS, async () => {
      const store = await openSessionStore(spec, context())
      await store.expire(NOW)
      const t = process.hrtime.bigint()
      for (let i = 0; i < KEYS; i += BATCH) {
        const keys = Array.from({ length: Math.min(BATCH, KEYS - i) }, (_, j) => keyOf(i + j))
        await (earliestEnd === undefined ? store.prefetch(keys) : store.prefetch(keys, earliestEnd))
      }
      const r = rate(KEYS, t)
      await store.close()
      return r
    })
  const all = await measure(undefined)
  const bounded = await measure(NOW - GAP)
  console.log(`session prefetch, ${KEYS} keys x 12 sessions over ${RETENTION / HOUR} h, batches of ${BATCH}, cold cache, median of ${RUNS}:`)
  console.log(`  all live sessions:             ${fmt(all)} keys/s`)
  console.log(`  ending >= batch time - gap:    ${fmt(bounded)} keys/s`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
