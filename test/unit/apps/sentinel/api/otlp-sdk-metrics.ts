/** GenAI metrics recorded and exported by OpenTelemetry's own metrics SDK, for the OTLP metrics receiver tests. */
import type { Meter } from '@opentelemetry/api'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, MetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics'

/** Collects only when asked: one export per test, with the exporter's temporality. */
class CollectOnDemand extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * What an instrumented chat client records in one interval (GenAI semantic conventions): two calls'
 * token usage and one duration (histograms), a cost counter, and an HTTP metric that is not Sentinel's.
 */
export function recordChatCalls(meter: Meter): void {
  const call = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-0613' }
  const tokens = meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}' })
  tokens.record(120, { ...call, 'gen_ai.token.type': 'input' })
  tokens.record(80, { ...call, 'gen_ai.token.type': 'input' })
  meter.createHistogram('gen_ai.client.operation.duration', { unit: 's' }).record(0.85, call)
  meter.createCounter('gen_ai.client.cost', { unit: 'USD' }).add(0.12, call)
  meter.createCounter('http.client.request.count').add(3, { 'http.request.method': 'POST' })
}

/** Records with `record`, collects once and exports through `exporter`; the SDK's ExportResult. */
export async function exportMetrics(
  exporter: PushMetricExporter,
  record: (meter: Meter) => void = recordChatCalls,
  resource: Record<string, string> = { 'service.name': 'support-bot', 'host.name': 'pod-7', 'tenant.id': 'acme' },
): Promise<{ code: number; error?: Error }> {
  const reader = new CollectOnDemand({ aggregationTemporalitySelector: (type) => exporter.selectAggregationTemporality!(type) })
  const provider = new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader] })
  record(provider.getMeter('genai-client'))
  const { resourceMetrics } = await reader.collect()
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(resourceMetrics, resolve))
  await provider.shutdown()
  await exporter.shutdown()
  return result
}
