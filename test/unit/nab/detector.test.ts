import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ALARM_LEVEL, NAB_CONFIG, createNabScorer } from '../../../bench/nab/detector.js'
import { gaussian, mulberry32 } from '../detectors/prng.js'

function alarmsOf(values: readonly number[], probation: number): number[] {
  const scorer = createNabScorer(NAB_CONFIG, { probation })
  const out: number[] = []
  values.forEach((v, i) => {
    if (scorer.step(v) >= ALARM_LEVEL) out.push(i)
  })
  return out
}

test('dense anomalies: 30 spikes 120 rows apart are nearly all caught (a hold-back of 0.3 x probation would allow 16)', () => {
  const g = gaussian(mulberry32(21))
  const spikes = Array.from({ length: 30 }, (_, k) => 1000 + 120 * k)
  const values = Array.from({ length: 4700 }, (_, i) => 50 + g() + (spikes.includes(i) ? 40 : 0))
  const alarms = alarmsOf(values, 705)
  const caught = spikes.filter((s) => alarms.includes(s)).length
  // A false alarm of the distribution test within `calmRows` before a spike can shut the gate on it.
  assert.ok(caught >= 27, `caught ${caught} of 30; alarms at ${alarms.join(', ')}`)
  assert.ok(alarms.length - caught <= 6, `false alarms: ${alarms.filter((a) => !spikes.includes(a)).join(', ')}`)
})

test('a lasting level shift raises an alarm or two, then is learned', () => {
  const g = gaussian(mulberry32(22))
  const values = Array.from({ length: 5000 }, (_, i) => 50 + g() + (i >= 2500 ? 15 : 0))
  const alarms = alarmsOf(values, 750)
  assert.ok(alarms.length >= 1 && alarms.length <= 3, `alarms at ${alarms.join(', ')}`)
  assert.ok(alarms[0]! >= 2500 && alarms[0]! < 2510, `first alarm at ${alarms[0]}`)
})

test('gaussian noise raises few alarms (all from the distribution test, which sees a new histogram now and then)', () => {
  const g = gaussian(mulberry32(23))
  const alarms = alarmsOf(Array.from({ length: 5000 }, () => 50 + g()), 750)
  assert.ok(alarms.length <= 4, `alarms at ${alarms.join(', ')}`)
})
