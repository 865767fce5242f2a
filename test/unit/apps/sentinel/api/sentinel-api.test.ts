/**
 * Unit tests of the Sentinel API (fastify `inject`, no network): every endpoint, with its bad
 * inputs. The runtime is a DriverRuntime: stores of a TopologyTestDriver running the test detectors
 * and the anomaly view (fixtures.ts). The multi-instance test on Kafka is an integration test.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { pino } from 'pino'
import type { AnomalyRecord } from '../../../../../apps/sentinel/anomaly-view.js'
import { ANOMALY_VIEW_STORE } from '../../../../../apps/sentinel/anomaly-view.js'
import type { AnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../../schemas/index.js'
import { API_KEY, type Instance, MINUTE, OTHER_KEY, T0, anomaly, feedLatencyWindows, response, startInstance, stopInstance } from './fixtures.js'

const json = (body: string) => JSON.parse(body) as Record<string, unknown>

describe('POST /api/v1/telemetry/events', () => {
  let it: Instance
  before(async () => {
    it = await startInstance({ bodyLimit: 8 * 1024, maxBatchEvents: 20 })
  })
  after(() => stopInstance(it))

  test('valid events are sent in one batch keyed by application_id; invalid ones are reported per event (202)', async () => {
    const good = [response('chatbot', T0, 900), response('billing', T0 + 1, 700)]
    const unknownField = { ...response('chatbot', T0 + 2, 800), colour: 'red' }
    const badLatency = response('chatbot', T0 + 3, -5)
    const res = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: [good[0], unknownField, 'not an event', badLatency, good[1]] })
    assert.equal(res.statusCode, 202)
    const body = json(res.body)
    assert.equal(body.accepted, 2)
    assert.equal(body.rejected, 3)
    const errors = body.errors as { index: number; event_id?: string; issues: { path: string; message: string }[] }[]
    assert.deepEqual(errors.map((e) => e.index), [1, 2, 3])
    assert.equal(errors[0]?.event_id, unknownField.event_id)
    assert.deepEqual(errors[0]?.issues, [{ path: 'colour', message: 'is not a known field (remove it)' }])
    assert.equal(errors[1]?.event_id, undefined)
    assert.deepEqual(errors[2]?.issues, [{ path: 'data.latency_ms', message: 'must be a number >= 0' }])
    const sent = it.runtime.sent.get('llm-telemetry') ?? []
    assert.deepEqual(sent.map((r) => r.key), ['chatbot', 'billing'])
    assert.deepEqual(JSON.parse(String(sent[0]?.value)), good[0])
    const metrics = await it.api.inject({ method: 'GET', url: '/metrics' })
    assert.match(metrics.body, /sentinel_telemetry_events_total\{application="chatbot",type="response"\} 1/)
    assert.match(metrics.body, /sentinel_ingestion_throughput\{protocol="http"\} 2/)
  })

  test('the { events: [...] } form is accepted too', async () => {
    const res = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: { events: [response('chatbot', T0 + 10, 100)] } })
    assert.equal(res.statusCode, 202)
    assert.equal(json(res.body).accepted, 1)
  })

  test('a batch with no valid event is 400 with the same body shape', async () => {
    const res = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: [{ event_id: 'x' }] })
    assert.equal(res.statusCode, 400)
    const body = json(res.body)
    assert.equal(body.error, 'invalid_events')
    assert.equal(body.accepted, 0)
    assert.equal(body.rejected, 1)
    const issues = (body.errors as { issues: { path: string }[] }[])[0]?.issues.map((i) => i.path)
    assert.ok(issues?.includes('event_id') && issues.includes('timestamp'), JSON.stringify(issues))
  })

  test('malformed JSON is 400 naming the problem', async () => {
    const res = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', headers: { 'content-type': 'application/json' }, payload: '[{"event_id": "x",}]' })
    assert.equal(res.statusCode, 400)
    const body = json(res.body)
    assert.equal(body.error, 'malformed_json')
    assert.match(String(body.message), /^the request body is not valid JSON: .*position \d+/)
  })

  test('an empty body, an empty batch, a non-array body and another content type are refused clearly', async () => {
    const empty = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', headers: { 'content-type': 'application/json' }, payload: '' })
    assert.equal(empty.statusCode, 400)
    assert.equal(json(empty.body).error, 'malformed_json')
    const none = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: [] })
    assert.equal(none.statusCode, 400)
    assert.equal(json(none.body).error, 'bad_request')
    const object = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: { event: {} } })
    assert.equal(object.statusCode, 400)
    const text = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', headers: { 'content-type': 'text/csv' }, payload: 'a,b' })
    assert.equal(text.statusCode, 415)
    assert.equal(json(text.body).error, 'unsupported_media_type')
  })

  test('a body over bodyLimit is 413, and so is a batch over maxBatchEvents', async () => {
    const big = Array.from({ length: 40 }, (_, i) => response('chatbot', T0 + i, 100))
    const res = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: big })
    assert.equal(res.statusCode, 413)
    assert.equal(json(res.body).error, 'payload_too_large')
    assert.match(String(json(res.body).message), /8192 bytes/)
    const many = Array.from({ length: 21 }, () => ({}))
    const tooMany = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: many })
    assert.equal(tooMany.statusCode, 413)
    assert.match(String(json(tooMany.body).message), /at most 20/)
  })

  test('when the topic cannot be written: 503, nothing counted', async () => {
    it.runtime.failSends = new Error('broker down')
    try {
      const res = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: [response('chatbot', T0, 1)] })
      assert.equal(res.statusCode, 503)
      assert.equal(res.headers['retry-after'], '5')
      assert.match(String(json(res.body).message), /retry the batch/)
      // The cause is logged, not sent: a broker's error names internal addresses.
      assert.doesNotMatch(res.body, /broker down/)
    } finally {
      it.runtime.failSends = null
    }
  })
})

describe('anomalies: list, get, acknowledge, feedback', () => {
  let it: Instance
  before(async () => {
    it = await startInstance()
    const events: [string, AnomalyEvent][] = [
      ['chatbot', anomaly('a-1', T0, { severity: 'warning' })],
      ['chatbot', anomaly('a-2', T0 + MINUTE, { severity: 'critical' })],
      ['billing', anomaly('a-3', T0 + 2 * MINUTE, { application_id: 'billing', detector_id: 'cost-rule', severity: 'critical' })],
      ['chatbot', anomaly('a-4', T0 + 3 * MINUTE, { severity: 'info' })],
      // Same time as a-4: the id breaks the tie.
      ['chatbot', anomaly('a-5', T0 + 3 * MINUTE, { severity: 'warning' })],
    ]
    for (const [key, event] of events) await it.anomalies.pipe(key, event, { timestamp: Date.parse(event.timestamp) })
  })
  after(() => stopInstance(it))

  const ids = (body: string) => (json(body).items as { anomaly: { anomaly_id: string } }[]).map((i) => i.anomaly.anomaly_id)

  test('newest first, filtered, paginated with an opaque cursor', async () => {
    const all = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies' })
    assert.equal(all.statusCode, 200)
    assert.deepEqual(ids(all.body), ['a-5', 'a-4', 'a-3', 'a-2', 'a-1'])
    assert.equal(json(all.body).partial, false)
    assert.equal(json(all.body).next_cursor, null)

    const pages: string[][] = []
    let cursor: string | null = null
    do {
      const query: Record<string, string> = cursor === null ? { limit: '2' } : { limit: '2', cursor }
      const res = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies', query })
      assert.equal(res.statusCode, 200)
      pages.push(ids(res.body))
      cursor = json(res.body).next_cursor as string | null
    } while (cursor !== null)
    assert.deepEqual(pages, [['a-5', 'a-4'], ['a-3', 'a-2'], ['a-1']])

    const critical = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies?severity=critical' })
    assert.deepEqual(ids(critical.body), ['a-3', 'a-2'])
    const chatbotRange = await it.api.inject({ method: 'GET', url: `/api/v1/anomalies?application_id=chatbot&from=${new Date(T0 + MINUTE).toISOString()}&to=${new Date(T0 + 3 * MINUTE).toISOString()}` })
    assert.deepEqual(ids(chatbotRange.body), ['a-2'])
    const byDetector = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies?detector_id=cost-rule' })
    assert.deepEqual(ids(byDetector.body), ['a-3'])
  })

  test('bad query parameters are 400 naming the parameter', async () => {
    for (const [query, pattern] of [
      ['severity=bad', /severity/],
      ['limit=0', /limit/],
      ['limit=many', /limit/],
      ['from=yesterday', /from/],
      ['colour=red', /colour|additional/],
      ['cursor=not-a-cursor', /cursor/],
      [`from=${new Date(T0 + MINUTE).toISOString()}&to=${new Date(T0).toISOString()}`, /before 'to'/],
    ] as const) {
      const res = await it.api.inject({ method: 'GET', url: `/api/v1/anomalies?${query}` })
      assert.equal(res.statusCode, 400, query)
      assert.match(res.body, pattern, query)
      assert.ok(json(res.body).error && json(res.body).message, 'errors are { error, message }')
    }
  })

  test('one anomaly by id; 404 when unknown; 503 with Retry-After while rebalancing or restoring', async () => {
    const res = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies/a-3' })
    assert.equal(res.statusCode, 200)
    const body = json(res.body)
    assert.equal((body.anomaly as AnomalyEvent).detector_id, 'cost-rule')
    assert.equal(body.status, 'active')
    assert.deepEqual(body.feedback, [])
    const missing = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies/nope' })
    assert.equal(missing.statusCode, 404)
    assert.equal(json(missing.body).error, 'not_found')

    it.runtime.route = () => null
    try {
      const rebalancing = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies/a-3' })
      assert.equal(rebalancing.statusCode, 503)
      assert.equal(rebalancing.headers['retry-after'], '5')
      assert.match(String(json(rebalancing.body).message), /rebalancing/)
    } finally {
      it.runtime.route = () => 'local'
    }
    it.runtime.restoring.add(ANOMALY_VIEW_STORE)
    try {
      const restoring = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies/a-3' })
      assert.equal(restoring.statusCode, 503)
      assert.match(String(json(restoring.body).message), /restoring/)
      const list = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies' })
      assert.equal(list.statusCode, 503, 'no instance could answer')
    } finally {
      it.runtime.restoring.delete(ANOMALY_VIEW_STORE)
    }
  })

  test('acknowledge: 202, written keyed by id with the anomaly timestamp, and shown by the view; 404 for unknown ids; bad bodies 400', async () => {
    const res = await it.api.inject({ method: 'POST', url: '/api/v1/anomalies/a-2/acknowledge', payload: { by: 'alice', note: 'on it' } })
    assert.equal(res.statusCode, 202)
    assert.equal(json(res.body).status, 'acknowledged')
    const sent = it.runtime.sent.get('anomaly-acks')?.at(-1)
    assert.equal(sent?.key, 'a-2')
    assert.equal(sent?.timestamp, T0 + MINUTE)
    const shown = json((await it.api.inject({ method: 'GET', url: '/api/v1/anomalies/a-2' })).body)
    assert.equal(shown.status, 'acknowledged')
    assert.equal(shown.acknowledged_by, 'alice')
    assert.equal(shown.acknowledgement_note, 'on it')
    const listed = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies?status=acknowledged' })
    assert.deepEqual(ids(listed.body), ['a-2'])

    assert.equal((await it.api.inject({ method: 'POST', url: '/api/v1/anomalies/nope/acknowledge', payload: { by: 'alice' } })).statusCode, 404)
    const noBy = await it.api.inject({ method: 'POST', url: '/api/v1/anomalies/a-1/acknowledge', payload: { note: 'x' } })
    assert.equal(noBy.statusCode, 400)
    assert.match(noBy.body, /by/)
    const extra = await it.api.inject({ method: 'POST', url: '/api/v1/anomalies/a-1/acknowledge', payload: { by: 'alice', urgent: true } })
    assert.equal(extra.statusCode, 400, 'unknown fields are rejected, not dropped')
    assert.match(extra.body, /additional/)
  })

  test('feedback: 202, kept on the feedback topic and shown with the anomaly; unknown anomaly 404; bad label 400', async () => {
    const res = await it.api.inject({ method: 'POST', url: '/api/v1/feedback', payload: { anomaly_id: 'a-3', label: 'false_positive', comment: 'batch job', by: 'bob' } })
    assert.equal(res.statusCode, 202)
    assert.equal(json(res.body).label, 'false_positive')
    assert.equal(it.runtime.sent.get('anomaly-feedback')?.at(-1)?.key, 'a-3')
    const shown = json((await it.api.inject({ method: 'GET', url: '/api/v1/anomalies/a-3' })).body)
    assert.deepEqual((shown.feedback as { label: string; by: string }[]).map((f) => [f.label, f.by]), [['false_positive', 'bob']])
    assert.equal((await it.api.inject({ method: 'POST', url: '/api/v1/feedback', payload: { anomaly_id: 'nope', label: 'true_positive' } })).statusCode, 404)
    const bad = await it.api.inject({ method: 'POST', url: '/api/v1/feedback', payload: { anomaly_id: 'a-3', label: 'maybe' } })
    assert.equal(bad.statusCode, 400)
    assert.match(bad.body, /label/)
  })

  test('an entry holding only an early acknowledgement is not listed and reads as unknown', async () => {
    await it.runtime.send('anomaly-acks', [{ key: 'ghost', value: JSON.stringify({ type: 'acknowledge', anomaly_id: 'ghost', by: 'x', note: null, at: new Date(T0).toISOString() }), timestamp: T0 }])
    const entries = await it.driver.readKeyValueStore<string, AnomalyRecord>(ANOMALY_VIEW_STORE)
    assert.ok(entries.some(([id]) => id === 'ghost'))
    assert.equal((await it.api.inject({ method: 'GET', url: '/api/v1/anomalies/ghost' })).statusCode, 404)
    assert.ok(!ids((await it.api.inject({ method: 'GET', url: '/api/v1/anomalies' })).body).includes('ghost'))
  })
})

describe('detectors and /detect', () => {
  let it: Instance
  // Mean latency per minute: a steady baseline around 1000 ms.
  const baseline = [1000, 1010, 990, 1005, 995]
  before(async () => {
    it = await startInstance()
    await feedLatencyWindows(it, 'chatbot', baseline)
  })
  after(() => stopInstance(it))

  const detect = (payload: object) => it.api.inject({ method: 'POST', url: '/api/v1/detect', payload })

  test('GET /detectors lists the loaded detectors with type, strategy, metric, window, threshold, groupBy, enabled', async () => {
    const res = await it.api.inject({ method: 'GET', url: '/api/v1/detectors' })
    assert.equal(res.statusCode, 200)
    const list = json(res.body).detectors as Record<string, unknown>[]
    assert.deepEqual(list.map((d) => d.id), ['latency-z', 'latency-ewma', 'latency-p95', 'cost-rule', 'retired'])
    const z = list[0]!
    assert.deepEqual([z.type, z.strategy, z.metric, z.threshold, z.groupBy, z.enabled], ['statistical', 'zscore', 'latency_ms', 3, 'application', true])
    assert.deepEqual(z.window, { kind: 'tumbling', size_ms: 60_000, grace_ms: 0, aggregate: 'mean' })
    assert.equal((z.parameters as Record<string, unknown>).baselineWindows, 10)
    assert.equal(list[3]?.window, null)
    assert.equal(list[4]?.enabled, false)
  })

  test('zscore: a value far above the baseline is anomalous, a usual one is not; the verdict is what the operator then concludes', async () => {
    const spike = await detect({ detector_id: 'latency-z', key: 'chatbot', value: 2000, timestamp: new Date(T0).toISOString() })
    assert.equal(spike.statusCode, 200)
    const verdict = json(spike.body)
    assert.equal(verdict.ready, true)
    assert.equal(verdict.anomalous, true)
    assert.equal(verdict.threshold, 3)
    assert.ok((verdict.severity as string) === 'critical', String(verdict.severity))
    const base = verdict.baseline as { mean: number; std: number; n: number }
    // The last window is judged once the next record closes it; until then the slot holds the first four.
    assert.ok(base.n >= 4 && Math.abs(base.mean - 1000) < 10, JSON.stringify(base))
    assert.equal(verdict.timestamp, new Date(T0).toISOString())
    const usual = json((await detect({ detector_id: 'latency-z', key: 'chatbot', value: 1002 })).body)
    assert.equal(usual.anomalous, false)
    assert.equal(usual.severity, null)

    // Nothing was stored: asking again gives the same answer.
    assert.deepEqual(json((await detect({ detector_id: 'latency-z', key: 'chatbot', value: 2000, timestamp: new Date(T0).toISOString() })).body), verdict)

    // The operator, given a window with that mean, says the same.
    const anomalies = it.driver.createOutputTopic('anomalies', Serdes.string(), Serdes.avro<AnomalyEvent>((await import('../../../../../schemas/anomaly/anomaly-event.js')).anomalyEventSchema))
    anomalies.readValues()
    // feedLatencyWindows left window n open with one event; this closes it and opens window n + 1.
    const n = baseline.length
    await it.telemetry.pipe('chatbot', response('chatbot', T0 + (n + 1) * MINUTE + 1000, 2000))
    const predicted = json((await detect({ detector_id: 'latency-z', key: 'chatbot', value: 2000 })).body)
    assert.equal(predicted.anomalous, true)
    await it.telemetry.pipe('chatbot', response('chatbot', T0 + (n + 2) * MINUTE + 1000, 1000))
    const emitted = anomalies.readValues().filter((a) => a.detector_id === 'latency-z')
    assert.equal(emitted.length, 1)
    assert.ok(Math.abs((emitted[0]?.metrics?.deviation ?? 0) - (predicted.deviation as number)) < 1e-9, `${emitted[0]?.metrics?.deviation} vs ${predicted.deviation}`)
    assert.equal(emitted[0]?.score, predicted.score)
  })

  test('ewma and percentile detectors are scored too', async () => {
    const ewma = json((await detect({ detector_id: 'latency-ewma', key: 'chatbot', value: 3000 })).body)
    assert.equal(ewma.ready, true)
    assert.equal(ewma.anomalous, true)
    assert.ok((ewma.deviation as number) > 0.5)
    const p95 = json((await detect({ detector_id: 'latency-p95', key: 'chatbot', value: 6000 })).body)
    assert.equal(p95.anomalous, true)
    assert.equal(p95.threshold, 5000)
    const fine = json((await detect({ detector_id: 'latency-p95', key: 'chatbot', value: 900 })).body)
    assert.equal(fine.anomalous, false)
  })

  test('no baseline yet, or too few windows: 200 with ready false and the reason', async () => {
    const unknown = json((await detect({ detector_id: 'latency-z', key: 'never-seen', value: 5 })).body)
    assert.equal(unknown.ready, false)
    assert.equal(unknown.anomalous, false)
    assert.equal(unknown.baseline, null)
    assert.match(String(unknown.reason), /no baseline yet for key 'never-seen'/)
    // Later than chatbot's records: stream time is per task, earlier windows would be late.
    await feedLatencyWindows(it, 'fresh-app', [500], T0 + 60 * MINUTE)
    const warming = json((await detect({ detector_id: 'latency-z', key: 'fresh-app', value: 5000 })).body)
    assert.equal(warming.ready, false)
    assert.match(String(warming.reason), /judges from 3/)
  })

  test('unknown detector 404, disabled 409, strategy without a baseline 422, bad bodies 400', async () => {
    const unknown = await detect({ detector_id: 'nope', key: 'k', value: 1 })
    assert.equal(unknown.statusCode, 404)
    assert.match(unknown.body, /no detector 'nope'/)
    assert.equal((await detect({ detector_id: 'retired', key: 'k', value: 1 })).statusCode, 409)
    const rule = await detect({ detector_id: 'cost-rule', key: 'k', value: 1 })
    assert.equal(rule.statusCode, 422)
    assert.match(rule.body, /threshold/)
    assert.equal((await detect({ detector_id: 'latency-z', key: 'chatbot', value: '2000' })).statusCode, 400, 'no coercion of body values')
    assert.equal((await detect({ detector_id: 'latency-z', key: 'chatbot' })).statusCode, 400)
    assert.equal((await detect({ detector_id: 'latency-z', key: 'chatbot', value: 1, extra: 1 })).statusCode, 400)
  })

  test("seed 002's body {metrics, context}: every detector of the metric and key judges; {is_anomaly, score, explanation, results}", async () => {
    const spike = await detect({ metrics: { latency_ms: 2000 }, context: { application_id: 'chatbot' } })
    assert.equal(spike.statusCode, 200)
    const body = json(spike.body) as { is_anomaly: boolean; score: number; explanation: string; results: { detector_id: string; anomalous: boolean; score: number }[] }
    assert.deepEqual(body.results.map((r) => r.detector_id).sort(), ['latency-ewma', 'latency-p95', 'latency-z'])
    assert.equal(body.is_anomaly, true)
    assert.equal(body.score, Math.max(...body.results.map((r) => r.score)))
    assert.match(body.explanation, /latency-z: chatbot 2000 against baseline mean 1002\.03 \(deviation 100\.27, threshold 3\)/)
    const one = json((await detect({ detector_id: 'latency-z', key: 'chatbot', value: 2000 })).body)
    assert.deepEqual(body.results.find((r) => r.detector_id === 'latency-z'), one, 'the same verdict as the one-detector body')

    const usual = json((await detect({ metrics: { latency_ms: 1001 }, context: { application_id: 'chatbot', detector_id: 'latency-z' } })).body)
    assert.equal(usual.is_anomaly, false)
    assert.match(String(usual.explanation), /within the baselines of latency-z/)
    const nothing = await detect({ metrics: { latency_ms: 1001 }, context: { model: 'gpt-4' } })
    assert.equal(nothing.statusCode, 422, 'no detector groups latency by model here')
    assert.match(nothing.body, /latency_ms by application/)
    assert.equal((await detect({ metrics: {}, context: { application_id: 'chatbot' } })).statusCode, 400)
    assert.equal((await detect({ metrics: { latency_ms: 'slow' }, context: { application_id: 'chatbot' } })).statusCode, 400)
  })
})

describe('health, readiness, metrics, OpenAPI', () => {
  let it: Instance
  before(async () => {
    it = await startInstance({ apiKeys: [API_KEY], version: '9.9.9', logger: pino({ level: 'silent' }) })
  })
  after(() => stopInstance(it))

  test('/health is 200 with version and uptime; /ready is 200 once running and through a rebalance, 503 while shutting down or starting', async () => {
    const health = await it.api.inject({ method: 'GET', url: '/health' })
    assert.equal(health.statusCode, 200)
    assert.equal(json(health.body).status, 'healthy')
    assert.equal(json(health.body).version, '9.9.9')
    assert.equal(typeof json(health.body).uptime_seconds, 'number')
    const ready = async () => await it.api.inject({ method: 'GET', url: '/ready' })
    assert.equal((await ready()).statusCode, 200)
    try {
      it.runtime.state = 'rebalancing'
      const rebalancing = await ready()
      assert.equal(rebalancing.statusCode, 200, 'a rebalance after running keeps the instance ready')
      assert.equal(json(rebalancing.body).state, 'rebalancing')
      it.runtime.state = 'pending-shutdown'
      const stopping = await ready()
      assert.equal(stopping.statusCode, 503)
      assert.equal(json(stopping.body).error, 'not_ready')
      assert.deepEqual(json(stopping.body).details, { state: 'pending-shutdown' })
      it.runtime.state = 'rebalancing'
      assert.equal((await ready()).statusCode, 503, 'starting again: not ready until it has run')
      assert.equal((await it.api.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'liveness does not depend on the runtime')
    } finally {
      it.runtime.state = 'running'
    }
    assert.equal((await ready()).statusCode, 200)
  })

  test('/metrics is Prometheus text with the request duration histogram by route pattern', async () => {
    await it.api.inject({ method: 'GET', url: '/health' })
    const res = await it.api.inject({ method: 'GET', url: '/metrics' })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /text\/plain/)
    assert.match(res.body, /sentinel_http_request_duration_seconds_bucket\{le="[0-9.]+",method="GET",route="\/health",status_code="200"\}/)
  })

  test('the OpenAPI document covers every public route with its schemas', async () => {
    const res = await it.api.inject({ method: 'GET', url: '/openapi.json' })
    assert.equal(res.statusCode, 200, 'open without a key')
    const doc = json(res.body) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; parameters?: unknown[]; responses: Record<string, unknown> }>>; components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> } }
    assert.equal(doc.openapi, '3.1.0')
    const expected: [string, string][] = [
      ['/api/v1/telemetry/events', 'post'],
      ['/api/v1/anomalies', 'get'],
      ['/api/v1/anomalies/{id}', 'get'],
      ['/api/v1/anomalies/{id}/acknowledge', 'post'],
      ['/api/v1/feedback', 'post'],
      ['/api/v1/detect', 'post'],
      ['/api/v1/detectors', 'get'],
      ['/health', 'get'],
      ['/ready', 'get'],
      ['/metrics', 'get'],
    ]
    for (const [path, method] of expected) {
      const op = doc.paths[path]?.[method]
      assert.ok(op, `${method} ${path} documented`)
      assert.ok(Object.keys(op.responses).length > 0, `${path} responses`)
      if (method === 'post') assert.ok(op.requestBody, `${path} request body`)
    }
    assert.ok((doc.paths['/api/v1/anomalies']?.get?.parameters ?? []).length >= 8, 'query parameters documented')
    assert.ok(doc.components.securitySchemes.bearer)
    assert.ok(doc.components.schemas.TelemetryEvent, 'the TelemetryEvent schema is a component')
    assert.match(JSON.stringify(doc.paths['/api/v1/telemetry/events']?.post?.requestBody), /#\/components\/schemas\/TelemetryEvent/)
    assert.deepEqual((doc.paths['/health']?.get as { security?: unknown }).security, [], 'open routes need no key')
  })
})

describe('API keys and rate limits', () => {
  let it: Instance
  before(async () => {
    it = await startInstance({ apiKeys: [API_KEY, OTHER_KEY], rateLimit: { max: 3, timeWindowMs: 60_000 } })
  })
  after(() => stopInstance(it))

  test('a missing or wrong key is 401 with WWW-Authenticate on /api/v1 and /internal; a valid key passes; /health, /ready, /metrics stay open', async () => {
    const missing = await it.api.inject({ method: 'GET', url: '/api/v1/detectors' })
    assert.equal(missing.statusCode, 401)
    assert.match(String(missing.headers['www-authenticate']), /^Bearer/)
    assert.equal(json(missing.body).error, 'unauthorized')
    const wrong = await it.api.inject({ method: 'GET', url: '/api/v1/detectors', headers: { authorization: 'Bearer wrong-key-0123456789abcdef' } })
    assert.equal(wrong.statusCode, 401)
    assert.match(String(wrong.headers['www-authenticate']), /invalid_token/)
    const basic = await it.api.inject({ method: 'GET', url: '/api/v1/detectors', headers: { authorization: `Basic ${API_KEY}` } })
    assert.equal(basic.statusCode, 401)
    assert.equal((await it.api.inject({ method: 'GET', url: '/api/v1/detectors', headers: { authorization: `Bearer ${OTHER_KEY}` } })).statusCode, 200)
    assert.equal((await it.api.inject({ method: 'GET', url: '/internal/v1/anomalies' })).statusCode, 401)
    assert.equal((await it.api.inject({ method: 'GET', url: '/internal/v1/anomalies', headers: { authorization: `Bearer ${API_KEY}` } })).statusCode, 200)
    for (const url of ['/health', '/ready', '/metrics']) assert.equal((await it.api.inject({ method: 'GET', url })).statusCode, 200, url)
  })

  test('past the limit a client gets 429 JSON with Retry-After; each key has its own budget', async () => {
    const auth = { authorization: `Bearer ${API_KEY}` }
    const statuses: number[] = []
    let last
    for (let i = 0; i < 5; i++) {
      last = await it.api.inject({ method: 'GET', url: '/api/v1/detectors', headers: auth })
      statuses.push(last.statusCode)
    }
    // The first test used this key on /internal only, which is not limited.
    assert.deepEqual(statuses, [200, 200, 200, 429, 429])
    assert.equal(json(last!.body).error, 'rate_limited')
    assert.match(String(json(last!.body).message), /at most 3 requests per 60 s/)
    assert.ok(Number(last!.headers['retry-after']) > 0)
    const other = await it.api.inject({ method: 'GET', url: '/api/v1/detectors', headers: { authorization: `Bearer ${OTHER_KEY}` } })
    assert.equal(other.statusCode, 200, 'another key is not throttled by this one')
    assert.equal((await it.api.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'open routes are not limited')
  })

  test('the API refuses short keys at build time', async () => {
    await assert.rejects(async () => startInstance({ apiKeys: ['short'] }), /at least 16 characters/)
  })
})
