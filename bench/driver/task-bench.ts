/**
 * The task executor alone (no driver, no broker): records/s of `StreamTask.process` over raw batches,
 * with a collector that drops output, and `flush()` (changelog + engine batch) every `--commit-every`
 * batches, as the runtime's commit interval would.
 *
 *   npx tsx bench/driver/task-bench.ts [--records 200000] [--runs 5] [--batch 1000] [--commit-every 10] [--engine memory|rocksdb]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { type SourceRecord, StreamTask } from '../../runtime/task/index.js'
import { Serdes } from '../../schemas/index.js'
import { engines } from '../../state/index.js'
import { StreamsBuilder, TimeWindows, type Topology } from '../../topology/index.js'

interface Telemetry {
  tenant_id: string
  model: string
  latency_ms: number
  tokens: number
  status: 'ok' | 'error'
}

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '5' },
    batch: { type: 'string', default: '1000' },
    keys: { type: 'string', default: '1000' },
    'commit-every': { type: 'string', default: '10' },
    engine: { type: 'string', default: 'memory' },
  },
})
const RECORDS = Number(values.records)
const RUNS = Number(values.runs)
const BATCH = Number(values.batch)
const KEYS = Number(values.keys)
const COMMIT_EVERY = Number(values['commit-every'])
const ENGINE = values.engine === 'rocksdb' ? 'rocksdb' : 'memory'

const value = Serdes.json<Telemetry>()

function statelessChain(): Topology {
  const b = new StreamsBuilder()
  b.stream('telemetry', { key: Serdes.string(), value })
    .filter((_k, v) => v.status === 'ok')
    .mapValues((v) => ({ tenant: v.tenant_id, cost: v.tokens * 0.000002, slow: v.latency_ms > 800 }))
    .filter((_k, v) => v.slow)
    .mapValues((v) => v.cost)
    .to('slow-costs', { value: Serdes.double() })
  return b.build()
}

function windowedCount(): Topology {
  const b = new StreamsBuilder()
  b.stream('telemetry', { key: Serdes.string(), value })
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(60_000, { graceMs: 5_000 }))
    .count({ name: 'calls-per-minute' })
    .toStream()
    .to('counts')
  return b.build()
}

function inputs(): SourceRecord[] {
  const out: SourceRecord[] = []
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  for (let i = 0; i < RECORDS; i++) {
    const tenant = `tenant-${i % KEYS}`
    const v: Telemetry = { tenant_id: tenant, model: i % 3 ? 'gpt-4o' : 'claude', latency_ms: (i * 7919) % 1000, tokens: 100 + (i % 900), status: i % 50 ? 'ok' : 'error' }
    out.push({ topic: 'telemetry', partition: 0, offset: String(i), key: Buffer.from(tenant), value: value.serialize(v), timestamp: t0 + i, headers: {} })
  }
  return out
}

async function once(topology: Topology, records: readonly SourceRecord[]): Promise<number> {
  const stateDir = mkdtempSync(join(tmpdir(), 'task-bench-'))
  let produced = 0
  const task = new StreamTask({
    topology,
    plan: topology.plan('bench'),
    subTopology: 0,
    partition: 0,
    collector: { send: () => void produced++ },
    state: { engine: ENGINE === 'rocksdb' ? engines.rocksdb() : engines.memory(), stateDir },
  })
  await task.start()
  const start = performance.now()
  let batches = 0
  for (let i = 0; i < records.length; i += BATCH) {
    await task.process(records.slice(i, i + BATCH))
    if (++batches % COMMIT_EVERY === 0) await task.flush()
  }
  await task.flush()
  const seconds = (performance.now() - start) / 1000
  await task.close()
  rmSync(stateDir, { recursive: true, force: true })
  if (produced === 0) throw new Error('the topology produced nothing: the benchmark is broken')
  return records.length / seconds
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const records = inputs()
console.log(`records=${RECORDS} runs=${RUNS} batch=${BATCH} keys=${KEYS} commit-every=${COMMIT_EVERY} engine=${ENGINE} node=${process.version}`)
for (const [name, build] of [
  ['task: stateless chain', statelessChain],
  ['task: windowed count', windowedCount],
] as const) {
  await once(build(), records.slice(0, Math.min(20_000, RECORDS)))
  const rates: number[] = []
  for (let r = 0; r < RUNS; r++) rates.push(await once(build(), records))
  console.log(`${name}: median ${Math.round(median(rates)).toLocaleString('en-US')} records/s (runs: ${rates.map((x) => Math.round(x)).join(', ')})`)
}
