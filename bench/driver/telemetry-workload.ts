/**
 * The workload both driver benchmarks run (driver-bench.ts, task-bench.ts), so their figures compare:
 * the same JSON telemetry input, the same two topologies, the same runs and report.
 */
import { Serdes } from '../../schemas/index.js'
import { StreamsBuilder, TimeWindows, type Topology } from '../../topology/index.js'
import { median } from '../state/stats.js'

interface Telemetry {
  tenant_id: string
  model: string
  latency_ms: number
  tokens: number
  status: 'ok' | 'error'
}

/** The command-line options both benchmarks take (`parseArgs` options; each adds its own). */
export const workloadOptions = {
  records: { type: 'string', default: '200000' },
  runs: { type: 'string', default: '5' },
  batch: { type: 'string', default: '1000' },
  keys: { type: 'string', default: '1000' },
} as const

const value = Serdes.json<Telemetry>()

export function statelessChain(): Topology {
  const b = new StreamsBuilder()
  b.stream('telemetry', { key: Serdes.string(), value })
    .filter((_k, v) => v.status === 'ok')
    .mapValues((v) => ({ tenant: v.tenant_id, cost: v.tokens * 0.000002, slow: v.latency_ms > 800 }))
    .filter((_k, v) => v.slow)
    .mapValues((v) => v.cost)
    .to('slow-costs', { value: Serdes.double() })
  return b.build()
}

export function windowedCount(): Topology {
  const b = new StreamsBuilder()
  b.stream('telemetry', { key: Serdes.string(), value })
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(60_000, { graceMs: 5_000 }))
    .count({ name: 'calls-per-minute' })
    .toStream()
    .to('counts')
  return b.build()
}

/** `count` serialized events of topic `telemetry` over `keys` tenants. */
export function telemetryEvents(count: number, keys: number): { key: Buffer; value: Buffer; timestamp: number }[] {
  const out: { key: Buffer; value: Buffer; timestamp: number }[] = []
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  for (let i = 0; i < count; i++) {
    const tenant = `tenant-${i % keys}`
    const v: Telemetry = { tenant_id: tenant, model: i % 3 ? 'gpt-4o' : 'claude', latency_ms: (i * 7919) % 1000, tokens: 100 + (i % 900), status: i % 50 ? 'ok' : 'error' }
    // ~1000 records per second of event time: windows close as the run proceeds.
    out.push({ key: Buffer.from(tenant), value: value.serialize(v), timestamp: t0 + i })
  }
  return out
}

/**
 * Per named topology: one warm-up on the first 20,000 records, then `runs` timed runs of `once`
 * (which returns records/s), printing the median and every run.
 */
export async function reportMedians<R>(
  cases: readonly (readonly [string, () => Topology])[],
  records: readonly R[],
  runs: number,
  once: (topology: Topology, records: readonly R[]) => Promise<number>,
): Promise<void> {
  for (const [name, build] of cases) {
    await once(build(), records.slice(0, Math.min(20_000, records.length))) // warm-up
    const rates: number[] = []
    for (let r = 0; r < runs; r++) rates.push(await once(build(), records))
    console.log(`${name}: median ${Math.round(median(rates)).toLocaleString('en-US')} records/s (runs: ${rates.map((x) => Math.round(x)).join(', ')})`)
  }
}
