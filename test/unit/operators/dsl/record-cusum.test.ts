import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { type RecordCusumOptions, recordCusum } from '../../../../operators/dsl/record-cusum.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import type { AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { StreamsBuilder, type Topology } from '../../../../topology/index.js'
import { gaussian, mulberry32 } from '../detectors/prng.js'

interface Call {
  tokens: number
}

const T0 = Date.UTC(2026, 0, 1)
const MIN = 60_000
const serde = Serdes.json<Call>()
const options: RecordCusumOptions<Call> = { id: 'token-cusum', metric: (c) => c.tokens, metricName: 'tokens', drift: 1, threshold: 8, clip: 4, minLogStd: 0.25, alpha: 0.02, minHistory: 50, entityType: 'application' }

function topology(overrides: Partial<RecordCusumOptions<Call>>): Topology {
  const builder = new StreamsBuilder()
  recordCusum(builder.stream('calls', { key: Serdes.string(), value: serde }), { ...options, ...overrides }).to('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  return builder.build()
}

type Row = { key: string; at: number; tokens: number }

async function run(rows: readonly Row[], state: { engine?: ReturnType<typeof engines.rocksdb>; stateDir?: string } = {}, overrides: Partial<RecordCusumOptions<Call>> = {}): Promise<AnomalyEvent[]> {
  const driver = await TopologyTestDriver.create(topology(overrides), { applicationId: 'record-cusum-test', ...state })
  const input = driver.createInputTopic('calls', Serdes.string(), serde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
  for (let i = 0; i < rows.length; i += 200) await input.pipeRecords(rows.slice(i, i + 200).map((r) => ({ key: r.key, value: { tokens: r.tokens }, timestamp: r.at })))
  const out = output.readValues()
  await driver.close()
  return out
}

/** `perMin` calls a minute of log-normal tokens (median 1000, log std 0.5), times `factor(minute)`. */
function calls(key: string, perMin: number, minutes: number, seed: number, factor: (minute: number) => number = () => 1): Row[] {
  const noise = gaussian(mulberry32(seed))
  return Array.from({ length: Math.floor(minutes * perMin) }, (_, i) => {
    const at = T0 + Math.round((i * MIN) / perMin)
    return { key, at, tokens: 1000 * Math.exp(0.5 * noise()) * factor((at - T0) / MIN) }
  })
}

const minuteOf = (a: AnomalyEvent): number => (Date.parse(a.timestamp) - T0) / MIN

describe('recordCusum', () => {
  test('log-normal sizes for 8 h, in a quiet (2 calls/min) and a busy (20 calls/min) key: no anomaly', async () => {
    assert.deepEqual(await run([...calls('quiet', 2, 480, 1), ...calls('busy', 20, 480, 2)].sort((a, b) => a.at - b.at)), [])
  })

  test('a lone spike (one call at 50x) is not a rise: its residual is clipped', async () => {
    assert.deepEqual(await run(calls('app', 2, 240, 3, (m) => (m >= 150 && m < 150.5 ? 50 : 1))), [])
  })

  test('a 3x surge in a quiet key (2 calls/min) is reported within 10 minutes (20 calls), once for the whole surge', async () => {
    const out = await run(calls('quiet', 2, 240, 4, (m) => (m >= 150 && m < 170 ? 3 : 1)))
    assert.equal(out.length, 1)
    assert.ok(minuteOf(out[0]!) >= 150 && minuteOf(out[0]!) < 160, out[0]!.timestamp)
    assert.match(out[0]!.title ?? '', /^tokens per record up about \d/)
  })

  // A 2x shift (1.4 stds at this spread) is mostly learned before it adds up: the detector is for
  // rises of 2 stds and more.
  test('a level shift (3x for good) is one anomaly, not one per record', async () => {
    const out = await run(calls('app', 5, 300, 5, (m) => (m >= 120 ? 3 : 1)))
    assert.equal(out.length, 1)
    assert.ok(minuteOf(out[0]!) >= 120 && minuteOf(out[0]!) < 130, out[0]!.timestamp)
  })

  test('a slow drift (tokens +50% over 4 h) is learned as it happens, not reported', async () => {
    assert.deepEqual(await run(calls('app', 5, 240, 6, (m) => 1 + (0.5 * m) / 240)), [])
  })

  test('dense anomalies: three 4x surges 30 minutes apart are three anomalies', async () => {
    const starts = [100, 130, 160]
    const out = await run(calls('app', 5, 200, 7, (m) => (starts.some((s) => m >= s && m < s + 5) ? 4 : 1)))
    assert.deepEqual(out.map((a) => Math.floor((minuteOf(a) - 100) / 30)), [0, 1, 2])
  })

  // The end of an episode (a confirmed fall after a confirmed rise) returns the profile to its level
  // and spread from before the rise: the rise's records are not left in it as spread or level.
  test('dense anomalies in a quiet key: a x3 surge 15 minutes after a x10 one is found too', async () => {
    const out = await run(calls('quiet', 2, 240, 11, (m) => (m >= 120 && m < 130 ? 10 : m >= 145 && m < 155 ? 3 : 1)))
    assert.deepEqual(out.map((a) => (minuteOf(a) < 140 ? 'first' : minuteOf(a) < 155 ? 'second' : `late ${minuteOf(a)}`)), ['first', 'second'])
  })

  test('seasonal sizes (x0.5 to x1.5 over a 2-hour cycle, 8 h) in a quiet and a busy key: no anomaly', async () => {
    const season = (m: number): number => 1 - 0.5 * Math.cos((2 * Math.PI * m) / 120)
    assert.deepEqual(await run([...calls('quiet', 2, 480, 12, season), ...calls('busy', 20, 480, 13, season)].sort((a, b) => a.at - b.at)), [])
  })

  // A young profile judged against its std's 90% upper bound (stdConfidence): verdicts from the
  // 20th call, so a very quiet key's surge is not learned as its normal before it is judged.
  const young = { minHistory: 20, stdConfidence: 0.9 }

  test('a 5x surge from the 25th call of a key of one call every 2 minutes: found with minHistory 20 and stdConfidence, learned with minHistory 50', async () => {
    const rows = calls('rare', 0.5, 120, 9, (m) => (m >= 50 && m < 70 ? 5 : 1))
    assert.deepEqual(await run(rows), [])
    const out = await run(rows, {}, young)
    assert.equal(out.length, 1)
    assert.ok(minuteOf(out[0]!) >= 50 && minuteOf(out[0]!) < 70, out[0]!.timestamp)
  })

  test('forty young quiet keys (one call every 2 minutes, 4 h) judged from their 20th call with stdConfidence: no anomaly', async () => {
    const rows = Array.from({ length: 40 }, (_, k) => calls(`k${k}`, 0.5, 240, 100 + k)).flat().sort((a, b) => a.at - b.at)
    assert.deepEqual(await run(rows, {}, young), [])
  })

  test('stdConfidence must be a tabled level', async () => {
    const builder = new StreamsBuilder()
    assert.throws(() => recordCusum(builder.stream('calls', { key: Serdes.string(), value: serde }), { ...options, stdConfidence: 0.8 }), /'stdConfidence' must be one of 0.9/)
  })

  test('restart mid-run: resumed from its state on disk, the same anomalies as an uninterrupted run', async () => {
    const rows = calls('app', 5, 240, 8, (m) => (m >= 150 && m < 170 ? 3 : 1))
    const whole = await run(rows)
    assert.equal(whole.length, 1)
    const stateDir = mkdtempSync(join(tmpdir(), 'record-cusum-restart-'))
    try {
      const cut = rows.findIndex((r) => r.at >= T0 + 151 * MIN)
      const before = await run(rows.slice(0, cut), { engine: engines.rocksdb(), stateDir })
      const after = await run(rows.slice(cut), { engine: engines.rocksdb(), stateDir })
      assert.deepEqual([...before, ...after], whole)
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
})
