/** Spans made and exported by OpenTelemetry's own SDK, for the OTLP receiver tests (HTTP and gRPC). */
import { SpanStatusCode } from '@opentelemetry/api'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'

export type Exporter = SpanExporter & { shutdown(): Promise<void> }

export interface SpanSpec {
  readonly name: string
  readonly attributes: Record<string, string | number | string[]>
  readonly durationMs: number
  readonly error?: string
}

/** Ends each span `durationMs` after its start, a second apart, all in the last minute; one export request (batched). */
export async function exportSpans(
  exporter: Exporter,
  specs: readonly SpanSpec[],
  resource: Record<string, string> = {
    'service.name': 'support-bot',
    'service.version': '2.1.0',
    'host.name': 'pod-7',
    'deployment.environment.name': 'production',
    'tenant.id': 'acme',
  },
): Promise<void> {
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(resource), spanProcessors: [new BatchSpanProcessor(exporter)] })
  const tracer = provider.getTracer('otlp-test')
  const base = Date.now() - 60_000
  for (const [i, spec] of specs.entries()) {
    const start = base + i * 1000
    const span = tracer.startSpan(spec.name, { attributes: spec.attributes, startTime: start })
    if (spec.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: spec.error })
    span.end(start + spec.durationMs)
  }
  await provider.forceFlush()
  await provider.shutdown()
}

export const chat = (
  model: string,
  input: number,
  output: number,
  extra: Record<string, string | number | string[]> = {},
): Record<string, string | number | string[]> => ({
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': model,
  'gen_ai.response.model': `${model}-0613`,
  'gen_ai.usage.input_tokens': input,
  'gen_ai.usage.output_tokens': output,
  'gen_ai.response.finish_reasons': ['stop'],
  'gen_ai.request.temperature': 0.2,
  'user.id': 'user-42',
  ...extra,
})

/** One GenAI span exported by `exporter` directly, its ExportResult to `done` (an SDK processor would hide it). */
export async function exportSpansVia(exporter: Exporter, done: (result: { code: number; error?: Error }) => void): Promise<void> {
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'support-bot' }) })
  const span = provider.getTracer('otlp-test').startSpan('chat', { attributes: chat('gpt-4o', 1, 1) })
  span.end()
  exporter.export([span as never], done)
}
