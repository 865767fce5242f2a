/** The GenAI metric mapping on OTLP JSON-shaped requests: the cases the SDK tests do not make. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { genAiMetricsToTelemetry } from '../../../../../apps/sentinel/otlp/genai-metric-mapping.js'
import type { OtlpMetric, OtlpMetricsRequest } from '../../../../../apps/sentinel/otlp/otlp-metrics-request.js'
import type { MetricData } from '../../../../../schemas/telemetry/index.js'

const T = '1767225600000000000' // 2026-01-01T00:00:00Z
const attrs = (values: Record<string, string>) => Object.entries(values).map(([key, v]) => ({ key, value: { stringValue: v } }))
const request = (metrics: readonly OtlpMetric[], resource: Record<string, string> = { 'service.name': 'bot' }): OtlpMetricsRequest => ({
  resourceMetrics: [{ resource: { attributes: attrs(resource) }, scopeMetrics: [{ metrics }] }],
})

test('a gauge point is taken as is; an exponential histogram without a sum gives its count only', () => {
  const mapped = genAiMetricsToTelemetry(
    request([
      { name: 'gen_ai.server.queue.depth', gauge: { dataPoints: [{ timeUnixNano: T, asInt: '7', attributes: attrs({ 'gen_ai.request.model': 'llama-3' }) }] } },
      { name: 'gen_ai.server.time_per_output_token', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: T, count: '4' }] } },
    ]),
  )
  assert.deepEqual(mapped.rejected, [])
  assert.deepEqual(
    mapped.events.map((e) => [e.event.timestamp, e.point, e.event.data as MetricData]),
    [
      [
        '2026-01-01T00:00:00.000Z',
        0,
        { metric_name: 'gen_ai.server.queue.depth', value: 7, dimensions: { 'gen_ai.request.model': 'llama-3', model: 'llama-3' } },
      ],
      ['2026-01-01T00:00:00.000Z', 1, { metric_name: 'gen_ai.server.time_per_output_token.count', value: 4 }],
    ],
  )
})

test('refused with the reason: unspecified temporality, summaries, no service.name, no time; other metrics ignored', () => {
  const mapped = genAiMetricsToTelemetry(
    request([
      { name: 'gen_ai.client.cost', sum: { dataPoints: [{ timeUnixNano: T, asDouble: 1 }] } },
      { name: 'gen_ai.client.operation.duration', summary: { dataPoints: [{}] } },
      { name: 'gen_ai.client.cost', sum: { aggregationTemporality: 1, dataPoints: [{ asDouble: 1 }] } },
      {
        name: 'process.cpu.time',
        sum: {
          aggregationTemporality: 2,
          dataPoints: [
            { timeUnixNano: T, asDouble: 1 },
            { timeUnixNano: T, asDouble: 2 },
          ],
        },
      },
    ]),
  )
  assert.deepEqual(
    mapped.rejected.map((r) => [r.point, r.message.split(';')[0]]),
    [
      [0, 'unspecified temporality'],
      [1, 'Summary points are not taken (they have no delta form)'],
      [2, 'timeUnixNano is required'],
    ],
  )
  assert.equal(mapped.ignored, 2)
  assert.equal(mapped.points, 5)
  const noService = genAiMetricsToTelemetry(
    request([{ name: 'gen_ai.client.cost', sum: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: T, asDouble: 1 }] } }], {}),
  )
  assert.match(noService.rejected[0]!.message, /service.name/)
})

test('the same point gives the same event ids (a retry); another interval or attribute set another', () => {
  const point = (time: string, type: string): OtlpMetricsRequest =>
    request([
      {
        name: 'gen_ai.client.token.usage',
        histogram: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: time, count: 1, sum: 5, attributes: attrs({ 'gen_ai.token.type': type }) }] },
      },
    ])
  const ids = (r: OtlpMetricsRequest): string[] => genAiMetricsToTelemetry(r).events.map((e) => e.event.event_id)
  assert.deepEqual(ids(point(T, 'input')), ids(point(T, 'input')))
  assert.equal(new Set([...ids(point(T, 'input')), ...ids(point(T, 'output')), ...ids(point('1767225660000000000', 'input'))]).size, 6)
})
