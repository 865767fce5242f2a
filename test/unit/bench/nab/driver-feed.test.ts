import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import type { NabSeries } from '../../../../bench/nab/corpus.js'
import { NAB_CONFIG, createNabScorerCore } from '../../../../bench/nab/detector.js'
import { DriverFeed, ROWS_TOPIC, SCORES_TOPIC, nabScoringTopology } from '../../../../bench/nab/driver-feed.js'
import { ZScoreOperatorFeed } from '../../../../bench/nab/operator-feed.js'
import { DirectCoreFeed } from '../../../../bench/nab/row-feed.js'
import { nabScorerStateSerde } from '../../../../bench/nab/scorer-state-serde.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { gaussian, mulberry32 } from '../../operators/detectors/prng.js'

/** 3000 rows, 5 minutes apart: noise, a spike, a level shift and a flat stretch (every component fires). */
function series(seed: number): NabSeries {
  const g = gaussian(mulberry32(seed))
  const values = Array.from({ length: 3000 }, (_, i) => (i === 1200 ? 400 : i >= 2000 && i < 2300 ? 80 + g() : i >= 2600 && i < 2700 ? 50 : 50 + 3 * g()))
  const times = values.map((_, i) => Date.UTC(2024, 0, 1) + i * 300_000)
  return { path: `synthetic/series-${seed}.csv`, timestamps: times.map((t) => new Date(t).toISOString()), times, values }
}

describe('DriverFeed (NAB through the TopologyTestDriver)', () => {
  test('scores every row exactly as the direct feed, across batch boundaries', async () => {
    for (const seed of [1, 2]) {
      const s = series(seed)
      const info = { probation: 450 }
      const direct = await new DirectCoreFeed(NAB_CONFIG).scoreSeries(s, info)
      const driven = await new DriverFeed(NAB_CONFIG, 333).scoreSeries(s, info)
      assert.deepEqual(Array.from(driven), Array.from(direct))
      assert.ok(direct.some((x) => x >= 0.5), 'the series raises alarms, so equality is not trivial')
    }
  })

  test('restart: a run stopped mid-series and resumed from the state on disk scores every row as an uninterrupted one', async () => {
    const s = series(3)
    const info = { probation: 450 }
    const whole = await new DirectCoreFeed(NAB_CONFIG).scoreSeries(s, info)
    const rows = s.values.map((value, i) => ({ key: s.path, value, timestamp: s.times[i]! }))
    // Cut after the spike (row 1200) and before the shift (2000-2300) and the flat stretch (2600-2700).
    const cut = 1900
    const stateDir = mkdtempSync(join(tmpdir(), 'nab-restart-'))
    const scoresOf = async (part: typeof rows, dir?: string): Promise<number[]> => {
      const driver = await TopologyTestDriver.create(nabScoringTopology(NAB_CONFIG, info), { applicationId: 'nab-restart', engine: engines.rocksdb(), ...(dir ? { stateDir: dir } : {}) })
      try {
        const input = driver.createInputTopic(ROWS_TOPIC, Serdes.string(), Serdes.double())
        const output = driver.createOutputTopic(SCORES_TOPIC, Serdes.string(), Serdes.double())
        for (let i = 0; i < part.length; i += 500) await input.pipeRecords(part.slice(i, i + 500))
        return output.readValues()
      } finally {
        await driver.close()
      }
    }
    try {
      const before = await scoresOf(rows.slice(0, cut), stateDir)
      const after = await scoresOf(rows.slice(cut), stateDir)
      assert.deepEqual([...before, ...after], Array.from(whole))
      assert.ok(after.some((x) => x >= 0.5), 'the shift alarms after the restart, so equality is not trivial')
      // Without the first part's state the scorer warms up again and judges nothing at first.
      const amnesiac = await scoresOf(rows.slice(cut))
      assert.notDeepEqual(amnesiac, after)
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('the scorer state serde round-trips exactly (rings as float64, the rest as JSON)', () => {
    const core = createNabScorerCore({ ...NAB_CONFIG, baselineRows: 50 }, { probation: 40 })
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 0, maxLength: 120 }), (values) => {
        let state = core.initial()
        // + 0 turns -0 into 0, which JSON (the reference here) cannot tell apart either.
        values.forEach((v, i) => {
          state = core.step(state, v + 0, i * 300_000).state
        })
        const copy = nabScorerStateSerde.deserialize(nabScorerStateSerde.serialize(state))
        assert.deepEqual(copy, JSON.parse(JSON.stringify(state)))
      }),
      { numRuns: 40 },
    )
  })
})

describe('ZScoreOperatorFeed (NAB through zScoreWindows)', () => {
  test('the spike row, and only rows the operator flags, score >= 0.5; the rest 0', async () => {
    const s = series(3)
    const scores = await new ZScoreOperatorFeed({ baselineWindows: 500, threshold: 10 }).scoreSeries(s, { probation: 450 })
    assert.equal(scores.length, s.values.length)
    assert.ok(scores[1200]! > 0.9, `spike row score ${scores[1200]}`)
    for (const x of scores) assert.ok(x === 0 || x >= 0.5)
  })
})
