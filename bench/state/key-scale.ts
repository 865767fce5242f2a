/**
 * Scale of state through a real topology: RSS, V8 heap and throughput against the number of distinct
 * keys holding window and session state, with the record cache bounded (issue 14 item 5: "RSS with
 * 1M keys <= 400 MB").
 *
 * The topology is the library's own detectors, as an app would run them per user: `zScoreWindows`
 * (1-minute tumbling windows of a latency mean, a rolling baseline per key) and `sessionProfiles`
 * (5-minute inactivity gap, a feature profile per key), both on one JSON input keyed by user, on
 * `StandaloneStreams` with RocksDB stores. Standalone rather than the TopologyTestDriver: it is the
 * runtime's own path (tasks, batch prefetch, the bounded record cache, commits flushing to RocksDB)
 * without a broker, so what is measured is state, not kafkajs; rather than on Kafka: a broker in the
 * same 2 cores would be most of the CPU, and the changelog is measured by restore-rate.ts.
 *
 * Event times: `--rounds` rounds; in each, every key sends one event, keys spread evenly over the
 * round's 10 minutes of event time (key i at i/keys of it). So every key has a window per round and
 * a session per round (the gap is shorter than the round), and at any stream time the windows not
 * closed yet are those of the keys of the last ~65 s (window + grace) and the open sessions those of
 * the last ~5 min (gap + grace): the suppression buffers hold those, not every key.
 *
 * Each (key count, run) is a fresh child process (`--expose-gc`). It reports events/s and events per
 * CPU-second (user + system, every thread), RSS peak (VmHWM) and settled (after the input is processed
 * and committed, two full GCs and a 5 s pause), V8 heap used settled, and the state directory's size.
 *
 *   npx tsx bench/state/key-scale.ts [--keys 10000,100000,1000000] [--runs 3] [--runs-1m 1] [--rounds 3] [--cache-mb 16]
 *
 * At ~1.5K events/s on a shared 2-core box, 1M keys x 3 rounds takes ~45 minutes: RESULTS.md's 1M row
 * is `--keys 1000000 --rounds 1`. Figures: bench/state/RESULTS.md, "Scale of state".
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { sessionProfiles } from '../../operators/dsl/session-profiles.js'
import { zScoreWindows } from '../../operators/dsl/zscore-windows.js'
import { StandaloneStreams } from '../../runtime/standalone/index.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import { SessionWindows, StreamsBuilder, TimeWindows, type Topology } from '../../topology/index.js'
import { missingGlibcMallocEnv } from '../../apps/cli/glibc-malloc-env.js'
import { glibcHeaps } from '../soak/glibc-heaps.js'
import { cliArg, median, runChildIfAsked } from './stats.js'

const KEY_COUNTS = cliArg('keys', '10000,100000,1000000').split(',').map(Number)
const RUNS = Number(cliArg('runs', '3'))
/** 1M keys takes minutes a run on the shared box: fewer runs, said in the table. */
const RUNS_1M = Number(cliArg('runs-1m', '1'))
const ROUNDS = Number(cliArg('rounds', '3'))
const CACHE_MB = Number(cliArg('cache-mb', '16'))
/** `--glibc-defaults`: children without the image's malloc settings (apps/cli/glibc-malloc-env.ts). */
const GLIBC_DEFAULTS = process.argv.includes('--glibc-defaults')

const MINUTE = 60_000
const ROUND_MS = 10 * MINUTE
const T0 = Date.UTC(2026, 0, 1)
const SEND_BATCH = 1000

interface Event {
  latency_ms: number
  tokens: number
  cost: number
  model: string
  error: boolean
}

interface Reading {
  keys: number
  events: number
  seconds: number
  eventsPerSec: number
  eventsPerCpuSec: number
  peakRssMiB: number
  settledRssMiB: number
  settledHeapMiB: number
  sampledPeakHeapMiB: number
  stateDirMiB: number
  /** Settled: Buffers and other memory V8 counts outside its heap (`process.memoryUsage().external`). */
  settledExternalMiB: number
  /** Settled, from /proc/self/smaps (bench/soak/glibc-heaps.ts): glibc's main heap and thread arenas. */
  settledMainHeapMiB: number
  settledArenasMiB: number
  settledOtherAnonymousMiB: number
}

function topology(): Topology {
  const builder = new StreamsBuilder()
  const events = builder.stream('events', { key: Serdes.string(), value: Serdes.json<Event>() })
  const anomalies = { key: Serdes.string(), value: Serdes.avro<AnomalyEvent>(anomalyEventSchema) }
  zScoreWindows(events, {
    id: 'latency-z',
    window: TimeWindows.tumbling(MINUTE, { graceMs: 5_000 }),
    metric: (e) => e.latency_ms,
    metricName: 'latency_ms',
    aggregate: 'mean',
    baseline: { kind: 'rolling', windows: 30 },
    threshold: 4,
    minHistory: 2,
    entityType: 'user',
  }).to('anomalies', anomalies)
  sessionProfiles(events, {
    id: 'user-sessions',
    sessions: SessionWindows.withGap(5 * MINUTE, { graceMs: 0 }),
    record: (e) => ({ tokens: e.tokens, cost: e.cost, model: e.model, error: e.error }),
    features: ['requests', 'tokens', 'error_ratio'],
    threshold: 4,
    minSessions: 2,
    entityType: 'user',
  }).to('anomalies', anomalies)
  return builder.build()
}

const mib = (bytes: number): number => bytes / (1024 * 1024)
/** A field of /proc/self/status in MiB (VmRSS: now; VmHWM: the peak since the process began). */
function procStatusMiB(field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))
  return Number(line?.split(/\s+/)[1] ?? NaN) / 1024
}

function duMiB(dir: string): number {
  const out = spawnSync('du', ['-sk', dir], { encoding: 'utf8' }).stdout
  return Number(out.split(/\s+/)[0]) / 1024
}

async function child(name: string): Promise<Reading> {
  const keys = Number(name)
  const stateDir = mkdtempSync(join(tmpdir(), 'key-scale-'))
  const runtime = new StandaloneStreams(
    topology(),
    // The input log holds what the topology has not read yet, in memory: 20K records keeps it small.
    { applicationId: `key-scale-${keys}`, stateDir, storeEngine: 'rocksdb', cacheMaxBytes: CACHE_MB * 1024 * 1024, logRetention: { maxRecords: 20_000 } },
    { logger: false },
  )
  let sampledPeakHeap = 0
  const sampler = setInterval(() => (sampledPeakHeap = Math.max(sampledPeakHeap, process.memoryUsage().heapUsed)), 250)
  const key = (i: number): string => `user-${String(i).padStart(7, '0')}`
  try {
    await runtime.start()
    const began = performance.now()
    const cpu = process.cpuUsage()
    let batch: { key: string; value: string; timestamp: number }[] = []
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < keys; i++) {
        const event: Event = {
          latency_ms: 100 + ((i * 7 + round * 13) % 50),
          tokens: 500 + ((i + round) % 300),
          cost: 0.01,
          model: i % 3 === 0 ? 'gpt-4o' : 'claude',
          error: (i + round) % 17 === 0,
        }
        batch.push({ key: key(i), value: JSON.stringify(event), timestamp: T0 + round * ROUND_MS + Math.floor((i * ROUND_MS) / keys) })
        if (batch.length === SEND_BATCH) {
          await runtime.send('events', batch)
          batch = []
        }
      }
    }
    if (batch.length > 0) await runtime.send('events', batch)
    await runtime.idle(600_000)
    const used = process.cpuUsage(cpu)
    const seconds = (performance.now() - began) / 1000
    const events = keys * ROUNDS
    clearInterval(sampler)
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    gc?.()
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    const heaps = glibcHeaps()
    return {
      keys,
      events,
      seconds,
      eventsPerSec: events / seconds,
      eventsPerCpuSec: events / ((used.user + used.system) / 1e6),
      peakRssMiB: procStatusMiB('VmHWM'),
      settledRssMiB: procStatusMiB('VmRSS'),
      settledHeapMiB: mib(process.memoryUsage().heapUsed),
      sampledPeakHeapMiB: mib(sampledPeakHeap),
      stateDirMiB: duMiB(stateDir),
      settledExternalMiB: mib(process.memoryUsage().external),
      settledMainHeapMiB: heaps.mainHeap,
      settledArenasMiB: heaps.arenas,
      settledOtherAnonymousMiB: heaps.otherAnonymous,
    }
  } finally {
    clearInterval(sampler)
    await runtime.close()
    rmSync(stateDir, { recursive: true, force: true })
  }
}

if (!(await runChildIfAsked(child))) {
  const self = fileURLToPath(import.meta.url)
  const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  console.log(
    `key-scale: rounds ${ROUNDS}, cache ${CACHE_MB} MiB, ${GLIBC_DEFAULTS ? 'glibc malloc defaults' : 'the image malloc settings'}, load average at start ${load()}`,
  )
  const rows: string[] = []
  for (const keys of KEY_COUNTS) {
    const runs = keys >= 1_000_000 ? RUNS_1M : RUNS
    const readings: Reading[] = []
    for (let r = 0; r < runs; r++) {
      const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, ...process.argv.slice(2), '--child', String(keys)], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'inherit'],
        // As an instance runs (the image's ENV, the --threads workers), unless asked for glibc's defaults.
        env: { ...process.env, ...(GLIBC_DEFAULTS ? {} : missingGlibcMallocEnv(process.env)) },
      })
      if (result.status !== 0) throw new Error(`child for ${keys} keys failed (exit ${result.status}): ${result.stdout.slice(-2000)}`)
      const reading = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Reading
      console.log(
        `  ${keys} keys, run ${r + 1}: ${Math.round(reading.eventsPerSec)} events/s, ${Math.round(reading.eventsPerCpuSec)} events/cpu-s, ` +
          `RSS peak ${reading.peakRssMiB.toFixed(0)} settled ${reading.settledRssMiB.toFixed(0)} MiB, heap settled ${reading.settledHeapMiB.toFixed(0)} (peak sampled ${reading.sampledPeakHeapMiB.toFixed(0)}) MiB, state dir ${reading.stateDirMiB.toFixed(0)} MiB; ` +
          `settled: external ${reading.settledExternalMiB.toFixed(0)}, glibc main heap ${reading.settledMainHeapMiB.toFixed(0)}, arenas ${reading.settledArenasMiB.toFixed(0)}, other anonymous ${reading.settledOtherAnonymousMiB.toFixed(0)} MiB`,
      )
      readings.push(reading)
    }
    const m = (f: (r: Reading) => number): string => median(readings.map(f)).toFixed(0)
    rows.push(
      `| ${keys.toLocaleString('en')} | ${keys * ROUNDS} | ${runs} | ${m((r) => r.eventsPerSec)} | ${m((r) => r.eventsPerCpuSec)} | ${m((r) => r.peakRssMiB)} | ${m((r) => r.settledRssMiB)} | ${m((r) => r.settledHeapMiB)} | ${m((r) => r.sampledPeakHeapMiB)} | ${m((r) => r.stateDirMiB)} |`,
    )
  }
  console.log(`\nload average at end ${load()}\n`)
  console.log(
    '| keys | events | runs | events/s | events/cpu-s | RSS peak MiB | RSS settled MiB | heap settled MiB | heap peak MiB (sampled) | state dir MiB |',
  )
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
}
