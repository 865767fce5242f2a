/** Shared fixtures of the API unit tests: a small detection topology with the anomaly view, on a driver. */
import { Registry } from 'prom-client'
import { addAnomalyView } from '../../../../../apps/sentinel/anomaly-view.js'
import { buildSentinelApi, type SentinelApiOptions } from '../../../../../apps/sentinel/api/index.js'
import { type DetectorsConfig, parseDetectorsConfig } from '../../../../../apps/sentinel/detectors-config.js'
import { addSentinelDetection } from '../../../../../apps/sentinel/topology.js'
import { TopologyTestDriver, type TestInputTopic } from '../../../../../runtime/testing/index.js'
import { type AnomalyEvent, createAnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../../schemas/index.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../../../schemas/telemetry/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'
import { DriverRuntime } from './driver-runtime.js'

export const T0 = Date.UTC(2026, 0, 1)
export const MINUTE = 60_000
export const API_KEY = 'test-key-0123456789abcdef'
export const OTHER_KEY = 'other-key-0123456789abcdef'

export const DETECTORS_YAML = `
detectors:
  - id: latency-z
    type: statistical
    strategy: zscore
    groupBy: application
    metric: latency_ms
    aggregate: mean
    window: 1m
    threshold: 3
    direction: up
    baselineWindows: 10
    minHistory: 3
  - id: latency-ewma
    type: statistical
    strategy: ewma
    groupBy: application
    metric: latency_ms
    window: 1m
    threshold: 0.5
    alpha: 0.3
    minHistory: 3
  - id: latency-p95
    type: statistical
    strategy: percentile
    groupBy: application
    metric: latency_ms
    window: 1m
    percentile: 0.95
    threshold: 5000
  - id: cost-rule
    type: rule
    strategy: threshold
    groupBy: application
    metric: cost
    threshold: 1
  - id: retired
    type: statistical
    strategy: zscore
    groupBy: model
    metric: latency_ms
    window: 1m
    threshold: 3
    enabled: false
`

/** The value of an unlabelled gauge (a config version gauge), undefined when it is not registered. */
export const gaugeValue = async (registry: Registry, name: string): Promise<number | undefined> => (await registry.getSingleMetric(name)?.get())?.values[0]?.value

/** API options of a test: no rate limit, no logs, its own metrics, the clock at T0. */
export const quietApi = () => ({ bodyLimit: 64 * 1024, rateLimit: false as const, metrics: new Registry(), logger: false as const, now: () => T0 })

export const detectors = (): DetectorsConfig => parseDetectorsConfig(DETECTORS_YAML, 'test-detectors.yaml')

let seq = 0
export function uuid(): string {
  seq += 1
  return `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`
}

export function response(app: string, at: number, latency_ms: number, extra: Partial<TelemetryEvent> = {}): TelemetryEvent {
  return {
    event_id: uuid(),
    timestamp: new Date(at).toISOString(),
    source: { service: 'llm-observatory', host: 'obs-1' },
    event_type: 'llm.response',
    application_id: app,
    data: { status: 'success', latency_ms, model: 'gpt-4', completion_tokens: 50, total_tokens: 120, cost: 0.01 },
    ...extra,
  }
}

export function anomaly(id: string, at: number, overrides: Partial<AnomalyEvent> = {}): AnomalyEvent {
  return createAnomalyEvent({ anomaly_id: id, timestamp: new Date(at).toISOString(), detector_id: 'latency-z', severity: 'warning', score: 0.6, application_id: 'chatbot', title: `anomaly ${id}`, ...overrides })
}

export interface Instance {
  readonly driver: TopologyTestDriver
  readonly runtime: DriverRuntime
  readonly api: ReturnType<typeof buildSentinelApi>
  readonly registry: Registry
  /** Anomalies piped straight into the view (besides the detectors' own). */
  readonly anomalies: TestInputTopic<string, AnomalyEvent>
  readonly telemetry: TestInputTopic<string | null, TelemetryEvent>
}

export const TOPICS = { telemetryTopic: 'llm-telemetry', acksTopic: 'anomaly-acks', feedbackTopic: 'anomaly-feedback' } as const

/** A driver running the test detectors + the anomaly view, a DriverRuntime over it and an API. */
export async function startInstance(api: Partial<SentinelApiOptions> = {}, view: Parameters<typeof addAnomalyView>[2] = {}): Promise<Instance> {
  const config = detectors()
  const builder = new StreamsBuilder()
  const detections = addSentinelDetection(builder, { detectors: config, inputTopic: TOPICS.telemetryTopic })
  let anomalies = builder.stream('test-anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  for (const stream of detections.values()) anomalies = anomalies.merge(stream)
  addAnomalyView(builder, anomalies, { acksTopic: TOPICS.acksTopic, feedbackTopic: TOPICS.feedbackTopic, ...view })
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'sentinel-api-test', errorPolicy: 'dlq' })
  const runtime = new DriverRuntime(driver, new Set([TOPICS.telemetryTopic, TOPICS.acksTopic, TOPICS.feedbackTopic]))
  const registry = new Registry()
  // The API's clock stands at T0, where the fixtures' events are: they are neither ahead nor behind.
  const app = buildSentinelApi({ runtime, detectors: config, ...TOPICS, bodyLimit: 64 * 1024, rateLimit: false, metrics: registry, logger: false, now: () => T0, ...api })
  return {
    driver,
    runtime,
    api: app,
    registry,
    anomalies: driver.createInputTopic('test-anomalies', Serdes.string(), Serdes.json<AnomalyEvent>()),
    telemetry: driver.createInputTopic(TOPICS.telemetryTopic, Serdes.nullable(Serdes.string()), telemetryJsonSerde()),
  }
}

export async function stopInstance(instance: Instance): Promise<void> {
  await instance.api.close()
  await instance.driver.close()
}

/** Mean latencies per minute window for `app`, then one event past the last window's close. */
export async function feedLatencyWindows(instance: Instance, app: string, means: readonly number[], start = T0): Promise<void> {
  for (const [i, latency] of means.entries()) await instance.telemetry.pipe(app, response(app, start + i * MINUTE + 1000, latency))
  // Closes the last window (grace 0): stream time reaches its end. This event opens the next window.
  await instance.telemetry.pipe(app, response(app, start + means.length * MINUTE + 1000, means.at(-1) ?? 0))
}
