import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { loadDetectorsConfig, DEFAULT_DETECTORS_PATH } from '../../../../../apps/sentinel/detectors-config.js'
import { APPLICATIONS, INCIDENT_KINDS, MIN_HOURS_WITH_INCIDENTS, TelemetryGenerator, diurnalFactor, generateTelemetry } from '../../../../../apps/sentinel/generator/index.js'
import { isResponseData, validateTelemetryEvent } from '../../../../../schemas/telemetry/index.js'

const HOURS = MIN_HOURS_WITH_INCIDENTS
const run = generateTelemetry({ hours: HOURS, seed: 42 })

describe('TelemetryGenerator', () => {
  test('every event passes the TelemetryEvent validator, in event-time order, inside the span', () => {
    const generator = new TelemetryGenerator({ hours: HOURS, seed: 42 })
    const invalid = run.events.map((e) => validateTelemetryEvent(e)).filter((r) => !r.ok)
    assert.deepEqual(invalid, [])
    const times = run.events.map((e) => Date.parse(e.timestamp))
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `event ${i} is out of order`)
    assert.ok(times[0]! >= generator.start && times[times.length - 1]! < generator.end)
    assert.ok(run.events.length > 10_000, `a few hours of traffic, got ${run.events.length} events`)
  })

  test('the same seed yields the same events and incidents; another seed other ones', () => {
    const again = generateTelemetry({ hours: HOURS, seed: 42 })
    assert.deepEqual(again.events.slice(0, 200), run.events.slice(0, 200))
    assert.equal(again.events.length, run.events.length)
    assert.deepEqual(again.incidents, run.incidents)
    const other = generateTelemetry({ hours: HOURS, seed: 43 })
    assert.notDeepEqual(other.events.slice(0, 50), run.events.slice(0, 50))
  })

  test('each call is a request then its outcome, linked by correlation_id, with user and session', () => {
    const requests = new Map<string, number>()
    let outcomes = 0
    for (const e of run.events) {
      assert.ok(e.correlation_id && e.metadata?.user_id && e.metadata.session_id && e.tenant_id)
      if (e.event_type === 'llm.request') requests.set(e.correlation_id, Date.parse(e.timestamp))
      else {
        outcomes += 1
        const at = requests.get(e.correlation_id)
        // A call whose request came in the last minutes may end after the span: only the request is kept.
        assert.ok(at !== undefined && at <= Date.parse(e.timestamp), `outcome ${e.event_id} without an earlier request`)
        assert.ok(isResponseData(e.data))
        assert.equal(e.event_type === 'llm.error', e.data.status !== 'success')
      }
    }
    assert.ok(outcomes >= requests.size * 0.98 && outcomes <= requests.size)
  })

  test('several applications, models, tenants; heavy and light users', () => {
    const apps = new Set(run.events.map((e) => e.application_id))
    assert.deepEqual([...apps].sort(), APPLICATIONS.map((a) => a.id).sort())
    const models = new Set(run.events.map((e) => ('model' in e.data ? e.data.model : undefined)))
    assert.ok(models.size >= 5)
    assert.ok(new Set(run.events.map((e) => e.tenant_id)).size >= 4)
    const perUser = new Map<string, number>()
    for (const e of run.events) if (e.event_type === 'llm.request' && e.application_id === 'support-chat') perUser.set(e.metadata!.user_id!, (perUser.get(e.metadata!.user_id!) ?? 0) + 1)
    const counts = [...perUser.values()].sort((a, b) => a - b)
    const median = counts[Math.floor(counts.length / 2)]!
    assert.ok(counts[counts.length - 1]! >= 8 * median, `the heaviest user (${counts[counts.length - 1]}) far above the median (${median})`)
  })

  test('models keep their own profiles: latency, cost per call', () => {
    const stats = new Map<string, { latency: number[]; cost: number[] }>()
    for (const e of run.events) {
      if (e.event_type !== 'llm.response' || !isResponseData(e.data) || !e.data.model) continue
      const s = stats.get(e.data.model) ?? { latency: [], cost: [] }
      s.latency.push(e.data.latency_ms)
      s.cost.push(e.data.cost ?? 0)
      stats.set(e.data.model, s)
    }
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    assert.ok(median(stats.get('claude-3-opus')!.latency) > 3 * median(stats.get('gpt-4o-mini')!.latency))
    assert.ok(median(stats.get('claude-3-opus')!.cost) > 50 * median(stats.get('gpt-4o-mini')!.cost))
  })

  test('the daily pattern: the afternoon is busier than the early morning', () => {
    assert.ok(diurnalFactor(Date.parse('2026-03-02T15:00:00Z')) > 3 * diurnalFactor(Date.parse('2026-03-02T04:00:00Z')))
    const first = run.events.filter((e) => e.timestamp < '2026-03-02T08:00').length
    const last = run.events.filter((e) => e.timestamp >= '2026-03-02T10:00').length
    assert.ok(last > 1.5 * first, `hour 10-11 (${last}) busier than 07-08 (${first})`)
  })

  test('five labelled incidents of the five kinds, after the warm-up, apart, with detectors of the default file', () => {
    const ids = new Set(loadDetectorsConfig(DEFAULT_DETECTORS_PATH).detectors.map((d) => d.id))
    const generator = new TelemetryGenerator({ hours: HOURS, seed: 42 })
    assert.deepEqual(run.incidents.map((i) => i.kind), [...INCIDENT_KINDS])
    let previousEnd = generator.start + 60 * 60_000
    for (const incident of run.incidents) {
      assert.ok(incident.start > previousEnd, `${incident.id} starts after the previous one (and the warm-up)`)
      assert.ok(incident.end > incident.start && incident.end < generator.end - 20 * 60_000)
      for (const d of incident.detectors) assert.ok(ids.has(d), `${incident.id} expects detector ${d}`)
      assert.ok(incident.affected.some((e) => e.type === incident.entity.type && e.id === incident.entity.id))
      assert.ok(incident.affected.length >= 3, `${incident.id} records the entities it touched`)
      previousEnd = incident.end
    }
  })

  test('incidents change the telemetry they claim to', () => {
    const [latency, tokens, cost, errors, jailbreak] = run.incidents
    const during = (i: { start: number; end: number }) => run.events.filter((e) => Date.parse(e.timestamp) >= i.start && Date.parse(e.timestamp) <= i.end)
    const sonnet = during(latency!).filter((e) => e.event_type === 'llm.response' && isResponseData(e.data) && e.data.model === 'claude-3-5-sonnet')
    assert.ok(sonnet.length > 5)
    const over1 = during(cost!).filter((e) => e.application_id === 'research-agent' && isResponseData(e.data) && (e.data.cost ?? 0) > 1)
    assert.ok(over1.length >= 20, `cost runaway: ${over1.length} calls over $1`)
    const chat = during(errors!).filter((e) => e.application_id === 'support-chat' && e.event_type !== 'llm.request')
    assert.ok(chat.filter((e) => e.event_type === 'llm.error').length > 0.35 * chat.length)
    const burst = run.events.filter((e) => e.metadata?.user_id === jailbreak!.entity.id && e.event_type === 'llm.request' && Date.parse(e.timestamp) >= jailbreak!.start)
    assert.ok(burst.length >= 60)
    const rag = during(tokens!).filter((e) => e.application_id === 'search-rag' && e.event_type === 'llm.request')
    assert.ok(rag.length > 10)
  })

  test('too short a span for the incidents is refused, naming the option', () => {
    assert.throws(() => new TelemetryGenerator({ hours: 2 }), /'hours' must be at least \d+ with incidents/)
    assert.equal(generateTelemetry({ hours: 0.5, incidents: false }).incidents.length, 0)
  })

  test('events() is one pass', () => {
    const generator = new TelemetryGenerator({ hours: 0.1, incidents: false })
    assert.ok([...generator.events()].length > 0)
    assert.throws(() => [...generator.events()], /iterated once/)
  })
})
