import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConsecutiveThreshold, type StreakAnomaly, compare } from '../../../../operators/detectors/streak.js'

function feed(values: readonly number[], count = 3): StreakAnomaly[] {
  const d = new ConsecutiveThreshold({ comparison: '>', bound: 1.0, count })
  let state = d.initial()
  const out: StreakAnomaly[] = []
  values.forEach((v, i) => {
    const r = d.step(state, v, 1000 + i)
    state = JSON.parse(JSON.stringify(r.state)) as typeof state
    if (r.anomaly) out.push(r.anomaly)
  })
  return out
}

test('N-1 consecutive breaches: nothing', () => {
  assert.deepEqual(feed([2, 2, 0, 2, 2, 0]), [])
})

test('N consecutive breaches: one anomaly naming the streak start, end and values', () => {
  assert.deepEqual(feed([0, 2, 3, 4]), [{ start: 1001, end: 1003, values: [2, 3, 4], length: 3 }])
})

test('a longer streak still makes one anomaly', () => {
  assert.equal(feed([2, 2, 2, 2, 2, 2, 2, 2]).length, 1)
})

test('a record that breaks the streak re-arms it', () => {
  const out = feed([2, 2, 2, 2, 0, 5, 6, 7])
  assert.equal(out.length, 2)
  assert.deepEqual(out[1], { start: 1005, end: 1007, values: [5, 6, 7], length: 3 })
})

test('count 1 fires on every breach that follows a break', () => {
  assert.equal(feed([2, 0, 2, 2, 0, 2], 1).length, 3)
})

test('every comparison', () => {
  assert.deepEqual(
    (['>', '>=', '<', '<=', '=='] as const).map((c) => [0, 1, 2].map((v) => compare(v, c, 1))),
    [
      [false, false, true],
      [false, true, true],
      [true, false, false],
      [true, true, false],
      [false, true, false],
    ],
  )
})
