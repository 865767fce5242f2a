/** The rebalance bench's figures from a processing timeline: pauses, the group's rates, the new instance's start. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bucketCounts, longestGap, rebalanceFigures, secondRates, type Processed } from '../../../../bench/rebalance/rebalance-timeline.js'

/** `instance` processing one record every `everyMs` from `from` to `to`, except in the gaps. */
function steady(instance: string, from: number, to: number, everyMs: number, gaps: [number, number][] = []): Processed[] {
  const out: Processed[] = []
  for (let at = from; at < to; at += everyMs) if (!gaps.some(([f, t]) => at > f && at < t)) out.push({ instance, at })
  return out
}

test('longestGap counts the window edges as bounds', () => {
  assert.deepEqual(longestGap([10, 12, 30], 0, 40), { ms: 18, from: 12, to: 30 })
  assert.deepEqual(longestGap([5, 6], 0, 40), { ms: 34, from: 6, to: 40 })
  assert.deepEqual(longestGap([], 0, 40), { ms: 40, from: 0, to: 40 })
  assert.deepEqual(longestGap([1, 50, 60], 10, 55), { ms: 40, from: 10, to: 50 })
})

test('secondRates counts each whole second from the start', () => {
  assert.deepEqual(secondRates([0, 10, 999, 1000, 2500], 0, 3000), [3, 1, 1])
})

test('a join: each existing instance pauses from its last record before it learnt of the rebalance to its first after its assignment', () => {
  // 20 s of a and b at 100 records/s each; the join at 20 s; a learns at 25 s, b at 26 s; both are
  // assigned at 27 s and resume at 27.5 s; c, assigned at 27 s too, processes from 28 s; end at 40 s.
  const processed = [
    ...steady('a', 10_000, 40_000, 10, [[25_000, 27_500]]),
    ...steady('b', 10_000, 40_000, 10, [[26_000, 27_500]]),
    ...steady('c', 28_000, 40_000, 10),
  ]
  const f = rebalanceFigures(processed, {
    joinAt: 20_000,
    endAt: 40_000,
    existing: ['a', 'b'],
    newInstance: 'c',
    rebalanceStartAt: { a: 25_000, b: 26_000 },
    assignedAt: { a: 27_000, b: 27_000, c: 27_000 },
  })
  assert.deepEqual(
    f.pauses.map((p) => [p.instance, p.pauseMs, p.rebalanceToResumeMs, p.longestGapMs, p.baselineGapMs]),
    [
      ['a', 2_500, 2_500, 2_500, 10],
      ['b', 1_500, 1_500, 1_500, 10],
    ],
  )
  assert.equal(f.groupPauseMs, 3_000) // a learns at 25 s, c starts at 28 s
  assert.equal(f.joinToNewOutputMs, 8_000)
  assert.equal(f.rebalanceToNewOutputMs, 3_000)
  assert.equal(f.rate.before, 200)
  assert.equal(f.rate.dip, 1) // second 26..27: only b's record at 26 s, its last before the pause
  assert.equal(f.rate.after, 300)
  assert.equal(f.rate.catchUpPeak, 300)
  // 25..28 s: b alone for 1 s (100), then nobody until 27.5 s, then a and b for 0.5 s (100).
  assert.equal(Math.round(f.rate.during), Math.round(200 / 3))
})

test('an instance that never resumed is an error, not a zero', () => {
  assert.throws(
    () =>
      rebalanceFigures(steady('a', 0, 10_000, 10), {
        joinAt: 5_000,
        endAt: 10_000,
        existing: ['a'],
        newInstance: 'c',
        rebalanceStartAt: { a: 6_000 },
        assignedAt: { a: 7_000, c: 7_000 },
      }),
    /instance c processed nothing/,
  )
})

test('bucketCounts: one row per bucket, a column per instance', () => {
  const rows = bucketCounts(
    [
      { instance: 'a', at: 1_000 },
      { instance: 'b', at: 1_050 },
      { instance: 'b', at: 1_150 },
      { instance: 'x', at: 1_150 },
    ],
    ['a', 'b'],
    1_000,
    1_200,
    100,
  )
  assert.deepEqual(rows, [
    [0, 1, 1],
    [100, 0, 1],
  ])
})
