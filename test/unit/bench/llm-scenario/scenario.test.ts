import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isTelemetryEvent } from '../../../../schemas/telemetry/index.js'
import { INCIDENT_KINDS } from '../../../../bench/llm-scenario/incidents.js'
import { RUN_MS, buildScenario } from '../../../../bench/llm-scenario/scenario.js'
import { scoreRun } from '../../../../bench/llm-scenario/score.js'
import type { AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'

test('a seed names one scenario; another seed another', () => {
  const a = buildScenario(7)
  const b = buildScenario(7)
  assert.deepEqual(a.events.slice(0, 50), b.events.slice(0, 50))
  assert.deepEqual(a.incidents.map((i) => [i.kind, i.entity, i.start]), b.incidents.map((i) => [i.kind, i.entity, i.start]))
  assert.notDeepEqual(buildScenario(8).incidents.map((i) => i.start), a.incidents.map((i) => i.start))
})

test('events are valid seed TelemetryEvents, time-ordered, responses carry no model', () => {
  const s = buildScenario(3)
  let last = 0
  const requests = new Set(s.events.filter((e) => e.event_type === 'llm.request').map((e) => e.correlation_id))
  let orphans = 0
  for (const e of s.events) {
    assert.ok(isTelemetryEvent(e), JSON.stringify(e))
    const t = Date.parse(e.timestamp)
    assert.ok(t >= last && t >= s.start && t < s.start + RUN_MS)
    last = t
    if (e.event_type !== 'llm.request') {
      assert.ok(!('model' in e.data) && !('prompt_tokens' in e.data))
      if (!requests.has(e.correlation_id)) orphans++
    }
  }
  assert.equal(orphans, 0)
  const failed = s.events.filter((e) => e.event_type === 'llm.error').length / (s.events.length / 2)
  assert.ok(failed > 0.005 && failed < 0.03, `failure share ${failed}`)
})

test('six incidents, one per kind, inside the run after the warm-up', () => {
  for (const seed of [1, 2, 3, 4]) {
    const s = buildScenario(seed)
    assert.deepEqual(s.incidents.map((i) => i.kind).sort(), [...INCIDENT_KINDS].sort())
    for (const i of s.incidents) assert.ok(i.start >= s.start + 40 * 60_000 && i.end <= s.start + RUN_MS, `${i.kind} at ${i.start - s.start}`)
    const users = s.incidents.filter((i) => i.entity.type === 'user').map((i) => i.entity.id)
    assert.equal(new Set(users).size, 2)
  }
})

test('scoring: a detection names the entity in the span; touched entities are consequences; the rest false alarms', () => {
  const s = buildScenario(5)
  const spike = s.incidents.find((i) => i.kind === 'latency-spike')
  assert.ok(spike)
  const anomaly = (entity: { type: 'model' | 'user' | 'application'; id: string }, t: number, id: string): AnomalyEvent =>
    ({ anomaly_id: id, timestamp: new Date(t).toISOString(), detector_id: 'd', affected_entity: { ...entity, name: null }, application_id: null }) as unknown as AnomalyEvent
  const hit = anomaly(spike.entity, spike.start + 90_000, 'a1')
  const early = anomaly(spike.entity, s.start + 10 * 60_000, 'a2')
  const score = scoreRun(s.incidents, [hit, early], [], s.events)
  const result = score.incidents.find((r) => r.incident === spike)
  assert.equal(result?.found, true)
  assert.equal(result?.ttdS, 90)
  assert.deepEqual(score.falseAlarms.map((a) => a.anomaly_id), ['a2'])
})
