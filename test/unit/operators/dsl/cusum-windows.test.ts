import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { type CusumWindowsOptions, CusumWindowsCore, cusumWindows } from '../../../../operators/dsl/cusum-windows.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { StreamsBuilder, TimeWindows, type Topology } from '../../../../topology/index.js'
import { gaussian, mulberry32 } from '../detectors/prng.js'

interface Call {
  latency_ms: number
}

const MINUTE = 60_000
const T0 = Date.UTC(2026, 0, 1)
const callSerde = Serdes.json<Call>()
const anomalySerde = Serdes.avro<AnomalyEvent>(anomalyEventSchema)

type Options = Omit<CusumWindowsOptions<Call>, 'id' | 'window' | 'aggregate'>

// minStd near a window mean's true std (2.2): ten warm-up windows estimate it loosely.
const defaults: Options = { warmupWindows: 10, drift: 0.5, threshold: 6, minStd: 2.5 }

function topology(options: Options, id = 'latency-cusum'): Topology {
  const builder = new StreamsBuilder()
  const calls = builder.stream('calls', { key: Serdes.string(), value: callSerde })
  cusumWindows(calls, { id, window: TimeWindows.tumbling(MINUTE, { graceMs: 5_000 }), aggregate: 'mean', metric: (c) => c.latency_ms, metricName: 'latency_ms', ...options }).to('anomalies', {
    key: Serdes.string(),
    value: anomalySerde,
  })
  return builder.build()
}

async function run(
  top: Topology,
  records: readonly { key: string; latency: number; at: number }[],
  state: { engine?: ReturnType<typeof engines.rocksdb>; stateDir?: string } = {},
): Promise<{ driver: TopologyTestDriver; anomalies: [string, AnomalyEvent][] }> {
  const driver = await TopologyTestDriver.create(top, { applicationId: 'cusum-test', ...state })
  const input = driver.createInputTopic('calls', Serdes.string(), callSerde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), anomalySerde)
  for (let i = 0; i < records.length; i += 500) {
    await input.pipeRecords(records.slice(i, i + 500).map((r) => ({ key: r.key, value: { latency_ms: r.latency }, timestamp: r.at })))
  }
  return { driver, anomalies: output.readKeyValues() }
}

/** Five calls a minute per key, latency ~ N(100, 5) (a window mean's std ~2.2), plus `shift(key, minute)`. */
function calls(keys: readonly string[], minutes: number, seed: number, shift: (key: string, minute: number) => number = () => 0) {
  const noise = gaussian(mulberry32(seed))
  const out: { key: string; latency: number; at: number }[] = []
  for (let m = 0; m < minutes; m++) {
    for (let i = 0; i < 5; i++) for (const key of keys) out.push({ key, latency: 100 + 5 * noise() + shift(key, m), at: T0 + m * MINUTE + i * 10_000 })
  }
  return out
}

describe('cusumWindows', () => {
  test('a slow drift is confirmed within a few windows, on its key only, with the deterministic id', async () => {
    // +1 a minute from minute 30 (under half a window std a minute: a rolling z-score would learn it).
    const records = calls(['svc-a', 'svc-b'], 60, 1, (key, m) => (key === 'svc-a' && m >= 30 ? m - 29 : 0))
    const { driver, anomalies } = await run(topology(defaults), records)
    await driver.close()
    assert.ok(anomalies.length >= 1)
    assert.ok(anomalies.every(([k]) => k === 'svc-a'), JSON.stringify(anomalies.map(([k]) => k)))
    const [, first] = anomalies[0]!
    const start = Date.parse(first.context?.window_start ?? "")
    assert.ok(start >= T0 + 30 * MINUTE && start <= T0 + 40 * MINUTE, new Date(start).toISOString())
    assert.equal(first.anomaly_id, anomalyId('latency-cusum', 'svc-a', start))
    assert.equal(first.timestamp, new Date(start + MINUTE + 5_000).toISOString())
    assert.match(first.title ?? "", /^mean of latency_ms shifted above baseline \(CUSUM/)
  })

  test('a one-window spike alone is not a change (clipped residual)', async () => {
    const records = calls(['svc-a'], 60, 2, (_key, m) => (m === 30 ? 400 : 0))
    const { driver, anomalies } = await run(topology({ ...defaults, clip: 3 }), records)
    await driver.close()
    assert.deepEqual(anomalies, [])
  })

  test('steady traffic raises no alarm over hours (many keys)', async () => {
    const records = calls(['a', 'b', 'c', 'd'], 300, 3)
    const { driver, anomalies } = await run(topology(defaults), records)
    await driver.close()
    assert.deepEqual(anomalies.map(([k, a]) => [k, a.context?.window_start]), [])
  })

  test('stdConfidence: without a std floor, noise keys raise fewer alarms against the warm-up std\'s upper bound, and a step is still reported', async () => {
    const bare: Options = { warmupWindows: 10, drift: 0.5, threshold: 6 }
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
    const noise = calls(keys, 240, 5)
    const plain = await run(topology(bare), noise)
    await plain.driver.close()
    const bounded = await run(topology({ ...bare, stdConfidence: 0.9 }), noise)
    await bounded.driver.close()
    assert.ok(bounded.anomalies.length < plain.anomalies.length, `${bounded.anomalies.length} vs ${plain.anomalies.length}`)
    const step = await run(topology({ ...bare, stdConfidence: 0.9 }), calls(['svc-a'], 90, 4, (_key, m) => (m >= 30 ? 15 : 0)))
    await step.driver.close()
    const starts = step.anomalies.map(([, a]) => (Date.parse(a.context?.window_start ?? '') - T0) / MINUTE)
    assert.ok(starts.length >= 1 && starts[0]! >= 30 && starts[0]! < 40, JSON.stringify(starts))
  })

  test('a lasting step is reported as it starts, not at every window after: the baseline moves to the new level', async () => {
    const records = calls(['svc-a'], 90, 4, (_key, m) => (m >= 30 ? 15 : 0))
    const { driver, anomalies } = await run(topology(defaults), records)
    await driver.close()
    const starts = anomalies.map(([, a]) => (Date.parse(a.context?.window_start ?? "") - T0) / MINUTE)
    // A chance run just before the step can confirm once with it and once more for the rest of it.
    assert.ok(starts.length >= 1 && starts.length <= 2 && starts.every((m) => m >= 30 && m < 40), JSON.stringify(starts))
  })

  test('direction up ignores a drop; both reports it', async () => {
    const records = calls(['svc-a'], 60, 5, (_key, m) => (m >= 30 ? -20 : 0))
    const up = await run(topology(defaults), records)
    await up.driver.close()
    assert.deepEqual(up.anomalies, [])
    const both = await run(topology({ ...defaults, direction: 'both' }), records)
    await both.driver.close()
    const starts = both.anomalies.map(([, a]) => (Date.parse(a.context?.window_start ?? "") - T0) / MINUTE)
    assert.ok(starts.length >= 1 && starts.length <= 2 && starts.every((m) => m >= 30 && m < 40), JSON.stringify(starts))
    assert.ok(both.anomalies.every(([, a]) => /below baseline/.test(a.title ?? "")))
  })

  test('restart: with the state on disk, a run stopped halfway and resumed emits what an uninterrupted run does', async () => {
    const records = calls(['a', 'b'], 90, 9, (key, m) => (key === 'a' && m >= 40 ? (m - 39) * 1.5 : 0))
    const whole = await run(topology(defaults), records)
    await whole.driver.close()
    const stateDir = mkdtempSync(join(tmpdir(), 'cusum-restart-'))
    try {
      const cut = records.findIndex((r) => r.at >= T0 + 42 * MINUTE + 20_000)
      const before = await run(topology(defaults), records.slice(0, cut), { engine: engines.rocksdb(), stateDir })
      await before.driver.close()
      const after = await run(topology(defaults), records.slice(cut), { engine: engines.rocksdb(), stateDir })
      await after.driver.close()
      assert.ok(whole.anomalies.length >= 1)
      assert.ok(after.anomalies.length >= 1, 'the drift is confirmed after the restart')
      assert.deepEqual([...before.anomalies, ...after.anomalies], whole.anomalies)
      // Without the first half's state the warm-up starts again: the drift is learned as the baseline.
      const amnesiac = await run(topology(defaults), records.slice(cut), { engine: engines.rocksdb() })
      await amnesiac.driver.close()
      assert.notDeepEqual(amnesiac.anomalies, after.anomalies)
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('the core: no verdict in the warm-up; a frozen baseline does not learn; alpha learns only while no change builds', () => {
    const core = new CusumWindowsCore({ warmupWindows: 3, drift: 0.5, threshold: 5, minStd: 1 })
    let state = core.initial()
    for (const v of [10, 10, 10]) {
      const s = core.step(state, v)
      assert.equal(s.verdict.ready, false)
      state = s.state
    }
    assert.equal(state.mean, 10)
    const frozen = core.step(state, 10.2).state
    assert.equal(frozen.mean, 10)
    const learning = new CusumWindowsCore({ warmupWindows: 3, drift: 0.5, threshold: 5, minStd: 1, alpha: 0.5 })
    assert.equal(learning.step(state, 10.2).state.mean, 10.1)
    assert.equal(learning.step(state, 12).state.mean, 10, 'a residual of 2 builds the up side: not learned')
    assert.throws(() => new CusumWindowsCore({ warmupWindows: 1, drift: 0.5, threshold: 5 }), /warmupWindows/)
  })
})
