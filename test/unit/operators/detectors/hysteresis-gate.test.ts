import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AlarmGate } from '../../../../operators/detectors/alarm-gate.js'
import { HysteresisGate } from '../../../../operators/detectors/hysteresis-gate.js'

const gate = new HysteresisGate({ alarmAt: 0.5, rearmBelow: 0.3, calmRows: 10 })

function alarms(scores: readonly number[]): number[] {
  let s = gate.initial()
  const out: number[] = []
  scores.forEach((x, i) => {
    // Through JSON: the state must survive a store.
    const r = gate.offer(JSON.parse(JSON.stringify(s)) as typeof s, x)
    s = r.state
    if (r.passed) out.push(i)
  })
  return out
}

test('dense anomalies: every spike separated by a short calm raises its own alarm; a fixed hold-back drops most', () => {
  // 12 spikes, 25 rows apart.
  const scores = Array.from({ length: 300 }, (_, i) => (i % 25 === 0 ? 0.9 : 0.1))
  assert.equal(alarms(scores).length, 12)
  const hold = new AlarmGate(100)
  let hs = hold.initial()
  let held = 0
  scores.forEach((x, i) => {
    const r = hold.offer(hs, i, x >= 0.5)
    hs = r.state
    if (r.passed) held++
  })
  assert.equal(held, 3)
})

test('one long excursion raises one alarm, even when its score dips under the alarm level', () => {
  const scores = [0.1, 0.1, ...Array.from({ length: 200 }, (_, i) => (i % 7 === 3 ? 0.4 : 0.8)), ...Array.from({ length: 50 }, () => 0.1)]
  assert.deepEqual(alarms(scores), [2])
})

test('the gate reopens only after `calmRows` consecutive calm rows', () => {
  // After the alarm at 0: 9 calm rows, one at 0.35 (not calm), then 10 calm rows: the gate reopens at 20.
  const scores = [0.9, ...Array.from({ length: 9 }, () => 0.1), 0.35, ...Array.from({ length: 10 }, () => 0.1), 0.9, 0.9]
  assert.deepEqual(alarms(scores), [0, 21])
})

test('scores hovering between the two levels never re-arm', () => {
  assert.deepEqual(alarms(Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? 0.55 : 0.4))), [0])
})

test('rejects a re-arm level above the alarm level', () => {
  assert.throws(() => new HysteresisGate({ alarmAt: 0.5, rearmBelow: 0.6, calmRows: 1 }), /rearmBelow/)
})
