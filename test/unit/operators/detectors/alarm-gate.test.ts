import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AlarmGate } from '../../../../operators/detectors/alarm-gate.js'

test('after an alarm, alarms are held back for `hold` positions, then pass again', () => {
  const gate = new AlarmGate(5)
  let state = gate.initial()
  const passed: number[] = []
  for (const at of [0, 1, 2, 4, 5, 6, 9, 11]) {
    const r = gate.offer(JSON.parse(JSON.stringify(state)) as typeof state, at, true)
    state = r.state
    if (r.passed) passed.push(at)
  }
  assert.deepEqual(passed, [0, 5, 11])
})

test('no alarm never closes the gate', () => {
  const gate = new AlarmGate(5)
  const r = gate.offer(gate.initial(), 3, false)
  assert.equal(r.passed, false)
  assert.equal(gate.offer(r.state, 4, true).passed, true)
})
