/**
 * Where an instance's memory sits, sampled while it runs (beside a soak): RSS, glibc's main heap and
 * thread arenas, the other anonymous and the file-backed mappings (glibc-heaps.ts), and from the
 * instance's /metrics V8's heap (committed, used, old space used) and external memory, the RocksDB
 * memtables and the record cache. One line a sample, space-separated MiB, to stdout, until the
 * process ends.
 *
 *   npx tsx bench/soak/memory-breakdown.ts --pid <instance pid> --metrics-port <port> [--every 30]
 *
 * The pid and port of a soak's instances are in its soak.csv (`i1_pid`) and log.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { glibcHeaps } from './glibc-heaps.js'
import { gauge } from './prometheus-text.js'

const { values: args } = parseArgs({ options: { pid: { type: 'string' }, 'metrics-port': { type: 'string' }, every: { type: 'string', default: '30' } } })
const pid = Number(args.pid)
const port = Number(args['metrics-port'])
if (!(pid > 0 && port > 0)) {
  console.error('usage: memory-breakdown.ts --pid <pid> --metrics-port <port> [--every 30]')
  process.exit(2)
}
const mib = (bytes: number | undefined): string => (bytes === undefined ? '-' : (bytes / (1024 * 1024)).toFixed(0))
const started = Date.now()
console.log('t_s rss main_heap arenas other_anon files v8_total v8_used v8_old_used external memtables record_cache')
for (;;) {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    break
  }
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
  const heaps = glibcHeaps(pid)
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(20_000) })
    .then(async (r) => await r.text())
    .catch(() => undefined)
  const metric = (name: string, labels?: string): number | undefined => (metrics === undefined ? undefined : gauge(metrics, name, labels))
  console.log(
    [
      Math.round((Date.now() - started) / 1000),
      (rssKb / 1024).toFixed(0),
      heaps.mainHeap.toFixed(0),
      heaps.arenas.toFixed(0),
      heaps.otherAnonymous.toFixed(0),
      heaps.files.toFixed(0),
      mib(metric('nodejs_heap_size_total_bytes')),
      mib(metric('nodejs_heap_size_used_bytes')),
      mib(metric('nodejs_heap_space_size_used_bytes', 'space="old"')),
      mib(metric('nodejs_external_memory_bytes')),
      mib(metric('sentinel_streams_rocksdb_memtable_bytes')),
      mib(metric('sentinel_streams_record_cache_bytes')),
    ].join(' '),
  )
  await new Promise((r) => setTimeout(r, Number(args.every) * 1000))
}
