import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig, parseDetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'
import { runOnTestDriver } from '../../../../apps/sentinel/demo/driver-run.js'
import type { TelemetryEvent } from '../../../../schemas/telemetry/index.js'

const T0 = Date.UTC(2026, 0, 1)
let n = 0
const uuid = (): string => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`

/** One call in seed 001's exact shape: the response has no model, only the request's correlation_id. */
function call(app: string, model: string, at: number, latencyMs: number, status: 'success' | 'error' = 'success'): TelemetryEvent[] {
  const id = `req-${uuid()}`
  const common = { source: { service: 'gw', host: 'h' }, application_id: app, correlation_id: id, metadata: { user_id: 'u-1' } }
  return [
    { ...common, event_id: uuid(), timestamp: new Date(at).toISOString(), event_type: 'llm.request', data: { model, prompt: 'hello' } },
    { ...common, event_id: uuid(), timestamp: new Date(at + latencyMs).toISOString(), event_type: 'llm.response', data: { status, latency_ms: latencyMs, total_tokens: 100, cost: 0.001 } },
  ]
}

const detectors = parseDetectorsConfig(`
detectors:
  - id: model-latency
    type: rule
    strategy: threshold
    groupBy: model
    metric: latency_ms
    condition: greater_than
    value: 5000
  - id: app-errors
    type: rule
    strategy: ratio
    groupBy: application
    severity: critical
    metric: error
    window: 1m
    threshold: 0.2
    minVolume: 5
`)

test('seed-shaped responses (no model) reach the model group through their request\'s correlation_id', async () => {
  const events = [...call('app', 'm-1', T0, 800), ...call('app', 'm-1', T0 + 10_000, 9_000), ...call('app', 'm-2', T0 + 20_000, 700)]
  const { anomalies } = await runOnTestDriver({ detectors, events })
  const latency = anomalies.filter((a) => a.detector_id === 'model-latency')
  assert.deepEqual(latency.map((a) => [a.affected_entity?.id, a.metrics?.observed_value]), [['m-1', 9000]])
})

test('a graded detector\'s anomaly is never below the severity its file gives', async () => {
  // 3 failed of 10: ratio 0.3, 1.5x the threshold, graded warning; the file says critical.
  const events = Array.from({ length: 10 }, (_, i) => call('app', 'm-1', T0 + i * 3000, 500, i < 3 ? 'error' : 'success')).flat()
  events.push(...call('app', 'm-1', T0 + 80_000, 500))
  const { anomalies } = await runOnTestDriver({ detectors, events: events.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp)) })
  const errors = anomalies.filter((a) => a.detector_id === 'app-errors')
  assert.equal(errors.length, 1)
  assert.equal(errors[0]?.severity, 'critical')
})

/** Log-normal latencies from a fixed LCG (Box-Muller): the same noise on every run. */
function latencies(count: number, medianMs: number, sigma: number, seed: number): number[] {
  let state = seed
  const uniform = (): number => ((state = (state * 1664525 + 1013904223) >>> 0) + 0.5) / 4294967296
  return Array.from({ length: count }, () => medianMs * Math.exp(sigma * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())))
}

/** A quiet model (2 calls a minute, log std 0.5) for 100 minutes; calls from `spikeFrom` on take x`factor`. */
function quietModel(factor: number, spikeFrom: number): TelemetryEvent[] {
  const noise = latencies(200, 900, 0.5, 7)
  const events = noise.flatMap((ms, i) => call('app', 'm-quiet', T0 + i * 30_000, i * 30_000 >= spikeFrom ? ms * factor : ms))
  return events.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp))
}

const cusumVerdicts = async (events: TelemetryEvent[]): Promise<number[]> => {
  const { anomalies } = await runOnTestDriver({ detectors: loadDetectorsConfig(DEFAULT_DETECTORS_PATH), events })
  return anomalies.filter((a) => a.detector_id === 'latency-cusum-per-model' && a.affected_entity?.id === 'm-quiet').map((a) => Date.parse(a.timestamp) - T0)
}

test('latency-cusum-per-model: a x4 spike on a model of 2 calls a minute is found within 5 minutes; the same traffic without it raises nothing', async () => {
  const spikeAt = 80 * 60_000
  const found = await cusumVerdicts(quietModel(4, spikeAt))
  assert.ok(found.length >= 1, 'the spike is found')
  assert.ok(found.every((t) => t >= spikeAt), `no verdict before the spike: ${found.join(', ')}`)
  assert.ok((found[0] ?? Infinity) - spikeAt <= 5 * 60_000, `found ${((found[0] ?? 0) - spikeAt) / 1000} s after the start`)
  assert.deepEqual(await cusumVerdicts(quietModel(1, spikeAt)), [])
})
