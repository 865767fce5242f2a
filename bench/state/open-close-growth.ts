/**
 * Whether opening and closing RocksDB stores leaks native memory (the soak's task migrations, issue 18):
 * `--stores` stores opened through the engine, a few hundred writes and reads each, closed, and again,
 * `--rounds` times; RSS and glibc's heaps after each round. A leak per open shows as RSS rising by
 * round; a flat line after the first rounds means a close gives its memory back.
 *
 * Run: npx tsx bench/state/open-close-growth.ts [--stores 100] [--rounds 20] [--keys 300]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engines } from '../../state/index.js'
import { glibcHeaps } from '../soak/glibc-heaps.js'
import { cliArg as arg } from './stats.js'

const STORES = Number(arg('stores', '100'))
const ROUNDS = Number(arg('rounds', '20'))
const KEYS = Number(arg('keys', '300'))
const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(0)

const dir = await mkdtemp(join(tmpdir(), 'open-close-'))
const engine = engines.rocksdb()
console.log('round rss_mib main_heap_mib arenas_mib v8_heap_mib external_mib')
for (let round = 1; round <= ROUNDS; round++) {
  const stores = await Promise.all(Array.from({ length: STORES }, async (_, i) => await engine.open(join(dir, `store-${i}`))))
  for (const store of stores) {
    const keys = Array.from({ length: KEYS }, (_, k) => Buffer.from(`key-${k}`))
    await store.write(keys.map((key) => ({ type: 'put' as const, key, value: Buffer.alloc(100, round) })))
    await store.getMany(keys)
    for await (const entry of store.iterate({ limit: 10 })) void entry
  }
  await Promise.all(stores.map(async (s) => await s.close()))
  const heaps = glibcHeaps()
  const mem = process.memoryUsage()
  console.log([round, mib(mem.rss), heaps.mainHeap.toFixed(0), heaps.arenas.toFixed(0), mib(mem.heapTotal), mib(mem.external)].join(' '))
}
await rm(dir, { recursive: true, force: true })
