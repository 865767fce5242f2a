import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { binomialDistribution } from 'simple-statistics'
import { BinomialBurstDetector, betaBinomialTail } from '../../../../operators/detectors/binomial-burst.js'
import { type BinomialBurstOptions, binomialBurst } from '../../../../operators/dsl/binomial-burst.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import type { AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { StreamsBuilder, type Topology } from '../../../../topology/index.js'
import { mulberry32 } from '../detectors/prng.js'

interface Call {
  failed: boolean
}

const T0 = Date.UTC(2026, 0, 1)
const MIN = 60_000
const serde = Serdes.json<Call>()
const options: BinomialBurstOptions<Call> = { id: 'errors', outcome: (c) => c.failed, windowMs: 3 * MIN, bucketMs: 15_000, significance: 1e-4, minFailures: 2, entityType: 'application' }

function topology(): Topology {
  const builder = new StreamsBuilder()
  binomialBurst(builder.stream('calls', { key: Serdes.string(), value: serde }), options).to('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  return builder.build()
}

type Row = { key: string; at: number; failed: boolean }

async function run(rows: readonly Row[], state: { engine?: ReturnType<typeof engines.rocksdb>; stateDir?: string } = {}): Promise<AnomalyEvent[]> {
  const driver = await TopologyTestDriver.create(topology(), { applicationId: 'binomial-test', ...state })
  const input = driver.createInputTopic('calls', Serdes.string(), serde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
  for (let i = 0; i < rows.length; i += 200) await input.pipeRecords(rows.slice(i, i + 200).map((r) => ({ key: r.key, value: { failed: r.failed }, timestamp: r.at })))
  const out = output.readValues()
  await driver.close()
  return out
}

/**
 * `perMin` calls a minute for `minutes` from `fromMin`, each failing with probability `rate`
 * (seeded, so the test repeats exactly); `rateAt` overrides the rate by minute.
 */
function calls(key: string, perMin: number, minutes: number, rate: number, seed: number, rateAt: (minute: number) => number = () => rate): Row[] {
  const rand = mulberry32(seed)
  const every = MIN / perMin
  return Array.from({ length: Math.floor(minutes * perMin) }, (_, i) => {
    const at = T0 + Math.round(i * every + rand() * every * 0.5)
    return { key, at, failed: rand() < rateAt((at - T0) / MIN) }
  })
}

const byTime = (rows: Row[]): Row[] => rows.sort((a, b) => a.at - b.at)
const between = (from: number, to: number) => (a: AnomalyEvent): boolean => Date.parse(a.timestamp) >= T0 + from * MIN && Date.parse(a.timestamp) <= T0 + to * MIN

describe('BinomialBurstDetector', () => {
  test('with a well-known rate the tail is the binomial one (simple-statistics)', () => {
    const pmf = binomialDistribution(20, 0.05)!
    // The complement of the head: the table itself stops once it holds all but 1e-4 of the mass.
    const exact = 1 - pmf.slice(0, 3).reduce((s, p) => s + p, 0)
    const tail = betaBinomialTail(3, 20, 1e7 * 0.05, 1e7 * 0.95)
    assert.ok(Math.abs(tail - exact) < 1e-4 * exact, `${tail} vs ${exact}`)
  })

  test('3 failures in 4 calls at a 1% rate are a burst, 3 in 300 are not', () => {
    const detector = new BinomialBurstDetector({ significance: 1e-4, minFailures: 2 })
    const history = { calls: 5000, failures: 50 }
    assert.equal(detector.judge(3, 4, history, history).burst, true)
    assert.equal(detector.judge(3, 300, history, history).burst, false)
  })

  test('a young entity borrows the population\'s rate, with a wider tail than a known one', () => {
    const detector = new BinomialBurstDetector({ significance: 1e-4, minFailures: 2 })
    const population = { calls: 5000, failures: 50 }
    const young = detector.judge(3, 6, { calls: 10, failures: 0 }, population)
    const known = detector.judge(3, 6, { calls: 5000, failures: 50 }, population)
    assert.ok(Math.abs(young.rate - 0.01) < 0.002, String(young.rate))
    assert.ok(young.tail > known.tail, `${young.tail} <= ${known.tail}`)
  })
})

describe('binomialBurst', () => {
  test('1% failures for 6 h, in a quiet (2 calls/min) and a busy (40 calls/min) application: no anomaly', async () => {
    assert.deepEqual(await run(byTime([...calls('quiet', 2, 360, 0.01, 1), ...calls('busy', 40, 360, 0.01, 2)])), [])
  })

  test('a spike: 3 min at 60% failures in the quiet application is reported within the burst; the busy one stays quiet', async () => {
    const rows = byTime([...calls('quiet', 2, 240, 0.01, 3, (m) => (m >= 150 && m < 153 ? 0.6 : 0.01)), ...calls('busy', 40, 240, 0.01, 4)])
    const out = await run(rows)
    assert.deepEqual(out.map((a) => a.affected_entity?.id), ['quiet'])
    assert.ok(between(150, 153)(out[0]!), out[0]!.timestamp)
    assert.match(out[0]!.title ?? '', /of \d+ calls failed in 3 min/)
  })

  test('a level shift (1% to 20% for good): one anomaly, not one per window', async () => {
    const out = await run(calls('busy', 20, 300, 0.01, 5, (m) => (m >= 120 ? 0.2 : 0.01)))
    assert.equal(out.length, 1)
    assert.ok(between(120, 123)(out[0]!), out[0]!.timestamp)
  })

  test('dense anomalies: four bursts 20 minutes apart are four anomalies', async () => {
    const burstAt = [100, 120, 140, 160]
    const out = await run(calls('app', 10, 200, 0.01, 6, (m) => (burstAt.some((b) => m >= b && m < b + 3) ? 0.5 : 0.01)))
    assert.equal(out.length, 4)
    for (const [i, b] of burstAt.entries()) assert.ok(between(b, b + 3)(out[i]!), `${out[i]!.timestamp} for the burst at ${b} min`)
  })

  test('a slow drift of the failure rate (1% to 5% over 4 h) is learned, not reported', async () => {
    assert.deepEqual(await run(calls('app', 20, 240, 0.01, 7, (m) => 0.01 + (0.04 * m) / 240)), [])
  })

  test('restart mid-run: resumed from its state on disk, the same anomalies as an uninterrupted run', async () => {
    const rows = byTime([...calls('quiet', 2, 240, 0.01, 8, (m) => (m >= 150 && m < 153 ? 0.6 : 0.01)), ...calls('busy', 30, 240, 0.01, 9, (m) => (m >= 200 && m < 203 ? 0.3 : 0.01))])
    const whole = await run(rows)
    assert.equal(whole.length, 2)
    const stateDir = mkdtempSync(join(tmpdir(), 'binomial-restart-'))
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
