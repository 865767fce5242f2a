/**
 * Driver-based micro-benchmark: records/s through the TopologyTestDriver (same tasks, processors,
 * serdes and stores as production; in-memory engine; no broker).
 *
 *   npx tsx bench/driver/driver-bench.ts [--records 200000] [--runs 5] [--batch 1000]
 *
 * Inputs are serialized up front and piped as raw batches of `--batch` records (one consumer poll
 * each), so the figure is the task's processing: decode, prefetch, operators, encode, output.
 */
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { type RawInput, TopologyTestDriver } from '../../runtime/test-driver.js'
import { Serdes } from '../../schemas/index.js'
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
  },
})
const RECORDS = Number(values.records)
const RUNS = Number(values.runs)
const BATCH = Number(values.batch)
const KEYS = Number(values.keys)

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

function inputs(): RawInput[] {
  const out: RawInput[] = []
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  for (let i = 0; i < RECORDS; i++) {
    const tenant = `tenant-${i % KEYS}`
    const v: Telemetry = { tenant_id: tenant, model: i % 3 ? 'gpt-4o' : 'claude', latency_ms: (i * 7919) % 1000, tokens: 100 + (i % 900), status: i % 50 ? 'ok' : 'error' }
    // ~1000 records per second of event time: windows close as the run proceeds.
    out.push({ key: Buffer.from(tenant), value: value.serialize(v), timestamp: t0 + i })
  }
  return out
}

async function once(topology: Topology, records: readonly RawInput[]): Promise<number> {
  const driver = await TopologyTestDriver.create(topology, { applicationId: 'bench' })
  const start = performance.now()
  for (let i = 0; i < records.length; i += BATCH) await driver.pipeRaw('telemetry', records.slice(i, i + BATCH))
  const seconds = (performance.now() - start) / 1000
  await driver.close()
  return records.length / seconds
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const records = inputs()
console.log(`records=${RECORDS} runs=${RUNS} batch=${BATCH} keys=${KEYS} node=${process.version}`)
for (const [name, build] of [
  ['stateless chain (filter, mapValues, filter, mapValues, to)', statelessChain],
  ['windowed count (tumbling 1 min, grace 5 s, logged store)', windowedCount],
] as const) {
  await once(build(), records.slice(0, Math.min(20_000, RECORDS))) // warm-up
  const rates: number[] = []
  for (let r = 0; r < RUNS; r++) rates.push(await once(build(), records))
  console.log(`${name}: median ${Math.round(median(rates)).toLocaleString('en-US')} records/s (runs: ${rates.map((x) => Math.round(x)).join(', ')})`)
}
