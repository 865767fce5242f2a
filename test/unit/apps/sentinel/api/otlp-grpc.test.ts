/**
 * OTLP/gRPC (TraceService/Export) with OpenTelemetry's own gRPC exporter, sending to the API's gRPC
 * receiver on a DriverRuntime: GenAI spans become the same TelemetryEvents as over OTLP/HTTP, keyed
 * and counted as otlp_grpc; the API key is required (UNAUTHENTICATED); refusals come back as
 * partialSuccess; undecodable messages are INVALID_ARGUMENT. The protobuf messages of the raw-client
 * tests are the SDK's own (captured from its OTLP/HTTP protobuf exporter: the same message).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { otlpGrpcAddress } from '../../../../../apps/sentinel/api/index.js'
import { INGEST_PROTOCOL_HEADER } from '../../../../../apps/sentinel/api/api-metrics.js'
import { TRACE_EXPORT_PATH } from '../../../../../apps/sentinel/api/otlp-grpc-server.js'
import type { TelemetryEvent } from '../../../../../schemas/telemetry/index.js'
import { API_KEY, type Instance, startInstance, stopInstance } from './fixtures.js'
import { captureExport } from './otlp-capture.js'
import { call, decodeResponse, withKey } from './otlp-raw-client.js'
import { type SpanSpec, chat, exportSpans, exportSpansVia } from './otlp-sdk-spans.js'

/** The protobuf ExportTraceServiceRequest the SDK makes for `specs`. */
const captureProtobuf = (specs: readonly SpanSpec[]): Promise<Buffer> =>
  captureExport((base) => exportSpans(new ProtoExporter({ url: `${base}/v1/traces` }), specs))

type TraceResponse = { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } }

describe('OTLP/gRPC traces with the OpenTelemetry SDK gRPC exporter', () => {
  let it: Instance
  let address: string
  before(async () => {
    it = await startInstance({ apiKeys: [API_KEY], now: Date.now, otlpGrpc: { host: '127.0.0.1', port: 0 } })
    await it.api.listen({ host: '127.0.0.1', port: 0 })
    address = otlpGrpcAddress(it.api)!
    assert.match(address, /^127\.0\.0\.1:\d+$/)
  })
  after(() => stopInstance(it))

  const sent = () => it.runtime.sent.get('llm-telemetry') ?? []
  const eventsSince = (from: number): TelemetryEvent[] =>
    sent()
      .slice(from)
      .map((r) => JSON.parse(Buffer.from(r.value as Uint8Array).toString('utf8')) as TelemetryEvent)

  for (const compression of ['none', 'gzip'] as const) {
    test(`compression ${compression}: GenAI spans become a request and its outcome, marked otlp_grpc; other spans are skipped`, async () => {
      const from = sent().length
      await exportSpans(new GrpcExporter({ url: `http://${address}`, metadata: withKey(API_KEY), compression: compression as never }), [
        { name: 'chat gpt-4o', attributes: chat('gpt-4o', 120, 80), durationMs: 850.5 },
        { name: 'GET /orders', attributes: { 'http.request.method': 'GET' }, durationMs: 5 },
        { name: 'chat gpt-4o', attributes: chat('gpt-4o', 50, 0, { 'error.type': 'timeout' }), durationMs: 30_000, error: 'upstream timed out' },
      ])
      const events = eventsSince(from)
      assert.deepEqual(
        events.map((e) => e.event_type),
        ['llm.request', 'llm.response', 'llm.request', 'llm.error'],
      )
      assert.deepEqual(events[1]!.data, {
        status: 'success',
        latency_ms: 850.5,
        model: 'gpt-4o-0613',
        prompt_tokens: 120,
        completion_tokens: 80,
        total_tokens: 200,
        finish_reason: 'stop',
      })
      assert.equal(events[0]!.application_id, 'support-bot')
      assert.equal(events[0]!.tenant_id, 'acme')
      for (const record of sent().slice(from)) assert.equal(String(record.headers?.[INGEST_PROTOCOL_HEADER]), 'otlp_grpc')
    })
  }

  test('without a key or with a wrong one: UNAUTHENTICATED, and the SDK exporter fails; nothing is written', async () => {
    const from = sent().length
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => {
      void exportSpansVia(new GrpcExporter({ url: `http://${address}` }), resolve)
    })
    assert.equal(result.code, 1, 'ExportResultCode.FAILED')
    const message = await captureProtobuf([{ name: 'chat', attributes: chat('gpt-4o', 1, 1), durationMs: 10 }])
    const missing = await call(address, TRACE_EXPORT_PATH, message, withKey(null))
    assert.equal(missing.error?.code, grpc.status.UNAUTHENTICATED)
    assert.match(missing.error!.details, /an API key is required/)
    const wrong = await call(address, TRACE_EXPORT_PATH, message, withKey('not-the-key-0123456789'))
    assert.equal(wrong.error?.code, grpc.status.UNAUTHENTICATED)
    assert.match(wrong.error!.details, /not valid/)
    assert.equal(sent().length - from, 0)
  })

  test('a GenAI span that cannot become events is counted in partialSuccess; a retry is duplicates, not refusals', async () => {
    const message = await captureProtobuf([
      { name: 'chat ok', attributes: chat('gpt-4o', 10, 10), durationMs: 100 },
      { name: 'embeddings', attributes: { 'gen_ai.operation.name': 'embeddings' }, durationMs: 100 },
    ])
    const from = sent().length
    const first = await call(address, TRACE_EXPORT_PATH, message, withKey(API_KEY))
    assert.equal(first.error, null)
    const answer = decodeResponse<TraceResponse>('trace', first.response!)
    assert.equal(answer.partialSuccess?.rejectedSpans, '1', JSON.stringify(answer))
    assert.match(answer.partialSuccess!.errorMessage!, /span 1 'embeddings': a GenAI span needs gen_ai.request.model/)
    assert.equal(sent().length - from, 2)
    const again = await call(address, TRACE_EXPORT_PATH, message, withKey(API_KEY))
    assert.equal(again.error, null)
    assert.equal(decodeResponse<TraceResponse>('trace', again.response!).partialSuccess?.rejectedSpans, '1', 'the same span is refused again')
    assert.equal(sent().length - from, 2, 'nothing written twice')
  })

  test('a message that is not an ExportTraceServiceRequest is INVALID_ARGUMENT', async () => {
    const bad = await call(address, TRACE_EXPORT_PATH, Buffer.from([0x0a, 0xff, 0xff]), withKey(API_KEY))
    assert.equal(bad.error?.code, grpc.status.INVALID_ARGUMENT)
    assert.match(bad.error!.details, /not a protobuf ExportTraceServiceRequest/)
  })

  test('counted in sentinel_ingestion_throughput{protocol="otlp_grpc"}', async () => {
    const text = await it.registry.metrics()
    const line = text.split('\n').find((l) => l.startsWith('sentinel_ingestion_throughput{protocol="otlp_grpc"}'))
    assert.ok(line !== undefined && Number(line.split(' ')[1]) >= 10, line)
  })

  test('closing the API stops the gRPC receiver', async () => {
    const other = await startInstance({ otlpGrpc: { host: '127.0.0.1', port: 0 } })
    await other.api.listen({ host: '127.0.0.1', port: 0 })
    const at = otlpGrpcAddress(other.api)!
    await stopInstance(other)
    assert.equal(otlpGrpcAddress(other.api), null)
    const refused = await call(at, TRACE_EXPORT_PATH, Buffer.alloc(0), withKey(null))
    assert.equal(refused.error?.code, grpc.status.UNAVAILABLE)
  })

  test('when the HTTP port cannot be bound, listen fails and closing the API frees the gRPC port it had bound', async () => {
    const { createServer } = await import('node:net')
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const other = await startInstance({ otlpGrpc: { host: '127.0.0.1', port: 0 } })
    try {
      await assert.rejects(other.api.listen({ host: '127.0.0.1', port: (taken.address() as { port: number }).port }), /EADDRINUSE/)
      const at = otlpGrpcAddress(other.api)
      assert.ok(at !== null, 'the gRPC receiver started with the API (before the HTTP port)')
      await stopInstance(other)
      assert.equal((await call(at, TRACE_EXPORT_PATH, Buffer.alloc(0), withKey(null))).error?.code, grpc.status.UNAVAILABLE)
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()))
    }
  })
})
