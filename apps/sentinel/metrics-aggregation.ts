/**
 * MetricsAggregation (seed 001's schema): per application and model and tumbling window, the
 * figures dashboards chart, written to their own topic (`topics.aggregations`) when the window
 * closes. One record per metric and aggregation:
 *
 * | metric_name | aggregation | unit | from the window's outcome events (llm.response / llm.error) |
 * |---|---|---|---|
 * | calls | count | calls | how many |
 * | error_rate | avg | ratio | failed / calls |
 * | latency_ms | avg, p95, max | ms | latency_ms (p95 from log buckets 2% wide: within 2% of the true p95) |
 * | total_tokens | sum | tokens | total_tokens (omitted when no event carries it) |
 * | cost | sum | USD | cost (omitted when no event carries it) |
 *
 * dimensions: `application_id`, `model` (absent for calls whose event names no model), `tenant_id`
 * when every call of the group named the same one. metadata.sample_count is the number of calls;
 * completeness is null (Sentinel cannot know how many calls were never reported).
 *
 * Keyed by application and model, so one group's windows are in order on one partition. Events
 * are grouped as they arrive (no request-model join: seed-shaped responses without a model are
 * counted under their application without a model).
 */
import type avro from 'avsc'
import { RegistryAvroSerde, type RegistryAvroSerdeOptions } from '../../schemas/registry/registry-avro-serde.js'
import { Serdes } from '../../schemas/index.js'
import type { Serde } from '../../schemas/serde.js'
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import { type KStream, Suppressed, TimeWindows } from '../../topology/index.js'
import { eventModel, telemetryMetrics } from './metrics.js'

export const AGGREGATIONS = ['avg', 'sum', 'min', 'max', 'count', 'p50', 'p95', 'p99'] as const
export type Aggregation = (typeof AGGREGATIONS)[number]

export interface MetricsAggregation {
  readonly metric_name: string
  /** Start of the window, ISO-8601. */
  readonly timestamp: string
  /** e.g. `5m`. */
  readonly window_duration: string
  readonly aggregation: Aggregation
  readonly value: number
  readonly unit: string | null
  readonly dimensions: Readonly<Record<string, string>>
  readonly metadata: { readonly sample_count: number | null; readonly completeness: number | null } | null
}

/** The Avro form, for the Schema Registry (registered under the aggregations topic's subject at start). */
export const metricsAggregationSchema: avro.Schema = {
  type: 'record',
  name: 'MetricsAggregation',
  namespace: 'sentinel.metrics',
  doc: 'An aggregated metric of one window (LLM-Sentinel MetricsAggregation, seed 001).',
  fields: [
    { name: 'metric_name', type: 'string' },
    { name: 'timestamp', type: 'string', doc: 'Start of the aggregation window, ISO-8601.' },
    { name: 'window_duration', type: 'string', doc: 'Like 5m: [0-9]+(s|m|h|d).' },
    {
      name: 'aggregation',
      type: 'string',
      doc: 'avg | sum | min | max | count | p50 | p95 | p99 (a string, so a new aggregation does not break old readers).',
    },
    { name: 'value', type: 'double' },
    { name: 'unit', type: ['null', 'string'], default: null },
    { name: 'dimensions', type: { type: 'map', values: 'string' }, doc: 'Grouping dimensions: application_id, model, tenant_id, ...' },
    {
      name: 'metadata',
      type: [
        'null',
        {
          type: 'record',
          name: 'AggregationMetadata',
          fields: [
            { name: 'sample_count', type: ['null', 'long'], default: null },
            { name: 'completeness', type: ['null', 'double'], default: null },
          ],
        },
      ],
      default: null,
    },
  ],
}

export const metricsAggregationJsonSerde = (): Serde<MetricsAggregation> => Serdes.json<MetricsAggregation>({ name: 'json(MetricsAggregation)' })

export function metricsAggregationRegistrySerde(options: Omit<RegistryAvroSerdeOptions, 'schema'>): RegistryAvroSerde<MetricsAggregation> {
  return new RegistryAvroSerde<MetricsAggregation>({ ...options, schema: metricsAggregationSchema })
}

/** Latency buckets: bucket i holds values in [GROWTH^i, GROWTH^(i+1)). */
const GROWTH = 1.02
const LOG_GROWTH = Math.log(GROWTH)

/** What a window accumulates for one group (JSON in the window store). */
export interface CallsAccumulator {
  calls: number
  errors: number
  latencySum: number
  latencyCount: number
  latencyMax: number
  /** Log bucket index → count (sparse: a few dozen buckets cover 1 ms to 10 min). */
  latencyBuckets: Record<string, number>
  tokens: number | null
  cost: number | null
  /** The one tenant of the group's calls; '' once two differ; null before any. */
  tenant: string | null
}

export const emptyAccumulator = (): CallsAccumulator => ({
  calls: 0,
  errors: 0,
  latencySum: 0,
  latencyCount: 0,
  latencyMax: 0,
  latencyBuckets: {},
  tokens: null,
  cost: null,
  tenant: null,
})

export function accumulate(acc: CallsAccumulator, event: TelemetryEvent): CallsAccumulator {
  const m = telemetryMetrics(event)
  if (m.response_count !== 1) return acc
  acc.calls += 1
  if (m.error === 1) acc.errors += 1
  if (m.latency_ms !== null && Number.isFinite(m.latency_ms)) {
    acc.latencySum += m.latency_ms
    acc.latencyCount += 1
    acc.latencyMax = Math.max(acc.latencyMax, m.latency_ms)
    const bucket = m.latency_ms < 1 ? -1 : Math.floor(Math.log(m.latency_ms) / LOG_GROWTH)
    acc.latencyBuckets[bucket] = (acc.latencyBuckets[bucket] ?? 0) + 1
  }
  if (m.total_tokens !== null) acc.tokens = (acc.tokens ?? 0) + m.total_tokens
  if (m.cost !== null) acc.cost = (acc.cost ?? 0) + m.cost
  const tenant = event.tenant_id ?? ''
  acc.tenant = acc.tenant === null ? tenant : acc.tenant === tenant ? tenant : ''
  return acc
}

/** The q-quantile of the bucketed latencies: the geometric middle of the bucket holding it. */
export function bucketQuantile(buckets: Readonly<Record<string, number>>, count: number, q: number): number {
  const rank = Math.ceil(q * count)
  let seen = 0
  for (const [bucket, n] of Object.entries(buckets)
    .map(([b, n]) => [Number(b), n] as const)
    .sort((a, b) => a[0] - b[0])) {
    seen += n
    if (seen >= rank) return bucket < 0 ? 0.5 : GROWTH ** (bucket + 0.5)
  }
  return 0
}

function durationText(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`
  return `${Math.round(ms / 1000)}s`
}

/** The records of one closed window of one group. */
export function aggregationsOf(application: string, model: string | null, windowStart: number, windowMs: number, acc: CallsAccumulator): MetricsAggregation[] {
  if (acc.calls === 0) return []
  const dimensions: Record<string, string> = {
    application_id: application,
    ...(model === null ? {} : { model }),
    ...(acc.tenant ? { tenant_id: acc.tenant } : {}),
  }
  const base = {
    timestamp: new Date(windowStart).toISOString(),
    window_duration: durationText(windowMs),
    dimensions,
    metadata: { sample_count: acc.calls, completeness: null },
  }
  const out: MetricsAggregation[] = [
    { ...base, metric_name: 'calls', aggregation: 'count', value: acc.calls, unit: 'calls' },
    { ...base, metric_name: 'error_rate', aggregation: 'avg', value: acc.errors / acc.calls, unit: 'ratio' },
  ]
  if (acc.latencyCount > 0) {
    out.push(
      { ...base, metric_name: 'latency_ms', aggregation: 'avg', value: acc.latencySum / acc.latencyCount, unit: 'ms' },
      {
        ...base,
        metric_name: 'latency_ms',
        aggregation: 'p95',
        value: Math.min(bucketQuantile(acc.latencyBuckets, acc.latencyCount, 0.95), acc.latencyMax),
        unit: 'ms',
      },
      { ...base, metric_name: 'latency_ms', aggregation: 'max', value: acc.latencyMax, unit: 'ms' },
    )
  }
  if (acc.tokens !== null) out.push({ ...base, metric_name: 'total_tokens', aggregation: 'sum', value: acc.tokens, unit: 'tokens' })
  if (acc.cost !== null) out.push({ ...base, metric_name: 'cost', aggregation: 'sum', value: acc.cost, unit: 'USD' })
  return out
}

export interface MetricsAggregationOptions {
  readonly topic: string
  readonly serde: Serde<MetricsAggregation>
  readonly windowMs: number
  readonly graceMs: number
  /** The telemetry serde of the repartition by group (the topology's input format is not required here). */
  readonly telemetrySerde: Serde<TelemetryEvent>
  /** Told each closed window of a group (with calls), e.g. for `sentinel_model_performance_score`. */
  readonly onWindowClosed?: (application: string, model: string | null, acc: CallsAccumulator) => void
}

/** Key of a group: application and model as a JSON pair, so no two pairs collide. */
const groupKey = (event: TelemetryEvent): string => {
  const model = eventModel(event)
  return JSON.stringify([event.application_id, model])
}

/** Adds the per application/model window aggregation of `telemetry` to the topology. */
export function addMetricsAggregation(telemetry: KStream<string | null, TelemetryEvent>, options: MetricsAggregationOptions): void {
  telemetry
    .filter((_k, event) => event.event_type === 'llm.response' || event.event_type === 'llm.error', { name: 'aggregation-outcomes' })
    .selectKey((_k, event) => groupKey(event), { name: 'aggregation-key-by-application-model' })
    .groupByKey({ key: Serdes.string(), value: options.telemetrySerde })
    .windowedBy(TimeWindows.tumbling(options.windowMs, { graceMs: options.graceMs }))
    .aggregate<CallsAccumulator>(emptyAccumulator, (_key, event, acc) => accumulate({ ...acc, latencyBuckets: { ...acc.latencyBuckets } }, event), {
      name: 'aggregation-window',
      value: Serdes.json<CallsAccumulator>(),
    })
    .suppress(Suppressed.untilWindowCloses({ name: 'aggregation-final' }))
    .toStream({ name: 'aggregation-closed' })
    .flatMap(
      (windowed, acc): [string, MetricsAggregation][] => {
        const [application, model] = JSON.parse(windowed.key) as [string, string | null]
        if (acc.calls > 0) options.onWindowClosed?.(application, model, acc)
        return aggregationsOf(application, model, windowed.window.start, options.windowMs, acc).map((record) => [windowed.key, record])
      },
      { name: 'aggregation-records' },
    )
    .to(options.topic, { key: Serdes.string(), value: options.serde, name: 'aggregations-to-topic' })
}
