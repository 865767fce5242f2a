import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { type OutlierStreakOptions, outlierStreak } from '../../../../operators/dsl/outlier-streak.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import type { AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { StreamsBuilder, type Topology } from '../../../../topology/index.js'
import { gaussian, mulberry32 } from '../detectors/prng.js'

interface Call {
  app: string
  tokens: number
}

const T0 = Date.UTC(2026, 0, 1)
const serde = Serdes.json<Call>()
const options: OutlierStreakOptions<Call> = { id: 'runaway', metric: (c) => c.tokens, metricName: 'tokens', threshold: 3, minLogStd: 0.5, minimum: 100, count: 3, minHistory: 10, cohort: (c) => c.app, cohortMinHistory: 30, entityType: 'user' }

function topology(within?: number): Topology {
  const builder = new StreamsBuilder()
  outlierStreak(builder.stream('calls', { key: Serdes.string(), value: serde }), within === undefined ? options : { ...options, within }).to('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  return builder.build()
}

type Row = { key: string; tokens: number; at: number }

async function run(rows: readonly Row[], state: { engine?: ReturnType<typeof engines.rocksdb>; stateDir?: string } = {}, within?: number): Promise<AnomalyEvent[]> {
  const driver = await TopologyTestDriver.create(topology(within), { applicationId: 'runaway-test', ...state })
  const input = driver.createInputTopic('calls', Serdes.string(), serde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
  for (let i = 0; i < rows.length; i += 200) await input.pipeRecords(rows.slice(i, i + 200).map((r) => ({ key: r.key, value: { app: 'chat', tokens: r.tokens }, timestamp: r.at })))
  const out = output.readValues()
  await driver.close()
  return out
}

/** `n` calls per user, a minute apart, log-normal tokens (median 800, sigma 0.5); `scale` multiplies some. */
function calls(users: readonly string[], n: number, seed: number, scale: (user: string, i: number) => number = () => 1): Row[] {
  const noise = gaussian(mulberry32(seed))
  const rows: Row[] = []
  for (let i = 0; i < n; i++) for (const [u, user] of users.entries()) rows.push({ key: user, tokens: Math.round(800 * Math.exp(0.5 * noise()) * scale(user, i)), at: T0 + i * 60_000 + u * 1000 })
  return rows
}

describe('outlierStreak', () => {
  test('steady log-normal calls of 20 users for 3 h: no anomaly', async () => {
    assert.deepEqual(await run(calls(Array.from({ length: 20 }, (_, i) => `u${i}`), 180, 1)), [])
  })

  test('one user\'s calls at 15x their tokens: one anomaly at the third, naming the user', async () => {
    const out = await run(calls(['a', 'b', 'c'], 120, 2, (user, i) => (user === 'b' && i >= 90 && i < 100 ? 15 : 1)))
    assert.equal(out.length, 1)
    assert.equal(out[0]!.affected_entity?.id, 'b')
    assert.equal(out[0]!.timestamp, new Date(T0 + 92 * 60_000 + 1000).toISOString())
  })

  test('a runaway with every third call normal: never 3 in a row, but 3 of the last 5 (within 5), reported once', async () => {
    // Calls 90..104 of user b: two at 15x, one at its usual size, repeated (a runaway whose calls do
    // not all clear the bound).
    const rows = calls(['a', 'b', 'c'], 120, 4, (user, i) => (user === 'b' && i >= 90 && i < 105 && (i - 90) % 3 !== 2 ? 15 : 1))
    assert.deepEqual(await run(rows), [])
    const out = await run(rows, {}, 5)
    assert.equal(out.length, 1)
    assert.equal(out[0]!.affected_entity?.id, 'b')
    // Outliers at calls 90, 91, 93: the third is the fourth record of the episode.
    assert.equal(out[0]!.timestamp, new Date(T0 + 93 * 60_000 + 1000).toISOString())
    assert.match(out[0]!.title ?? '', /3 records of the last 5/)
  })

  test('within 5 on steady calls of 20 users for 3 h: no anomaly', async () => {
    assert.deepEqual(await run(calls(Array.from({ length: 20 }, (_, i) => `u${i}`), 180, 1), {}, 5), [])
  })

  test('within below count is refused, naming the field', () => {
    const builder = new StreamsBuilder()
    assert.throws(() => outlierStreak(builder.stream('calls', { key: Serdes.string(), value: serde }), { ...options, within: 2 }), /'within' must be an integer >= count \(3\)/)
  })

  test('a newcomer\'s runaway is judged against its cohort', async () => {
    const rows = [...calls(['a', 'b', 'c'], 60, 3), ...[0, 1, 2].map((i) => ({ key: 'new', tokens: 15_000, at: T0 + (50 + i) * 60_000 + 500 }))].sort((x, y) => x.at - y.at)
    const out = await run(rows)
    assert.deepEqual(out.map((a) => a.affected_entity?.id), ['new'])
    assert.match(out[0]!.title ?? '', /chat's typical/)
  })

  test("a young key's runaway whose calls straddle the bound: the calls just under it are not learned, so it still fires", async () => {
    // The cohort: 5 users, 40 calls each at 800 x e^(+-0.5) (log mean ln 800, std 0.5: bound
    // 800 x e^1.5 = 3585). The newcomer: 6 calls of 800 (judged against the cohort), then a runaway
    // of one call at 5x (4000, above the bound) and four at 4.4x (3520, just under it), then 5x calls.
    // Learning the four would give the newcomer its 10 records with the runaway in them (bound
    // ~12,800): its 5x calls would no longer be outliers.
    const rows: Row[] = []
    let at = T0
    for (let i = 0; i < 40; i++) for (let u = 0; u < 5; u++) rows.push({ key: `c${u}`, tokens: Math.round(800 * Math.exp((i + u) % 2 === 0 ? 0.5 : -0.5)), at: (at += 1000) })
    for (const scale of [1, 1, 1, 1, 1, 1, 5, 4.4, 4.4, 4.4, 4.4, 5, 5, 5]) rows.push({ key: 'new', tokens: 800 * scale, at: (at += 60_000) })
    const out = await run(rows, {}, 5)
    assert.equal(out.length, 1)
    assert.equal(out[0]!.affected_entity?.id, 'new')
    // Outliers: the first 5x call (slid out of the last 5 by the fourth 4.4x call), then the 5x calls
    // 12, 13, 14: the third of them fires.
    assert.equal(out[0]!.timestamp, new Date(at).toISOString())
  })

  test('restart: resumed from its state on disk, the same anomalies as an uninterrupted run', async () => {
    const rows = calls(['a', 'b', 'c'], 120, 2, (user, i) => (user === 'b' && i >= 90 && i < 100 ? 15 : 1))
    const whole = await run(rows)
    const stateDir = mkdtempSync(join(tmpdir(), 'runaway-restart-'))
    try {
      const cut = rows.findIndex((r) => r.at >= T0 + 91 * 60_000)
      const before = await run(rows.slice(0, cut), { engine: engines.rocksdb(), stateDir })
      const after = await run(rows.slice(cut), { engine: engines.rocksdb(), stateDir })
      assert.equal(whole.length, 1)
      assert.deepEqual([...before, ...after], whole)
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
})
