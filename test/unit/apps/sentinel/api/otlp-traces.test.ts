/**
 * POST /v1/traces with OpenTelemetry's own SDK and exporters (OTLP/HTTP JSON and protobuf, gzip),
 * sending over a local socket to the API on a DriverRuntime: GenAI spans become TelemetryEvents on
 * the telemetry topic, other spans are skipped, bad GenAI spans are refused with partialSuccess,
 * retried exports are duplicates, and the API key is required. The end-to-end test on the broker
 * is test/integration/apps/sentinel/otlp-ingest.test.ts.
 */
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { after, before, describe, test } from 'node:test'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import type { TelemetryEvent } from '../../../../../schemas/telemetry/index.js'
import { API_KEY, type Instance, startInstance, stopInstance } from './fixtures.js'
import { type SpanSpec, chat, exportSpans, exportSpansVia } from './otlp-sdk-spans.js'

describe('POST /v1/traces (OTLP/HTTP) with the OpenTelemetry SDK exporters', () => {
  let it: Instance
  let url: string
  before(async () => {
    it = await startInstance({ apiKeys: [API_KEY], now: Date.now })
    const address = await it.api.listen({ host: '127.0.0.1', port: 0 })
    url = `${address}/v1/traces`
  })
  after(() => stopInstance(it))

  const sentSince = (from: number): TelemetryEvent[] =>
    (it.runtime.sent.get('llm-telemetry') ?? []).slice(from).map((r) => JSON.parse(Buffer.from(r.value as Uint8Array).toString('utf8')) as TelemetryEvent)
  const sentCount = (): number => (it.runtime.sent.get('llm-telemetry') ?? []).length
  const headers = { Authorization: `Bearer ${API_KEY}` }

  for (const [encoding, make] of [
    ['JSON', () => new JsonExporter({ url, headers })],
    ['protobuf', () => new ProtoExporter({ url, headers })],
    ['protobuf + gzip', () => new ProtoExporter({ url, headers, compression: 'gzip' as never })],
  ] as const) {
    test(`${encoding}: a GenAI span becomes a request and its outcome; an error span an llm.error; other spans are skipped`, async () => {
      const from = sentCount()
      await exportSpans(make(), [
        { name: 'chat gpt-4o', attributes: chat('gpt-4o', 120, 80), durationMs: 850.5 },
        { name: 'GET /orders', attributes: { 'http.request.method': 'GET' }, durationMs: 5 },
        { name: 'chat gpt-4o', attributes: chat('gpt-4o', 50, 0, { 'error.type': 'timeout' }), durationMs: 30_000, error: 'upstream timed out' },
      ])
      const events = withUuidIds(sentSince(from))
      assert.equal(events.length, 4, 'two GenAI spans, two events each; the HTTP span is not an LLM call')
      const [request, response, errorRequest, error] = events as [TelemetryEvent, TelemetryEvent, TelemetryEvent, TelemetryEvent]
      assert.equal(request.event_type, 'llm.request')
      assert.equal(request.application_id, 'support-bot')
      assert.equal(request.tenant_id, 'acme')
      assert.deepEqual(request.source, { service: 'support-bot', host: 'pod-7', version: '2.1.0' })
      assert.deepEqual(request.metadata, {
        user_id: 'user-42',
        environment: 'prod',
        tags: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai' },
      })
      assert.deepEqual(request.data, { model: 'gpt-4o', prompt: '', prompt_tokens: 120, parameters: { temperature: 0.2 } })
      assert.equal(response.event_type, 'llm.response')
      assert.equal(response.correlation_id, request.correlation_id)
      assert.match(response.correlation_id!, /^[0-9a-f]{32}-[0-9a-f]{16}$/)
      assert.deepEqual(response.data, {
        status: 'success',
        latency_ms: 850.5,
        model: 'gpt-4o-0613',
        prompt_tokens: 120,
        completion_tokens: 80,
        total_tokens: 200,
        finish_reason: 'stop',
      })
      assert.equal(Date.parse(response.timestamp) - Date.parse(request.timestamp), 850, 'event times are the span start and end (ms)')
      assert.equal(errorRequest.event_type, 'llm.request')
      assert.equal(error.event_type, 'llm.error')
      assert.equal((error.data as { status: string }).status, 'timeout')
      assert.equal((error.data as { latency_ms: number }).latency_ms, 30_000)
    })
  }

  test('the exported batch again (an exporter retry) is dropped as duplicates', async () => {
    const body = await captureJsonBody([{ name: 'chat', attributes: chat('gpt-4o', 10, 10), durationMs: 100 }])
    const post = () => fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body })
    const from = sentCount()
    assert.equal((await post()).status, 200)
    assert.equal(sentCount() - from, 2)
    const again = await post()
    assert.equal(again.status, 200)
    assert.deepEqual(await again.json(), {}, 'duplicates are not refusals')
    assert.equal(sentCount() - from, 2, 'nothing written twice')
  })

  test('a GenAI span that cannot become events is refused in partialSuccess; the rest of the request goes on', async () => {
    const body = JSON.parse(
      await captureJsonBody([
        { name: 'chat ok', attributes: chat('gpt-4o', 10, 10), durationMs: 100 },
        { name: 'embeddings', attributes: { 'gen_ai.operation.name': 'embeddings' }, durationMs: 100 },
        { name: 'chat huge user', attributes: chat('gpt-4o', 10, 10, { 'user.id': 'u'.repeat(500) }), durationMs: 100 },
      ]),
    ) as unknown
    const from = sentCount()
    const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    assert.equal(res.status, 200)
    const answer = (await res.json()) as { partialSuccess: { rejectedSpans: number; errorMessage: string } }
    assert.equal(answer.partialSuccess.rejectedSpans, 2, JSON.stringify(answer))
    assert.match(answer.partialSuccess.errorMessage, /span 1 'embeddings': a GenAI span needs gen_ai.request.model/)
    assert.match(answer.partialSuccess.errorMessage, /span 2: invalid: metadata.user_id must be at most 128 characters/)
    assert.equal(sentCount() - from, 2, 'only the good span was written')
  })

  test('protobuf answers are ExportTraceServiceResponse in protobuf; undecodable bodies are 400; gzip is inflated; other encodings 415', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0xff, 0xff]),
    })
    assert.equal(res.status, 400)
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_otlp')
    const json = await captureJsonBody([{ name: 'chat', attributes: chat('gpt-4o', 1, 1), durationMs: 10 }])
    const gz = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(json),
    })
    assert.equal(gz.status, 200)
    const br = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'br' }, body: json })
    assert.equal(br.status, 415)
  })

  test('without the API key the exporter is refused (401) and nothing is written', async () => {
    const from = sentCount()
    const exporter = new JsonExporter({ url })
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => {
      void exportSpansVia(exporter, resolve)
    })
    assert.equal(result.code, 1, 'ExportResultCode.FAILED')
    assert.equal(sentCount() - from, 0)
  })

  test('counted in sentinel_ingestion_throughput{protocol="otlp_http"}', async () => {
    const text = await it.registry.metrics()
    const line = text.split('\n').find((l) => l.startsWith('sentinel_ingestion_throughput{protocol="otlp_http"}'))
    assert.ok(line !== undefined && Number(line.split(' ')[1]) >= 8, line)
  })
})

/** The events as sent, each checked to carry a UUID event id (made from its span). */
function withUuidIds(events: TelemetryEvent[]): TelemetryEvent[] {
  for (const e of events) assert.match(e.event_id, /^[0-9a-f-]{36}$/)
  return events
}

/** The JSON body the SDK's JSON exporter sends for `specs` (captured from a local listener). */
async function captureJsonBody(specs: readonly SpanSpec[]): Promise<string> {
  const { createServer } = await import('node:http')
  let captured = ''
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      captured = Buffer.concat(chunks).toString('utf8')
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await exportSpans(new JsonExporter({ url: `http://127.0.0.1:${port}/v1/traces` }), specs)
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return captured
}
