/**
 * OTLP metrics with OpenTelemetry's own metrics SDK and exporters (OTLP/HTTP JSON and protobuf,
 * OTLP/gRPC), sending to the API on a DriverRuntime: gen_ai.* delta points become llm.metric events
 * (histograms as .count and .sum), other metrics are ignored and counted, cumulative points are
 * refused with the temporality setting in partialSuccess, retries are duplicates.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc'
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { otlpGrpcAddress } from '../../../../../apps/sentinel/api/index.js'
import { METRICS_EXPORT_PATH } from '../../../../../apps/sentinel/api/otlp-grpc-server.js'
import type { MetricData, TelemetryEvent } from '../../../../../schemas/telemetry/index.js'
import { API_KEY, type Instance, startInstance, stopInstance } from './fixtures.js'
import { captureExport } from './otlp-capture.js'
import { exportMetrics } from './otlp-sdk-metrics.js'
import { call, decodeResponse, withKey } from './otlp-raw-client.js'

const DELTA = AggregationTemporalityPreference.DELTA
const CUMULATIVE = AggregationTemporalityPreference.CUMULATIVE

type MetricsResponse = { partialSuccess?: { rejectedDataPoints?: string | number; errorMessage?: string } }

describe('OTLP metrics with the OpenTelemetry SDK metric exporters', () => {
  let it: Instance
  let url: string
  let grpcAddress: string
  before(async () => {
    it = await startInstance({ apiKeys: [API_KEY], now: Date.now, otlpGrpc: { host: '127.0.0.1', port: 0 } })
    url = `${await it.api.listen({ host: '127.0.0.1', port: 0 })}/v1/metrics`
    grpcAddress = otlpGrpcAddress(it.api)!
  })
  after(() => stopInstance(it))

  const headers = { Authorization: `Bearer ${API_KEY}` }
  const sent = () => it.runtime.sent.get('llm-telemetry') ?? []
  const eventsSince = (from: number): TelemetryEvent[] =>
    sent()
      .slice(from)
      .map((r) => JSON.parse(Buffer.from(r.value as Uint8Array).toString('utf8')) as TelemetryEvent)
  const byName = (events: readonly TelemetryEvent[]): Record<string, MetricData> =>
    Object.fromEntries(events.map((e) => [(e.data as MetricData).metric_name, e.data as MetricData]))

  for (const [transport, make] of [
    ['OTLP/HTTP JSON', () => new JsonExporter({ url, headers, temporalityPreference: DELTA })],
    ['OTLP/HTTP protobuf', () => new ProtoExporter({ url, headers, temporalityPreference: DELTA })],
    ['OTLP/gRPC', () => new GrpcExporter({ url: `http://${grpcAddress}`, metadata: withKey(API_KEY), temporalityPreference: DELTA })],
  ] as const) {
    test(`${transport}: gen_ai.* delta points become llm.metric events; other metrics are ignored`, async () => {
      const from = sent().length
      const result = await exportMetrics(make())
      assert.equal(result.code, 0, String(result.error))
      const events = eventsSince(from)
      assert.ok(events.every((e) => e.event_type === 'llm.metric' && e.application_id === 'support-bot' && e.tenant_id === 'acme' && e.source.host === 'pod-7'))
      const metrics = byName(events)
      assert.deepEqual(Object.keys(metrics).sort(), [
        'gen_ai.client.cost',
        'gen_ai.client.operation.duration.count',
        'gen_ai.client.operation.duration.sum',
        'gen_ai.client.token.usage.count',
        'gen_ai.client.token.usage.sum',
      ])
      assert.deepEqual(metrics['gen_ai.client.token.usage.sum'], {
        metric_name: 'gen_ai.client.token.usage.sum',
        value: 200,
        unit: '{token}',
        dimensions: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-0613',
          'gen_ai.token.type': 'input',
          model: 'gpt-4o-0613',
        },
      })
      assert.equal(metrics['gen_ai.client.token.usage.count']!.value, 2)
      assert.equal(metrics['gen_ai.client.token.usage.count']!.unit, undefined, 'a count has no unit')
      assert.equal(metrics['gen_ai.client.operation.duration.sum']!.value, 0.85)
      assert.equal(metrics['gen_ai.client.cost']!.value, 0.12)
      assert.ok(Math.abs(Date.parse(events[0]!.timestamp) - Date.now()) < 60_000, 'at the interval end')
    })
  }

  test('cumulative points are refused in partialSuccess with the setting to change; nothing is written', async () => {
    const body = await captureExport(
      (base) => exportMetrics(new JsonExporter({ url: `${base}/v1/metrics`, temporalityPreference: CUMULATIVE })),
      'application/json',
    )
    const from = sent().length
    const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body })
    assert.equal(res.status, 200)
    const answer = (await res.json()) as MetricsResponse
    assert.equal(answer.partialSuccess?.rejectedDataPoints, 3, JSON.stringify(answer))
    assert.match(
      answer.partialSuccess!.errorMessage!,
      /metric 'gen_ai.client.token.usage': CUMULATIVE temporality; .*OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta/,
    )
    assert.equal(sent().length - from, 0)

    const message = await captureExport((base) => exportMetrics(new ProtoExporter({ url: `${base}/v1/metrics`, temporalityPreference: CUMULATIVE })))
    const overGrpc = await call(grpcAddress, METRICS_EXPORT_PATH, message, withKey(API_KEY))
    assert.equal(overGrpc.error, null)
    const grpcAnswer = decodeResponse<MetricsResponse>('metrics', overGrpc.response!)
    assert.equal(grpcAnswer.partialSuccess?.rejectedDataPoints, '3')
    assert.match(grpcAnswer.partialSuccess!.errorMessage!, /CUMULATIVE temporality/)
    assert.equal(sent().length - from, 0)
  })

  test('the same export again (a retry) is dropped as duplicates, not refused', async () => {
    const body = await captureExport((base) => exportMetrics(new JsonExporter({ url: `${base}/v1/metrics`, temporalityPreference: DELTA })), 'application/json')
    const post = () => fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body })
    const from = sent().length
    assert.equal((await post()).status, 200)
    assert.equal(sent().length - from, 5)
    const again = await post()
    assert.deepEqual(await again.json(), {})
    assert.equal(sent().length - from, 5)
  })

  test('without the API key: 401 over HTTP, UNAUTHENTICATED over gRPC', async () => {
    assert.equal((await exportMetrics(new JsonExporter({ url, temporalityPreference: DELTA }))).code, 1)
    const refused = await call(grpcAddress, METRICS_EXPORT_PATH, Buffer.alloc(0), withKey(null))
    assert.equal(refused.error?.code, grpc.status.UNAUTHENTICATED)
  })

  test('points counted in sentinel_otlp_metric_points_total{outcome}', async () => {
    const text = await it.registry.metrics()
    const value = (outcome: string): number =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`sentinel_otlp_metric_points_total{outcome="${outcome}"}`))
          ?.split(' ')[1],
      )
    assert.ok(value('accepted') >= 12, text)
    assert.ok(value('ignored') >= 6)
    assert.equal(value('refused'), 6)
  })
})
