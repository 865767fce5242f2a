/**
 * The API against hostile input (issue 12): impossible or far-off event times, retried batches,
 * unbounded ids, deep and malformed bodies, key guessing, credentials in URLs, and what the
 * responses and logs give away.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { buildSentinelApi } from '../../../../../apps/sentinel/api/index.js'
import type { OutgoingRecord, StreamsRuntime } from '../../../../../runtime/streams-runtime.js'
import { SerdeError } from '../../../../../schemas/serde.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../../../schemas/telemetry/index.js'
import { API_KEY, DETECTORS_YAML, type Instance, T0, detectors, response, startInstance, stopInstance, uuid } from './fixtures.js'

const json = (body: string) => JSON.parse(body) as Record<string, unknown>
const HOUR = 3_600_000
const post = (it: Instance, payload: unknown, headers: Record<string, string> = {}) => it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: payload as object, headers })

interface IngestBody {
  accepted: number
  rejected: number
  duplicates: number
  errors: { index: number; event_id?: string; reason: string; issues: { path: string; message: string }[] }[]
}

describe('event times at the HTTP edge', () => {
  let it: Instance
  before(async () => {
    it = await startInstance()
  })
  after(() => stopInstance(it))

  test('year 0001, 23:59:60 and Feb 30 are rejected at validation with the field and the reason', async () => {
    const bad = ['0001-01-01T00:00:00Z', '2025-12-31T23:59:60Z', '2025-02-30T12:00:00Z'].map((timestamp) => ({ ...response('chatbot', T0, 100), timestamp }))
    const res = await post(it, [response('chatbot', T0, 100), ...bad])
    assert.equal(res.statusCode, 202)
    const body = json(res.body) as unknown as IngestBody
    assert.equal(body.accepted, 1)
    assert.deepEqual(body.errors.map((e) => [e.index, e.reason, e.issues[0]?.path]), [[1, 'invalid', 'timestamp'], [2, 'invalid', 'timestamp'], [3, 'invalid', 'timestamp']])
    assert.match(body.errors[0]!.issues[0]!.message, /year from 1970 to 9999/)
    assert.match(body.errors[1]!.issues[0]!.message, /leap second/)
    assert.match(body.errors[2]!.issues[0]!.message, /no day 30/)
  })

  test('+1 h and +10 y are rejected as too_far_ahead, -2 d as too_far_behind; counted by reason; +4 min and -23 h pass', async () => {
    const at = (offset: number): TelemetryEvent => response('chatbot', T0 + offset, 100)
    const res = await post(it, [at(HOUR), at(10 * 365 * 24 * HOUR), at(-48 * HOUR), at(4 * 60_000), at(-23 * HOUR)])
    assert.equal(res.statusCode, 202)
    const body = json(res.body) as unknown as IngestBody
    assert.equal(body.accepted, 2)
    assert.deepEqual(body.errors.map((e) => [e.index, e.reason]), [[0, 'too_far_ahead'], [1, 'too_far_ahead'], [2, 'too_far_behind']])
    assert.match(body.errors[0]!.issues[0]!.message, /^is 1 h ahead of the server clock; at most 5 min ahead is accepted/)
    assert.deepEqual(body.errors[0]!.issues.map((i) => i.path), ['timestamp'])
    assert.match(body.errors[2]!.issues[0]!.message, /^is 2 d behind the server clock; at most 24 h behind/)
    const metrics = (await it.api.inject({ method: 'GET', url: '/metrics' })).body
    assert.match(metrics, /sentinel_telemetry_events_rejected_total\{reason="too_far_ahead"\} 2/)
    assert.match(metrics, /sentinel_telemetry_events_rejected_total\{reason="too_far_behind"\} 1/)
  })

  test('the bounds are configurable', async () => {
    const strict = await startInstance({ eventTime: { maxAheadMs: 1000, maxBehindMs: 1000 } })
    try {
      const body = json((await post(strict, [response('chatbot', T0 + 2000, 1), response('chatbot', T0 - 2000, 1)])).body) as unknown as IngestBody
      assert.deepEqual(body.errors.map((e) => e.reason), ['too_far_ahead', 'too_far_behind'])
    } finally {
      await stopInstance(strict)
    }
  })

  test('rejections are logged at warn, at most once per interval with a count of the rest', async () => {
    const lines: Record<string, unknown>[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) })
    const logged = await startInstance({ logger })
    try {
      for (let i = 0; i < 5; i++) await post(logged, [response('chatbot', T0 + 2 * HOUR, 1)])
      const warnings = lines.filter((l) => l.msg === 'telemetry event rejected: too_far_ahead')
      assert.equal(warnings.length, 1)
      assert.equal(warnings[0]?.level, 40)
      assert.equal(warnings[0]?.skew_ms, 2 * HOUR)
    } finally {
      await stopInstance(logged)
    }
  })
})

describe('retried batches', () => {
  let it: Instance
  before(async () => {
    it = await startInstance()
  })
  after(() => stopInstance(it))

  test('a batch sent three times is written once; the later sends report every event as a duplicate', async () => {
    const n = 7
    const batch = Array.from({ length: n }, (_, i) => response(`app-${i % 3}`, T0 + i, 100))
    const first = json((await post(it, batch)).body) as unknown as IngestBody
    const second = json((await post(it, batch)).body) as unknown as IngestBody
    const thirdRes = await post(it, batch)
    const third = json(thirdRes.body) as unknown as IngestBody
    assert.equal(thirdRes.statusCode, 202)
    assert.deepEqual([first.accepted, first.duplicates], [n, 0])
    assert.deepEqual([second.accepted, second.duplicates], [0, n])
    assert.deepEqual([third.accepted, third.duplicates], [0, n])
    assert.equal(second.duplicates + third.duplicates, 2 * n)
    assert.equal((it.runtime.sent.get('llm-telemetry') ?? []).length, n)
    assert.match((await it.api.inject({ method: 'GET', url: '/metrics' })).body, new RegExp(`sentinel_telemetry_duplicates_total ${2 * n}`))
  })

  test('a repeated id inside one batch and a retry mixing old and new events', async () => {
    const old = response('chatbot', T0, 1)
    await post(it, [old])
    const fresh = response('chatbot', T0 + 1, 1)
    const body = json((await post(it, [old, fresh, fresh])).body) as unknown as IngestBody
    assert.deepEqual([body.accepted, body.duplicates, body.rejected], [1, 2, 0])
  })

  test('an event whose write failed is not remembered: its retry is accepted', async () => {
    const event = response('chatbot', T0 + 5, 1)
    it.runtime.failSends = new Error('broker down')
    try {
      assert.equal((await post(it, [event])).statusCode, 503)
    } finally {
      it.runtime.failSends = null
    }
    const body = json((await post(it, [event])).body) as unknown as IngestBody
    assert.deepEqual([body.accepted, body.duplicates], [1, 0])
  })
})

/** A runtime that drops what it is sent, so a measurement sees the API's memory and nothing else. */
function discardingRuntime(): StreamsRuntime {
  return {
    mode: 'standalone',
    applicationId: 'edge-limits',
    state: 'running',
    hostInfo: null,
    allHosts: () => [],
    // It never changes state: the listener is never called.
    onStateChange: () => () => {},
    send: async (_topic: string, _records: readonly OutgoingRecord[]) => {},
  } as unknown as StreamsRuntime
}

describe('ids are bounded: metrics and memory stay small under hostile ids', () => {
  const start = (maxApplicationLabels?: number) =>
    buildSentinelApi({ runtime: discardingRuntime(), detectors: detectors(), telemetryTopic: 't', acksTopic: 'a', feedbackTopic: 'f', bodyLimit: 32 * 1024 * 1024, rateLimit: false, metrics: new Registry(), logger: false, now: () => T0, ...(maxApplicationLabels === undefined ? {} : { maxApplicationLabels }) })
  const metricsSize = async (api: ReturnType<typeof start>) => Buffer.byteLength((await api.inject({ method: 'GET', url: '/metrics' })).body)

  test('10^4 distinct 128-character ids leave /metrics under 1 MB and RSS growth under 50 MB', async () => {
    const api = start()
    try {
      // Warm up (first request compiles schemas and serializers) so the measurement sees the ids.
      await api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: [response('warm-up', T0, 1)] })
      const rssBefore = process.memoryUsage().rss
      const sizeBefore = await metricsSize(api)
      const distinct = 10_000
      for (let first = 0; first < distinct; first += 1000) {
        const batch = Array.from({ length: 1000 }, (_, i) => {
          const id = `tenant-${first + i}-`.padEnd(128, 'y')
          return response(id, T0, 1, { tenant_id: id, metadata: { user_id: id, session_id: id } })
        })
        const r = await api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: batch })
        assert.equal(r.statusCode, 202, r.body.slice(0, 500))
        assert.equal((json(r.body) as unknown as IngestBody).accepted, 1000)
      }
      const size = await metricsSize(api)
      const rssGrowth = process.memoryUsage().rss - rssBefore
      // For the record (the README quotes them).
      console.log(`# /metrics ${sizeBefore} -> ${size} bytes after ${distinct} distinct application ids; RSS ${rssGrowth >= 0 ? '+' : ''}${(rssGrowth / 1048576).toFixed(1)} MB`)
      assert.ok(size < 1024 * 1024, `/metrics is ${size} bytes`)
      assert.ok(rssGrowth < 50 * 1024 * 1024, `RSS grew ${rssGrowth} bytes`)
      const text = (await api.inject({ method: 'GET', url: '/metrics' })).body
      const applications = new Set([...text.matchAll(/sentinel_telemetry_events_total\{application="([^"]*)"/g)].map((m) => m[1]))
      assert.equal(applications.size, 101) // the first 100 (warm-up included) and `other`
      assert.match(text, /sentinel_telemetry_events_total\{application="other",type="response"\} 9901/)
    } finally {
      await api.close()
    }
  })

  test('without the cap the same ids would put every one on /metrics (the cap is what keeps it small)', async () => {
    const api = start(1_000_000)
    try {
      const batch = Array.from({ length: 1000 }, (_, i) => response(`tenant-${i}-`.padEnd(128, 'y'), T0, 1))
      await api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: batch })
      assert.ok((await metricsSize(api)) > 100 * 1000, 'a thousand 128-character labels take > 100 KB')
    } finally {
      await api.close()
    }
  })

  test('40 ids of 500 KB are refused per field without being echoed, and /metrics does not grow', async () => {
    const api = start()
    try {
      // The series of the routes used below exist before the measurement (a scrape records itself).
      await api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: [{}] })
      await metricsSize(api)
      const before = await metricsSize(api)
      const huge = Array.from({ length: 40 }, (_, i) => response(`${i}`.padEnd(500_000, 'x'), T0, 1))
      const res = await api.inject({ method: 'POST', url: '/api/v1/telemetry/events', payload: huge })
      assert.equal(res.statusCode, 400)
      const body = json(res.body) as unknown as IngestBody
      assert.equal(body.rejected, 40)
      assert.deepEqual(body.errors[0]?.issues, [{ path: 'application_id', message: 'must be at most 128 characters (got 500000)' }])
      assert.ok(res.body.length < 20_000, `the rejection echoes the ids: ${res.body.length} bytes`)
      const after = await metricsSize(api)
      assert.ok(after < before + 200, `/metrics grew from ${before} to ${after} bytes`)
    } finally {
      await api.close()
    }
  })
})

describe('bodies that can never succeed are 4xx, never a retryable 5xx', () => {
  let it: Instance
  before(async () => {
    it = await startInstance({ bodyLimit: 2 * 1024 * 1024 })
  })
  after(() => stopInstance(it))

  test('a body nested 100,000 levels deep in data.context is 400, the same on every retry', async () => {
    const event = response('chatbot', T0, 1)
    const text = JSON.stringify([{ ...event, event_type: 'llm.request', data: { model: 'm', prompt: 'p', context: '@' } }])
    const deep = text.replace('"@"', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000))
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', headers: { 'content-type': 'application/json' }, payload: deep })
      assert.equal(res.statusCode, 400)
      assert.equal(json(res.body).error, 'too_deeply_nested')
      assert.equal(res.headers['retry-after'], undefined)
    }
  })

  test('context nested past 32 levels (within the body limit of 64) is a per-event rejection', async () => {
    let context: Record<string, unknown> = { leaf: 1 }
    for (let i = 0; i < 40; i++) context = { a: context }
    const res = await post(it, [{ ...response('chatbot', T0, 1), event_type: 'llm.request', data: { model: 'm', prompt: 'p', context } }])
    assert.equal(res.statusCode, 400)
    assert.deepEqual((json(res.body) as unknown as IngestBody).errors[0]?.issues, [{ path: 'data.context', message: 'must not be nested more than 32 levels deep' }])
  })

  test('a count beyond 2^53 is refused at validation (Avro longs cannot carry it)', async () => {
    const res = await post(it, [{ ...response('chatbot', T0, 1), data: { status: 'success', latency_ms: 1, completion_tokens: 1e300 } }])
    assert.equal(res.statusCode, 400)
    assert.deepEqual((json(res.body) as unknown as IngestBody).errors[0]?.issues, [{ path: 'data.completion_tokens', message: 'must be at most 9007199254740991' }])
  })

  test("an event the topic's format cannot encode is rejected on its own (4xx), the rest written", async () => {
    const json = telemetryJsonSerde()
    const picky = await startInstance({
      telemetrySerde: {
        ...json,
        serialize(value, topic) {
          if (value.application_id === 'unencodable') throw new SerdeError('picky', 'this format cannot carry it')
          return json.serialize(value, topic)
        },
      },
    })
    try {
      const res = await post(picky, [response('unencodable', T0, 1), response('chatbot', T0, 1)])
      assert.equal(res.statusCode, 202)
      const body = JSON.parse(res.body) as IngestBody
      assert.deepEqual([body.accepted, body.rejected], [1, 1])
      assert.deepEqual(body.errors[0]?.issues, [{ path: '(event)', message: 'cannot be encoded for the telemetry topic: picky: this format cannot carry it' }])
      const alone = await post(picky, [response('unencodable', T0 + 1, 1)])
      assert.equal(alone.statusCode, 400)
    } finally {
      await stopInstance(picky)
    }
  })

  test('invalid UTF-8 is 400, not silently replaced', async () => {
    const event = JSON.stringify([response('chatbot', T0, 1)])
    const bytes = Buffer.concat([Buffer.from(event.slice(0, -3)), Buffer.from([0xc3, 0x28]), Buffer.from(event.slice(-3))])
    const res = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', headers: { 'content-type': 'application/json' }, payload: bytes })
    assert.equal(res.statusCode, 400)
    assert.equal(json(res.body).error, 'invalid_utf8')
    assert.equal((it.runtime.sent.get('llm-telemetry') ?? []).length, 0)
  })
})

describe('authentication: key guessing, query-string keys, internal routes, operations endpoints', () => {
  test('a storm of bad keys from one address gets 429 with Retry-After; other addresses and valid keys are unaffected', async () => {
    const it = await startInstance({ apiKeys: [API_KEY], rateLimit: { max: 100_000, timeWindowMs: 60_000 }, authFailureLimit: { max: 20, timeWindowMs: 60_000 } })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 1100; i++) {
        const res = await it.api.inject({ method: 'GET', url: '/api/v1/anomalies', remoteAddress: '203.0.113.7', headers: { authorization: `Bearer guess-${i}-0123456789abcdef` } })
        statuses.push(res.statusCode)
        if (i === 1099) {
          assert.equal(res.statusCode, 429)
          assert.ok(Number(res.headers['retry-after']) > 0)
          assert.equal(json(res.body).error, 'too_many_failed_authentications')
        }
      }
      assert.equal(statuses.filter((s) => s === 401).length, 20)
      assert.equal(statuses.filter((s) => s === 429).length, 1080)
      // The right key from the blocked address is refused too until the window ends: no oracle.
      assert.equal((await it.api.inject({ method: 'GET', url: '/api/v1/anomalies', remoteAddress: '203.0.113.7', headers: { authorization: `Bearer ${API_KEY}` } })).statusCode, 429)
      assert.equal((await it.api.inject({ method: 'GET', url: '/api/v1/anomalies', remoteAddress: '198.51.100.1', headers: { authorization: `Bearer ${API_KEY}` } })).statusCode, 200)
      assert.equal((await it.api.inject({ method: 'GET', url: '/api/v1/anomalies', remoteAddress: '198.51.100.2' })).statusCode, 401)
      // Internal routes count failures too.
      assert.equal((await it.api.inject({ method: 'GET', url: '/internal/v1/anomalies', remoteAddress: '203.0.113.7', headers: { authorization: `Bearer ${API_KEY}` } })).statusCode, 429)
    } finally {
      await stopInstance(it)
    }
  })

  test('/internal/* is rate-limited for key holders too', async () => {
    const it = await startInstance({ apiKeys: [API_KEY], rateLimit: { max: 2, timeWindowMs: 60_000 }, internalRateLimit: { max: 3, timeWindowMs: 60_000 } })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) statuses.push((await it.api.inject({ method: 'GET', url: '/internal/v1/anomalies', headers: { authorization: `Bearer ${API_KEY}` } })).statusCode)
      assert.deepEqual(statuses, [200, 200, 200, 429, 429])
    } finally {
      await stopInstance(it)
    }
  })

  test('a key in the query string is refused with 400 pointing at the Authorization header', async () => {
    const it = await startInstance({ apiKeys: [API_KEY] })
    try {
      for (const name of ['api_key', 'apiKey', 'access_token', 'token']) {
        const res = await it.api.inject({ method: 'GET', url: `/api/v1/anomalies?${name}=${API_KEY}`, headers: { authorization: `Bearer ${API_KEY}` } })
        assert.equal(res.statusCode, 400, name)
        assert.equal(json(res.body).error, 'credentials_in_query')
        assert.match(String(json(res.body).message), /Authorization: Bearer/)
        assert.doesNotMatch(res.body, new RegExp(API_KEY))
      }
      // `key` names a record key on the slot route, not a credential.
      const slot = await it.api.inject({ method: 'GET', url: '/internal/v1/detectors/latency-z/slot?key=chatbot', headers: { authorization: `Bearer ${API_KEY}` } })
      assert.notEqual(slot.statusCode, 400)
    } finally {
      await stopInstance(it)
    }
  })

  test('/metrics and /openapi.json are open by default and behind the keys when configured', async () => {
    const open = await startInstance({ apiKeys: [API_KEY] })
    const closed = await startInstance({ apiKeys: [API_KEY], authenticate: { metrics: true, openapi: true } })
    try {
      for (const url of ['/metrics', '/openapi.json']) {
        assert.equal((await open.api.inject({ method: 'GET', url })).statusCode, 200, url)
        assert.equal((await closed.api.inject({ method: 'GET', url })).statusCode, 401, url)
        assert.equal((await closed.api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${API_KEY}` } })).statusCode, 200, url)
      }
      assert.equal((await closed.api.inject({ method: 'GET', url: '/health' })).statusCode, 200)
    } finally {
      await stopInstance(open)
      await stopInstance(closed)
    }
  })
})

describe('no credential in any log line', () => {
  test('keys in headers, query strings and bodies never reach the log; the request is still logged', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) })
    const it = await startInstance({ logger, apiKeys: [API_KEY], authFailureLimit: { max: 3, timeWindowMs: 60_000 } })
    const secrets = [API_KEY, 'wrong-key-abcdef0123456789', 'cookie-secret-value-42', 'body-password-value-42', 'query-token-value-42']
    try {
      const auth = { authorization: `Bearer ${API_KEY}` }
      await it.api.inject({ method: 'GET', url: `/api/v1/anomalies?api_key=${API_KEY}&severity=critical`, headers: auth })
      await it.api.inject({ method: 'GET', url: '/api/v1/anomalies?token=query-token-value-42', remoteAddress: '203.0.113.8' })
      const guesser = '203.0.113.9'
      await it.api.inject({ method: 'GET', url: '/api/v1/anomalies', remoteAddress: guesser, headers: { authorization: 'Bearer wrong-key-abcdef0123456789', cookie: 'session=cookie-secret-value-42', 'x-api-key': API_KEY } })
      for (let i = 0; i < 5; i++) await it.api.inject({ method: 'GET', url: '/api/v1/anomalies', remoteAddress: guesser, headers: { authorization: 'Bearer wrong-key-abcdef0123456789' } })
      await it.api.inject({ method: 'POST', url: '/api/v1/feedback', headers: { ...auth, 'x-forwarded-for': '1.2.3.4' }, payload: { anomaly_id: 'x', label: 'true_positive', password: 'body-password-value-42' } })
      await post(it, [response('chatbot', T0, 1)], auth)
      it.runtime.failSends = new Error('broker down')
      await post(it, [response('chatbot', T0 + 1, 1)], auth)
      it.runtime.failSends = null
      await post(it, [{ ...response('chatbot', T0 + 2 * HOUR, 1) }], auth)
      const log = lines.join('')
      assert.ok(lines.length >= 10, `expected request log lines, got ${lines.length}`)
      for (const secret of secrets) assert.ok(!log.includes(secret), `the log contains ${secret}:\n${lines.filter((l) => l.includes(secret)).join('')}`)
      assert.match(log, /"url":"\/api\/v1\/anomalies\?api_key=\[redacted\]&severity=critical"/)
      assert.match(log, /"status_code":429/)
      assert.match(log, /telemetry could not be written/)
      assert.match(log, /telemetry event rejected: too_far_ahead/)
      // Redaction reaches structured fields too, whoever logs them.
      ;(it.api.log as unknown as { info(o: object, m: string): void }).info({ req: { headers: { authorization: `Bearer ${API_KEY}`, cookie: 'cookie-secret-value-42' } }, body: { password: 'body-password-value-42' } }, 'probe')
      const withProbe = lines.join('')
      for (const secret of secrets) assert.ok(!withProbe.includes(secret), `the probe line contains ${secret}`)
      assert.match(withProbe, /"msg":"probe"/)
    } finally {
      await stopInstance(it)
    }
  })
})

describe('responses give away no internals', () => {
  let it: Instance
  before(async () => {
    it = await startInstance()
  })
  after(() => stopInstance(it))

  test('GET /detectors names the detectors file without its directory', async () => {
    const config = { ...detectors(), source: '/etc/sentinel/secret-dir/detectors.yaml' }
    const api = buildSentinelApi({ runtime: discardingRuntime(), detectors: config, telemetryTopic: 't', acksTopic: 'a', feedbackTopic: 'f', bodyLimit: 1024 * 1024, rateLimit: false, metrics: new Registry(), logger: false })
    try {
      const res = await api.inject({ method: 'GET', url: '/api/v1/detectors' })
      assert.equal(res.statusCode, 200)
      assert.equal(json(res.body).source, 'detectors.yaml')
      assert.doesNotMatch(res.body, /secret-dir|\/etc\//)
    } finally {
      await api.close()
    }
    assert.ok(DETECTORS_YAML.length > 0)
  })

  test('an unknown detector on the internal slot route is 404, not 500', async () => {
    const res = await it.api.inject({ method: 'GET', url: '/internal/v1/detectors/no-such-detector/slot?key=chatbot' })
    assert.equal(res.statusCode, 404)
    assert.match(String(json(res.body).message), /no detector 'no-such-detector'/)
  })

  test('a client-chosen request id is kept when it is a short token, replaced otherwise', async () => {
    const lines: Record<string, unknown>[] = []
    const logged = await startInstance({ logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) })
    try {
      await logged.api.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'trace-42.a:b' } })
      await logged.api.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': `evil\n{"level":60}${'x'.repeat(10_000)}` } })
      const ids = lines.filter((l) => l.msg === 'request completed').map((l) => String(l.reqId))
      assert.equal(ids[0], 'trace-42.a:b')
      assert.match(ids[1] ?? '', /^[0-9a-f-]{36}$/)
    } finally {
      await stopInstance(logged)
    }
  })

  test('the ingest response echoes only short event ids', async () => {
    const res = await post(it, [{ ...response('chatbot', T0, 1), event_id: 'z'.repeat(100_000) }, { ...response('chatbot', T0, 1), event_id: uuid() }])
    assert.ok(res.body.length < 2000, `${res.body.length} bytes`)
  })
})
