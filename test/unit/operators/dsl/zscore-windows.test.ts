import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { rollingBaseline } from '../../../../operators/detectors/baseline.js'
import { ZScoreDetector, type ZScoreState } from '../../../../operators/detectors/zscore.js'
import type { DetectorSlot } from '../../../../operators/dsl/windowed-detector.js'
import { type ZScoreWindowsOptions, zScoreWindows } from '../../../../operators/dsl/zscore-windows.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { StreamsBuilder, TimeWindows, type Topology } from '../../../../topology/index.js'
import { gaussian, mulberry32 } from '../detectors/prng.js'
import { expectedTwoSidedRate } from './student-t.js'

interface Call {
  latency_ms: number
}

const MINUTE = 60_000
const T0 = Date.UTC(2026, 0, 1)
const callSerde = Serdes.json<Call>()
const anomalySerde = Serdes.avro<AnomalyEvent>(anomalyEventSchema)

type Options = Omit<ZScoreWindowsOptions<Call>, 'id' | 'window'>

function topology(options: Options, id = 'latency-z'): Topology {
  const builder = new StreamsBuilder()
  const calls = builder.stream('calls', { key: Serdes.string(), value: callSerde })
  zScoreWindows(calls, { id, window: TimeWindows.tumbling(MINUTE, { graceMs: 5_000 }), metric: (c) => c.latency_ms, metricName: 'latency_ms', ...options }).to('anomalies', {
    key: Serdes.string(),
    value: anomalySerde,
  })
  return builder.build()
}

async function run(
  top: Topology,
  records: readonly { key: string; latency: number; at: number }[],
  batch = 500,
  state: { engine?: ReturnType<typeof engines.rocksdb>; stateDir?: string; forwardingCacheMaxEntries?: number } = {},
): Promise<{ driver: TopologyTestDriver; anomalies: [string, AnomalyEvent][] }> {
  const driver = await TopologyTestDriver.create(top, { applicationId: 'zscore-test', ...state })
  const input = driver.createInputTopic('calls', Serdes.string(), callSerde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), anomalySerde)
  for (let i = 0; i < records.length; i += batch) {
    await input.pipeRecords(records.slice(i, i + batch).map((r) => ({ key: r.key, value: { latency_ms: r.latency }, timestamp: r.at })))
  }
  return { driver, anomalies: output.readKeyValues() }
}

const meanOptions: Options = { aggregate: 'mean', baseline: { kind: 'rolling', windows: 30 }, threshold: 4, minHistory: 10 }

/** Five calls per minute per key, latency ~ N(100, 5); `spike` (minute -> latency) overrides. */
function calls(keys: readonly string[], minutes: number, seed: number, spike: (key: string, minute: number) => number | undefined = () => undefined) {
  const noise = gaussian(mulberry32(seed))
  const out: { key: string; latency: number; at: number }[] = []
  for (let m = 0; m < minutes; m++) {
    for (let i = 0; i < 5; i++) for (const key of keys) out.push({ key, latency: spike(key, m) ?? 100 + 5 * noise(), at: T0 + m * MINUTE + i * 10_000 })
  }
  return out
}

describe('zScoreWindows', () => {
  test('a spike is flagged once, in its window, with the deterministic id and the seed schema fields', async () => {
    const records = calls(['svc-a', 'svc-b'], 40, 1, (key, m) => (key === 'svc-a' && m === 30 ? 180 : undefined))
    const { driver, anomalies } = await run(topology(meanOptions), records)
    assert.equal(anomalies.length, 1, JSON.stringify(anomalies.map(([k, a]) => [k, a.context?.window_start])))
    const [key, event] = anomalies[0]!
    const start = T0 + 30 * MINUTE
    assert.equal(key, 'svc-a')
    assert.equal(event.anomaly_id, anomalyId('latency-z', 'svc-a', start))
    assert.equal(event.detector_id, 'latency-z')
    assert.equal(event.detector_type, 'statistical')
    assert.deepEqual([event.context?.window_start, event.context?.window_end], [new Date(start).toISOString(), new Date(start + MINUTE).toISOString()])
    assert.equal(event.timestamp, new Date(start + MINUTE + 5_000).toISOString(), 'detected when the window closed (end + grace)')
    assert.equal(event.metrics?.observed_value, 180)
    assert.equal(event.metrics?.threshold, 4)
    const baseline = event.metrics?.baseline_value ?? Number.NaN
    assert.ok(Math.abs(baseline - 100) < 2, `baseline mean ${baseline}`)
    assert.ok((event.metrics?.deviation ?? 0) > 12, 'z of an 80 ms jump over a mean of five ~N(100, 5) calls')
    // z > 3 x threshold: critical; the score follows r / (1 + r).
    const r = (event.metrics?.deviation ?? 0) / 4
    assert.equal(event.severity, 'critical')
    assert.ok(Math.abs(event.score - r / (1 + r)) < 1e-12)
    await driver.close()
  })

  test('nothing is emitted before minHistory windows, and an anomalous window enters the baseline damped', async () => {
    // svc-a: spikes at 20 and 21; svc-b: a spike at 5, inside its warm-up (learned, not judged).
    const records = calls(['svc-a', 'svc-b'], 30, 2, (key, m) => ((key === 'svc-a' && (m === 20 || m === 21)) || (key === 'svc-b' && m === 5) ? 150 : undefined))
    const { driver, anomalies } = await run(topology({ ...meanOptions, minHistory: 10 }), records)
    assert.deepEqual(
      anomalies.map(([key, a]) => [key, a.context?.window_start]),
      [20, 21].map((m) => ['svc-a', new Date(T0 + m * MINUTE).toISOString()]),
    )
    // Had the first spike entered raw, the mean of the last 21 windows would have risen by ~50/21.
    const [first, second] = anomalies.map(([, a]) => a.metrics?.baseline_value ?? Number.NaN)
    const moved = (second ?? Number.NaN) - (first ?? Number.NaN)
    assert.ok(moved > 0 && moved < 1, `the baseline mean moved by ${moved}`)
    await driver.close()
  })

  test('direction: up ignores a dip that down flags', async () => {
    const records = calls(['svc-a'], 30, 3, (_k, m) => (m === 25 ? 20 : undefined))
    const up = await run(topology({ ...meanOptions, direction: 'up' }), records)
    const down = await run(topology({ ...meanOptions, direction: 'down' }), records)
    assert.equal(up.anomalies.length, 0)
    assert.deepEqual(
      down.anomalies.map(([, a]) => [a.context?.window_start, Math.sign(a.metrics?.deviation ?? 0)]),
      [[new Date(T0 + 25 * MINUTE).toISOString(), -1]],
    )
    await up.driver.close()
    await down.driver.close()
  })

  test('stationary Gaussian noise: verdicts equal the core stepped directly, and the false-alarm rate matches the threshold', async () => {
    // One call per minute, so the window mean is the N(0, 1) draw itself.
    const windows = 6000
    const keys = ['k1', 'k2']
    const noise = gaussian(mulberry32(42))
    const records: { key: string; latency: number; at: number }[] = []
    for (let m = 0; m < windows + 1; m++) for (const key of keys) records.push({ key, latency: noise(), at: T0 + m * MINUTE })
    const size = 50
    const threshold = 3
    const options: Options = { aggregate: 'mean', baseline: { kind: 'rolling', windows: size }, threshold, minHistory: size }
    const { driver, anomalies } = await run(topology(options), records, 2000)

    // The same series through the core, window by window (the last minute only closes the others).
    const core = new ZScoreDetector({ baseline: rollingBaseline(size), threshold, direction: 'both', minHistory: size })
    const expected: string[] = []
    for (const key of keys) {
      let state: ZScoreState<unknown> = core.initial()
      const series = records.filter((r) => r.key === key).slice(0, windows)
      for (const r of series) {
        const step = core.step(state as ZScoreState<never>, r.latency)
        state = step.state
        if (step.verdict.anomalous) expected.push(anomalyId('latency-z', key, r.at))
      }
    }
    assert.deepEqual(anomalies.map(([, a]) => a.anomaly_id).sort(), expected.sort())

    // Each judged window's z is (x - mean) / s over the last 50 windows: Student's t with 49 degrees
    // of freedom times sqrt(1 + 1/50). Within 4 binomial standard deviations of what that predicts.
    const judged = keys.length * (windows - size)
    const p = expectedTwoSidedRate(threshold / Math.sqrt(1 + 1 / size), size - 1)
    const sd = Math.sqrt(judged * p * (1 - p))
    assert.ok(Math.abs(anomalies.length - judged * p) <= 4 * sd, `${anomalies.length} alarms in ${judged} windows; expected ${(judged * p).toFixed(1)} ± ${sd.toFixed(1)}`)
    await driver.close()
  })

  test('count: windows without records are learned as 0 (the aggregation never emits them)', async () => {
    const records: { key: string; latency: number; at: number }[] = []
    const perMinute = [10, 12, 9, 11, 10, 10, 11, 9, 12, 10]
    perMinute.forEach((n, m) => {
      for (let i = 0; i < n; i++) records.push({ key: 'svc-a', latency: 1, at: T0 + m * MINUTE + i * 1000 })
    })
    // Minutes 10-12 are empty; minute 13 has 10 calls; minute 14 closes it.
    for (let i = 0; i < 10; i++) records.push({ key: 'svc-a', latency: 1, at: T0 + 13 * MINUTE + i * 1000 })
    records.push({ key: 'svc-a', latency: 1, at: T0 + 14 * MINUTE + 10_000 })
    const options: Options = { aggregate: 'count', baseline: { kind: 'rolling', windows: 20 }, threshold: 3, minHistory: 5 }
    const { driver } = await run(topology(options, 'calls-z'), records)

    const core = new ZScoreDetector({ baseline: rollingBaseline(20), threshold: 3, direction: 'both', minHistory: 5 })
    let state: ZScoreState<unknown> = core.initial()
    for (const n of [...perMinute, 0, 0, 0, 10]) state = core.step(state as ZScoreState<never>, n).state
    const slots = await driver.readKeyValueStore<string, DetectorSlot<ZScoreState<unknown>>>('calls-z-state')
    assert.deepEqual(slots, [['svc-a', { last: T0 + 13 * MINUTE, core: JSON.parse(JSON.stringify(state)) as ZScoreState<unknown> }]])
    await driver.close()
  })

  test('replay: the same input through a fresh topology yields the same anomalies, ids included', async () => {
    const records = calls(['a', 'b', 'c'], 60, 7, (key, m) => (key !== 'b' && m % 20 === 19 ? 160 : undefined))
    const first = await run(topology({ ...meanOptions, baseline: { kind: 'ewma', alpha: 0.1 } }), records)
    const second = await run(topology({ ...meanOptions, baseline: { kind: 'ewma', alpha: 0.1 } }), records, 37)
    assert.ok(first.anomalies.length >= 4, `${first.anomalies.length} anomalies`)
    assert.deepEqual(second.anomalies, first.anomalies)
    await first.driver.close()
    await second.driver.close()
  })

  test('with the forwarding cache on (as on Kafka), the same anomalies', async () => {
    const records = calls(['a', 'b', 'c'], 50, 13, (key, m) => (m === 25 || (key === 'c' && m === 40) ? 170 : undefined))
    const plain = await run(topology(meanOptions), records)
    const cached = await run(topology(meanOptions), records, 500, { forwardingCacheMaxEntries: 1000 })
    assert.ok(plain.anomalies.length >= 4, `${plain.anomalies.length} anomalies`)
    assert.deepEqual(cached.anomalies, plain.anomalies)
    await plain.driver.close()
    await cached.driver.close()
  })

  test('restart: with the state on disk, a run stopped halfway and resumed emits what an uninterrupted run does', async () => {
    const records = calls(['a', 'b'], 60, 9, (key, m) => (m === 20 || (key === 'a' && m === 45) ? 170 : undefined))
    const options: Options = meanOptions
    const whole = await run(topology(options), records)
    await whole.driver.close()
    const stateDir = mkdtempSync(join(tmpdir(), 'zscore-restart-'))
    try {
      // Stop inside minute 30: its window and the suppression buffer hold records not yet emitted.
      const cut = records.findIndex((r) => r.at >= T0 + 30 * MINUTE + 20_000)
      const before = await run(topology(options), records.slice(0, cut), 500, { engine: engines.rocksdb(), stateDir })
      await before.driver.close()
      const after = await run(topology(options), records.slice(cut), 500, { engine: engines.rocksdb(), stateDir })
      await after.driver.close()
      assert.ok(whole.anomalies.length >= 3, `${whole.anomalies.length} anomalies`)
      assert.ok(after.anomalies.length >= 1, 'some anomalies come after the restart')
      assert.deepEqual([...before.anomalies, ...after.anomalies], whole.anomalies)
      // The same second half without the first half's state (a fresh directory) differs.
      const amnesiac = await run(topology(options), records.slice(cut), 500, { engine: engines.rocksdb() })
      await amnesiac.driver.close()
      assert.notDeepEqual(amnesiac.anomalies, after.anomalies)
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('robust baseline: spikes in every fourth window keep being flagged until they are a quarter of the baseline', async () => {
    // Spikes at minutes 30, 34, ..., 58: by the end they are a fifth of a 30-window baseline. The
    // median/IQR hardly moves; the rolling mean/std learns the (winsorised) spikes as spread.
    const spiky = (key: string, m: number) => (key === 'svc-a' && m >= 30 && m % 4 === 2 ? 115 : undefined)
    const records = calls(['svc-a'], 60, 5, spiky)
    const robust = await run(topology({ ...meanOptions, baseline: { kind: 'robust', windows: 30 } }), records)
    const plain = await run(topology(meanOptions), records)
    const flagged = (r: typeof robust) => r.anomalies.map(([, a]) => (Date.parse(a.context?.window_start ?? '') - T0) / MINUTE)
    // At minute 58 the spikes are 8 of the 30 windows, past the quarter an IQR tolerates: missed.
    assert.deepEqual(flagged(robust), [30, 34, 38, 42, 46, 50, 54], `robust ${flagged(robust).join(', ')}; mean/std ${flagged(plain).join(', ')}`)
    assert.ok(flagged(plain).length < 6, `mean/std flagged ${flagged(plain).join(', ')}`)
    await robust.driver.close()
    await plain.driver.close()
  })

  test('names its operators and stores after `name`, and rejects bad options with the field and the fix', () => {
    const described = topology({ ...meanOptions, name: 'p99' }).describe()
    for (const part of ['p99-window-store', 'p99-final-store', 'p99-state']) assert.ok(described.includes(part), `${part} in\n${described}`)
    const build = (change: Partial<ZScoreWindowsOptions<Call>>) => () => {
      const builder = new StreamsBuilder()
      zScoreWindows(builder.stream('calls', { key: Serdes.string(), value: callSerde }), { id: 'z', window: TimeWindows.tumbling(MINUTE), ...meanOptions, ...change })
    }
    assert.throws(build({ window: TimeWindows.hopping(MINUTE, 10_000) }), /'window' must be tumbling/)
    assert.throws(build({ metric: undefined }), /aggregate 'mean' needs a 'metric'/)
    assert.throws(build({ minHistory: 40 }), /'minHistory' \(40\) exceeds 'baseline.windows' \(30\)/)
    assert.throws(build({ id: '' }), /'id' \(the detector_id\) must be a non-empty string/)
    assert.throws(build({ baseline: { kind: 'ewma', alpha: 2 } }), /'baseline.alpha' must be in \(0, 1\]/)
    assert.throws(build({ baseline: { kind: 'robust', windows: 3 } }), /'baseline.windows' must be an integer >= 4 for a robust baseline/)
    assert.throws(build({ baseline: { kind: 'robust', windows: 8 } }), /'minHistory' \(10\) exceeds 'baseline.windows' \(8\)/)
  })
})
