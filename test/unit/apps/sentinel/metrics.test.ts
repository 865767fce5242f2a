import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { TelemetryEvent } from '../../../../schemas/telemetry/index.js'
import { groupKey, isMetricRef, metricValue, telemetryMetrics } from '../../../../apps/sentinel/metrics.js'

const base = {
  event_id: '550e8400-e29b-41d4-a716-446655440000',
  timestamp: '2025-11-06T12:34:56.789Z',
  source: { service: 'llm-observatory', host: 'obs-worker-01' },
  application_id: 'chatbot-prod',
  tenant_id: 'acme-corp',
  metadata: { user_id: 'user-456' },
}
const response = (data: Partial<Extract<TelemetryEvent['data'], { latency_ms: number }>>, event_type: TelemetryEvent['event_type'] = 'llm.response'): TelemetryEvent => ({
  ...base,
  event_type,
  data: { status: 'success', latency_ms: 2000, ...data },
})

describe('telemetryMetrics', () => {
  test('a response: latency, tokens, generation speed, cost, success', () => {
    const m = telemetryMetrics(response({ completion_tokens: 100, total_tokens: 250, cost: 0.05, model: 'gpt-4' }))
    assert.deepEqual(m, {
      latency_ms: 2000,
      success_latency_ms: 2000,
      log_latency_ms: Math.log(2000),
      prompt_tokens: null,
      completion_tokens: 100,
      total_tokens: 250,
      log_total_tokens: Math.log(250),
      tokens_per_second: 50,
      cost: 0.05,
      error: 0,
      request_count: 0,
      response_count: 1,
      prompt_chars: null,
      custom: null,
    })
  })

  test('total tokens from prompt + completion when not given; speed from total when completion is missing', () => {
    assert.equal(telemetryMetrics(response({ prompt_tokens: 30, completion_tokens: 70 })).total_tokens, 100)
    assert.equal(telemetryMetrics(response({ prompt_tokens: 30 })).total_tokens, null)
    assert.equal(telemetryMetrics(response({ total_tokens: 500, latency_ms: 250 })).tokens_per_second, 2000)
  })

  test('no tokens per second without latency > 0 or tokens', () => {
    assert.equal(telemetryMetrics(response({ completion_tokens: 10, latency_ms: 0 })).tokens_per_second, null)
    assert.equal(telemetryMetrics(response({})).tokens_per_second, null)
  })

  test('errors: llm.error events and responses with status error or timeout', () => {
    assert.equal(telemetryMetrics(response({ status: 'error' })).error, 1)
    assert.equal(telemetryMetrics(response({ status: 'timeout' })).error, 1)
    assert.equal(telemetryMetrics(response({ status: 'success' }, 'llm.error')).error, 1)
    assert.equal(telemetryMetrics(response({ status: 'success' }, 'llm.error')).response_count, 1)
    // A trace carrying a response payload is neither a new outcome nor a request.
    assert.equal(telemetryMetrics(response({}, 'llm.trace')).response_count, 0)
  })

  test('a request: counted once, with its prompt tokens and length', () => {
    const m = telemetryMetrics({ ...base, event_type: 'llm.request', data: { model: 'gpt-4', prompt: 'x'.repeat(1200), prompt_tokens: 300 } })
    assert.equal(m.request_count, 1)
    assert.equal(m.response_count, 0)
    assert.equal(m.prompt_tokens, 300)
    assert.equal(m.prompt_chars, 1200)
    assert.equal(m.latency_ms, null)
    assert.equal(m.error, null)
  })

  test('a metric event: only its custom metric, read with metric:<name>', () => {
    const m = telemetryMetrics({ ...base, event_type: 'llm.metric', data: { metric_name: 'queue_depth', value: 7 } })
    assert.equal(metricValue(m, 'metric:queue_depth'), 7)
    assert.equal(metricValue(m, 'metric:other'), null)
    assert.equal(metricValue(m, 'latency_ms'), null)
    assert.equal(metricValue(m, 'request_count'), 0)
  })

  test('metric names', () => {
    assert.equal(isMetricRef('latency_ms'), true)
    assert.equal(isMetricRef('metric:rps'), true)
    assert.equal(isMetricRef('metric:'), false)
    assert.equal(isMetricRef('latency'), false)
  })
})

describe('groupKey', () => {
  test('application, model (payload or metric dimension), user, tenant; null when absent', () => {
    const ev = response({ model: 'gpt-4' })
    assert.equal(groupKey(ev, 'application'), 'chatbot-prod')
    assert.equal(groupKey(ev, 'model'), 'gpt-4')
    assert.equal(groupKey(ev, 'user'), 'user-456')
    assert.equal(groupKey(ev, 'tenant'), 'acme-corp')
    assert.equal(groupKey(response({}), 'model'), null)
    assert.equal(groupKey({ ...ev, metadata: {} }, 'user'), null)
    assert.equal(groupKey({ ...base, event_type: 'llm.metric', data: { metric_name: 'rps', value: 1, dimensions: { model: 'claude' } } }, 'model'), 'claude')
  })
})
