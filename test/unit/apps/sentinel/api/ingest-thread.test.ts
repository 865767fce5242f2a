/**
 * The ingest thread (api.ingestThread): a real worker listening on 127.0.0.1, in front of a test API
 * (fixtures.ts). The telemetry route answers as the main thread's does (statuses, bodies, auth,
 * dedup), its records reach the runtime, its metrics reach the main /metrics, every other route is
 * forwarded, and a held or failing write holds or fails the request as on the main thread.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type IngestThread, ingestThreadTarget, startIngestThread } from '../../../../../apps/sentinel/api/index.js'
import { IngestMetricsRelay, decodeBatch, encodeBatch } from '../../../../../apps/sentinel/api/ingest-thread-protocol.js'
import type { OutgoingRecord } from '../../../../../runtime/streams-runtime.js'
import { API_KEY, type Instance, T0, response, startInstance, stopInstance } from './fixtures.js'

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 20))
  assert.ok(condition(), 'condition not met within 2 s')
}

const ALWAYS = { maxAheadMs: 365 * 24 * 3_600_000 }
const auth = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }

async function post(
  thread: IngestThread,
  body: unknown,
  headers: Record<string, string> = auth,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${thread.address}/api/v1/telemetry/events`, { method: 'POST', headers, body: JSON.stringify(body) })
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers }
}

describe('api.ingestThread: the telemetry route in a worker', () => {
  let it: Instance
  let thread: IngestThread
  before(async () => {
    it = await startInstance({ apiKeys: [API_KEY], eventTime: ALWAYS, maxBatchEvents: 20 })
    await it.api.ready()
    thread = await startIngestThread(ingestThreadTarget(it.api), { host: '127.0.0.1', port: 0 }, false)
  })
  after(async () => {
    await thread.close()
    await stopInstance(it)
  })

  test('valid events are written keyed by application_id; invalid ones reported per event (202), as on the main thread', async () => {
    const good = [response('chatbot', T0, 900), response('billing', T0 + 1, 700)]
    const payload = [good[0], { ...response('chatbot', T0 + 2, 800), colour: 'red' }, 'not an event', good[1]]
    const viaThread = await post(thread, payload)
    assert.equal(viaThread.status, 202)
    assert.equal(viaThread.body.accepted, 2)
    assert.equal(viaThread.body.rejected, 2)
    // Standalone: answered on handover; the main thread appends right after.
    await until(() => (it.runtime.sent.get('llm-telemetry') ?? []).length === 2)
    const sent = it.runtime.sent.get('llm-telemetry') ?? []
    assert.deepEqual(
      sent.map((r) => r.key),
      ['chatbot', 'billing'],
    )
    assert.deepEqual(JSON.parse(String(sent[0]?.value)), good[0])
    assert.equal(sent[0]?.headers?.['sentinel-ingest'], 'http')
    // The same batch again: duplicates, nothing written, the same answer as the main thread would give.
    const again = await post(thread, [good[0]])
    assert.equal(again.status, 202)
    assert.deepEqual(again.body, { accepted: 0, rejected: 0, duplicates: 1, errors: [] })
    assert.equal((it.runtime.sent.get('llm-telemetry') ?? []).length, 2)
    // The dry-run sample is kept on the main thread, decoded when read.
    assert.deepEqual(ingestThreadTarget(it.api).recentTelemetry.latest(2), good)
  })

  test('the same refusals as the main thread: 400 invalid_events, 413, 401, malformed JSON', async () => {
    const invalid = await post(thread, [{ event_id: 'x' }])
    assert.equal(invalid.status, 400)
    assert.equal(invalid.body.error, 'invalid_events')
    const direct = await it.api.inject({ method: 'POST', url: '/api/v1/telemetry/events', headers: auth, payload: [{ event_id: 'x' }] })
    assert.deepEqual(invalid.body, JSON.parse(direct.body))
    const tooMany = await post(
      thread,
      Array.from({ length: 21 }, (_, i) => response('chatbot', T0 + 100 + i, 5)),
    )
    assert.equal(tooMany.status, 413)
    assert.equal(tooMany.body.error, 'payload_too_large')
    const anonymous = await post(thread, [response('chatbot', T0 + 200, 5)], { 'content-type': 'application/json' })
    assert.equal(anonymous.status, 401)
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /Bearer/)
    const broken = await fetch(`${thread.address}/api/v1/telemetry/events`, { method: 'POST', headers: auth, body: '[{' })
    assert.equal(broken.status, 400)
    assert.equal(((await broken.json()) as { error: string }).error, 'malformed_json')
  })

  test('every other route is forwarded to the main thread, whose /metrics shows the ingest thread counts', async () => {
    const detectors = await fetch(`${thread.address}/api/v1/detectors`, { headers: auth })
    assert.equal(detectors.status, 200)
    const direct = await it.api.inject({ method: 'GET', url: '/api/v1/detectors', headers: auth })
    assert.deepEqual(await detectors.json(), JSON.parse(direct.body))
    const missing = await fetch(`${thread.address}/nowhere`)
    assert.equal(missing.status, 404)
    assert.deepEqual(await missing.json(), { error: 'not_found', message: 'no route GET /nowhere' })
    // The relay posts every 250 ms.
    await new Promise((r) => setTimeout(r, 400))
    const metrics = await (await fetch(`${thread.address}/metrics`)).text()
    assert.match(metrics, /sentinel_telemetry_events_total\{application="chatbot",type="response"\} 1/)
    assert.match(metrics, /sentinel_ingestion_throughput\{protocol="http"\} 2/)
    assert.match(metrics, /sentinel_telemetry_duplicates_total 1/)
    assert.match(metrics, /sentinel_telemetry_events_rejected_total\{reason="invalid"\} [1-9]/)
    assert.match(metrics, /sentinel_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/telemetry\/events",status_code="202"\} 2/)
    // A forwarded request is timed once, by the main thread.
    assert.match(metrics, /sentinel_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/detectors",status_code="200"\} 2/)
  })
})

/** A runtime whose sends wait for `release()`, or fail while `fail` is set. */
function heldRuntime() {
  const held = { releases: [] as (() => void)[], fail: false, writes: [] as OutgoingRecord[][] }
  const runtime = {
    send: async (_topic: string, records: readonly OutgoingRecord[]) => {
      if (held.fail) throw new Error('broker down at 10.0.0.1:9092')
      await new Promise<void>((resolve) => held.releases.push(resolve))
      held.writes.push([...records])
    },
  }
  return { held, runtime }
}

function tracked<T>(promise: Promise<T>): { readonly promise: Promise<T>; done: boolean } {
  const t = { promise, done: false }
  void promise.then(() => (t.done = true))
  return t
}

const json = { 'content-type': 'application/json' }
const settle = () => new Promise((r) => setTimeout(r, 300))

describe('api.ingestThread: the write decides the answer', () => {
  test('on Kafka (no handover window): a held write holds the request, a failed one is a 503 with Retry-After', async () => {
    const it = await startInstance({ eventTime: ALWAYS })
    await it.api.ready()
    const target = ingestThreadTarget(it.api)
    const { held, runtime } = heldRuntime()
    const thread = await startIngestThread({ ...target, runtime, edge: { ...target.edge, handoverWindowEvents: null } }, { host: '127.0.0.1', port: 0 }, false)
    try {
      const pending = tracked(post(thread, [response('chatbot', T0, 5)], json))
      await settle()
      assert.equal(pending.done, false, 'answered before the runtime took the records')
      assert.equal(held.releases.length, 1, 'the batch reached the runtime')
      held.releases.shift()!()
      assert.equal((await pending.promise).status, 202)
      assert.equal(held.writes.length, 1)
      held.fail = true
      const failed = await post(thread, [response('chatbot', T0 + 1, 5)], json)
      assert.equal(failed.status, 503)
      assert.equal(failed.body.error, 'unavailable')
      assert.doesNotMatch(JSON.stringify(failed.body), /10\.0\.0\.1/)
      assert.equal(failed.headers.get('retry-after'), '5')
    } finally {
      await thread.close()
      await stopInstance(it)
    }
  })

  test('standalone (a handover window): 202 on handover until the window is full, then held until the runtime takes a batch', async () => {
    const it = await startInstance({ eventTime: ALWAYS })
    await it.api.ready()
    const target = ingestThreadTarget(it.api)
    assert.equal(target.edge.handoverWindowEvents, 10_000, 'standalone runtimes get the window')
    const { held, runtime } = heldRuntime()
    const thread = await startIngestThread({ ...target, runtime, edge: { ...target.edge, handoverWindowEvents: 3 } }, { host: '127.0.0.1', port: 0 }, false)
    try {
      const first = await post(thread, [response('chatbot', T0, 5), response('chatbot', T0 + 1, 5)], json)
      assert.equal(first.status, 202, 'answered once handed over, the runtime still holding it')
      const second = tracked(post(thread, [response('chatbot', T0 + 2, 5), response('chatbot', T0 + 3, 5)], json))
      await settle()
      assert.equal(second.done, false, '2 handed over + 2 more > 3: held like a full log holds senders')
      held.releases.shift()!()
      assert.equal((await second.promise).status, 202)
      await settle()
      held.releases.shift()!()
      await settle()
      assert.deepEqual(
        held.writes.map((w) => w.length),
        [2, 2],
      )
    } finally {
      await thread.close()
      await stopInstance(it)
    }
  })
})

describe('ingest-thread-protocol', () => {
  test('a batch crosses as one buffer: keys, values (string or Buffer) and the protocol header come back as written', () => {
    const records: OutgoingRecord[] = [
      { key: 'a', value: '{"x":"é"}' },
      { key: 'b', value: Buffer.from('') },
      { key: 'c', value: Buffer.from('{"y":2}') },
    ]
    const message = encodeBatch(7, 'topic', 'http', records)
    assert.equal(message.bytes.byteLength, Buffer.byteLength('{"x":"é"}') + 7)
    const back = decodeBatch(message)
    assert.deepEqual(
      back.map((r) => [r.key, String(r.value), r.headers]),
      [
        ['a', '{"x":"é"}', { 'sentinel-ingest': 'http' }],
        ['b', '', { 'sentinel-ingest': 'http' }],
        ['c', '{"y":2}', { 'sentinel-ingest': 'http' }],
      ],
    )
  })

  test('the relay sums per label until taken, then starts again', () => {
    const relay = new IngestMetricsRelay()
    assert.equal(relay.take(), null)
    relay.eventsAccepted(
      [
        { application_id: 'a', event_type: 'llm.response' },
        { application_id: 'a', event_type: 'llm.response' },
      ],
      'http',
    )
    relay.eventsAccepted([{ application_id: 'b', event_type: 'llm.error' }], 'http')
    relay.eventsRejected('invalid', 2)
    relay.eventsRejected('invalid', 0)
    relay.duplicates.inc(3)
    relay.request('POST', '/api/v1/telemetry/events', 202, 0.002)
    const taken = relay.take()!
    assert.deepEqual(
      taken.accepted.map(([p, pairs, total]) => [p, [...pairs], total]),
      [
        [
          'http',
          [
            ['a\u0000llm.response', 2],
            ['b\u0000llm.error', 1],
          ],
          3,
        ],
      ],
    )
    assert.deepEqual(taken.rejected, [['invalid', 2]])
    assert.equal(taken.duplicates, 3)
    assert.equal(taken.requests.length, 1)
    assert.equal(relay.take(), null)
  })
})
