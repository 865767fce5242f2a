/**
 * OpenTelemetry in, anomalies out, on the real broker: the OpenTelemetry SDK (BatchSpanProcessor and
 * the OTLP/HTTP protobuf exporter, as an instrumented LLM application runs them) sends GenAI spans
 * to the running app's POST /v1/traces; they become TelemetryEvents on the telemetry topic, and a
 * burst of failed calls (span status ERROR) becomes an `error-rate-burst` anomaly of the shipped
 * detectors, for the application named by the resource's service.name; the closed minute's
 * MetricsAggregation records reach their topic. The app's OTLP/gRPC receiver (sentinel.otlp.grpcPort)
 * takes another application's span and GenAI metrics (delta) from the SDK's gRPC exporters on the
 * same run.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { SpanStatusCode } from '@opentelemetry/api'
import { Metadata } from '@grpc/grpc-js'
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc'
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
import pino from 'pino'
import { Registry } from 'prom-client'
import { buildSentinelAppTopology, loadSentinelApp, startSentinelServices, type SentinelServices } from '../../../../apps/sentinel/sentinel-app.js'
import { SentinelStreams } from '../../../../runtime/kafka/sentinel-streams.js'
import type { MetricsAggregation } from '../../../../apps/sentinel/metrics-aggregation.js'
import type { TelemetryEvent } from '../../../../schemas/telemetry/index.js'
import { exportMetrics } from '../../../unit/apps/sentinel/api/otlp-sdk-metrics.js'
import { kafkaBrokers, readTextValues, testKafka, uniqueTopic } from '../../../kafka.js'
import { createSentinelTopics, eventually, freePort } from './sentinel-fixtures.js'

const API_KEY = 'otlp-ingest-api-key-0123456789ab'
const MINUTE = 60_000

test('OpenTelemetry SDK spans reach the app over OTLP/HTTP and OTLP/gRPC and become telemetry and an anomaly', { timeout: 240_000 }, async () => {
  const kafka = testKafka()
  const admin = kafka.admin()
  await admin.connect()
  const topics = await createSentinelTopics(admin, 'otlp', 2)
  const applicationId = uniqueTopic('otlp-sentinel')
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-otlp-'))
  const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'silent' })
  const metrics = new Registry()
  const port = await freePort()
  const applicationServer = `127.0.0.1:${port}`
  const app = loadSentinelApp(
    {
      applicationId,
      applicationServer,
      sentinel: { topics, api: { host: '127.0.0.1', apiKeys: [API_KEY] }, aggregations: { window: '1m', grace: '10s' }, otlp: { grpcPort: 0 } },
    },
    // SENTINEL_API_INGEST_THREAD=true runs this test with the HTTP edge in a worker (OTLP/HTTP forwarded to the main thread).
    { SENTINEL_API_INGEST_THREAD: process.env.SENTINEL_API_INGEST_THREAD },
  )
  const streams = new SentinelStreams(
    buildSentinelAppTopology(app, { metrics, logger }),
    { applicationId, applicationServer, brokers: kafkaBrokers(), stateDir: join(dir, 'state'), commitIntervalMs: 200 },
    { logger, metrics },
  )
  let services: SentinelServices | undefined
  try {
    await streams.start()
    services = await startSentinelServices(app, { runtime: streams, logger, metrics })
    await streams.waitForState('running')

    // An instrumented application: 24 chat calls in one minute, 12 of them failing (the provider's
    // 5xx), then one successful call two minutes later whose event time closes that minute's window.
    const exporter = new OTLPTraceExporter({ url: `http://${applicationServer}/v1/traces`, headers: { Authorization: `Bearer ${API_KEY}` } })
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'otel-support-bot', 'host.name': 'pod-3', 'tenant.id': 'acme' }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    })
    const tracer = provider.getTracer('llm-client')
    const minute = Math.floor((Date.now() - 4 * MINUTE) / MINUTE) * MINUTE
    const call = (start: number, failed: boolean): void => {
      const span = tracer.startSpan('chat gpt-4o', {
        startTime: start,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': 300,
          'gen_ai.usage.output_tokens': failed ? 0 : 120,
          'user.id': `user-${start % 7}`,
        },
      })
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: 'provider answered 503' })
      span.end(start + 900)
    }
    for (let i = 0; i < 24; i++) call(minute + 1000 + i * 2000, i % 2 === 0)
    call(minute + 2 * MINUTE + 5000, false)
    await provider.forceFlush()
    await provider.shutdown()

    // Another application over gRPC, with its key in the metadata (OTEL_EXPORTER_OTLP_HEADERS).
    assert.match(services.otlpGrpcAddress ?? '', /^127\.0\.0\.1:\d+$/)
    const metadata = new Metadata()
    metadata.set('authorization', `Bearer ${API_KEY}`)
    const grpcProvider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'otel-grpc-bot', 'host.name': 'pod-4' }),
      spanProcessors: [new BatchSpanProcessor(new GrpcTraceExporter({ url: `http://${services.otlpGrpcAddress}`, metadata }))],
    })
    grpcProvider
      .getTracer('llm-client')
      .startSpan('chat gpt-4o-mini', {
        startTime: minute + MINUTE,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.usage.input_tokens': 10,
          'gen_ai.usage.output_tokens': 5,
        },
      })
      .end(minute + MINUTE + 400)
    await grpcProvider.forceFlush()
    await grpcProvider.shutdown()

    // Its GenAI metrics over gRPC too: delta points become llm.metric events (5 readings).
    const exported = await exportMetrics(
      new GrpcMetricExporter({ url: `http://${services.otlpGrpcAddress}`, metadata, temporalityPreference: AggregationTemporalityPreference.DELTA }),
      undefined,
      { 'service.name': 'otel-grpc-bot', 'host.name': 'pod-4' },
    )
    assert.equal(exported.code, 0, String(exported.error))

    // On the topic: two events per span (request and outcome), the failures as llm.error.
    const written = (await readTextValues(topics.telemetry, 57)).map((v) => JSON.parse(v) as TelemetryEvent)
    assert.equal(written.length, 57)
    const overHttp = written.filter((e) => e.application_id === 'otel-support-bot')
    assert.equal(overHttp.length, 50)
    assert.equal(overHttp.filter((e) => e.event_type === 'llm.error').length, 12)
    assert.ok(overHttp.every((e) => e.tenant_id === 'acme'))
    assert.deepEqual(
      written
        .filter((e) => e.application_id === 'otel-grpc-bot')
        .map((e) => [e.event_type, e.source.host])
        .sort(),
      [...Array.from({ length: 5 }, () => ['llm.metric', 'pod-4']), ['llm.request', 'pod-4'], ['llm.response', 'pod-4']],
    )

    const anomaly = await eventually(
      'the error-rate-burst anomaly',
      async () => {
        const res = await fetch(`http://${applicationServer}/api/v1/anomalies?detector_id=error-rate-burst`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        })
        const items = ((await res.json()) as { items?: { anomaly: { application_id: string; detector_id: string; timestamp: string } }[] }).items ?? []
        return items[0]?.anomaly
      },
      90_000,
    )
    assert.equal(anomaly.application_id, 'otel-support-bot')
    // The closed minute's MetricsAggregation records on their own topic: 24 calls, half failed.
    const aggregations = (await readTextValues(topics.aggregations, 6)).map((v) => JSON.parse(v) as MetricsAggregation)
    const calls = aggregations.find((a) => a.metric_name === 'calls' && a.timestamp === new Date(minute).toISOString())
    assert.deepEqual([calls?.value, calls?.dimensions], [24, { application_id: 'otel-support-bot', model: 'gpt-4o', tenant_id: 'acme' }])
    assert.equal(aggregations.find((a) => a.metric_name === 'error_rate' && a.timestamp === calls?.timestamp)?.value, 0.5)
    assert.equal(aggregations.find((a) => a.metric_name === 'latency_ms' && a.aggregation === 'max' && a.timestamp === calls?.timestamp)?.value, 900)
    const exposition = await metrics.metrics()
    assert.match(exposition, /sentinel_ingestion_throughput\{protocol="otlp_http"\} 50/)
    assert.match(exposition, /sentinel_ingestion_throughput\{protocol="otlp_grpc"\} 7/)
    assert.match(exposition, /sentinel_otlp_metric_points_total\{outcome="accepted"\} 3/)
  } finally {
    await services?.close()
    await streams.close()
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined)
    await admin.disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
})
