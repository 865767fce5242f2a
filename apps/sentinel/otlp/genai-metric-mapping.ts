/**
 * OpenTelemetry GenAI metrics → `llm.metric` TelemetryEvents (the table is in ../README.md, "OTLP
 * metrics"). A data point is a measurement over an interval, so it becomes one event per number a
 * detector can read, at the interval's end (`timeUnixNano`):
 * - a Sum or Gauge point: `metric_name` the metric's name, `value` the point's value;
 * - a Histogram or ExponentialHistogram point (what the GenAI conventions define:
 *   gen_ai.client.token.usage, gen_ai.client.operation.duration, ...): `<name>.count` (measurements
 *   in the interval) and `<name>.sum` (their total, when the point has one); buckets are not kept.
 * The point's attributes are the event's `dimensions` (scalars as text), with `model` from
 * gen_ai.response.model, else gen_ai.request.model, as detectors group a metric event by it.
 *
 * Only DELTA points are taken: a CUMULATIVE point is a running total since the process started, and
 * turning it into per-interval values would need the previous point of every series kept per
 * instance and lost on restart. Such points are refused with the setting that fixes them. Metrics not
 * named gen_ai.* are not Sentinel's: ignored and counted, never refused. Summary points are refused
 * (they have no delta form).
 *
 * Event ids are UUIDv5 of the point's identity (application, metric, interval, attributes), so an
 * exporter's retry is a duplicate.
 */
import type { MetricData, TelemetryEvent } from '../../../schemas/telemetry/index.js'
import { uuidV5 } from '../alerting/alert-id.js'
import { type Attributes, attributes, eventOrigin, iso, nanos, text } from './otlp-attributes.js'
import {
  type OtlpHistogramDataPoint,
  type OtlpMetric,
  type OtlpMetricsRequest,
  type OtlpNumberDataPoint,
  TEMPORALITY_CUMULATIVE,
  TEMPORALITY_DELTA,
} from './otlp-metrics-request.js'

/** Namespace of the event ids made from metric points (a fixed random UUID). */
const OTLP_METRIC_NAMESPACE = '0d3b7f52-8a61-4c2e-b9f4-5e17a6c3d208'

export const DELTA_TEMPORALITY_FIX =
  "Sentinel takes DELTA temporality only: set OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta (or the exporter's temporalityPreference: 'delta')"

export interface MappedMetricEvent {
  readonly event: TelemetryEvent
  /** Position of the data point in the request, for partial-success counts. */
  readonly point: number
}

export interface PointRejection {
  readonly point: number
  readonly metric: string
  readonly message: string
}

export interface MappedMetrics {
  readonly events: readonly MappedMetricEvent[]
  readonly rejected: readonly PointRejection[]
  /** Data points of metrics not named gen_ai.*: not Sentinel's, not refused. */
  readonly ignored: number
  readonly points: number
}

type Reading = { readonly suffix: string; readonly value: number }

const list = <T>(value: readonly T[] | undefined): readonly T[] => (Array.isArray(value) ? value : [])

function numberValue(point: OtlpNumberDataPoint): number | undefined {
  if (typeof point.asDouble === 'number') return point.asDouble
  if (point.asInt !== undefined) {
    const n = Number(point.asInt)
    return Number.isFinite(n) ? n : undefined
  }
  return undefined
}

function histogramReadings(point: OtlpHistogramDataPoint): Reading[] | string {
  const count = Number(point.count ?? 0)
  if (!Number.isSafeInteger(count) || count < 0) return 'a histogram point needs a count'
  return [{ suffix: '.count', value: count }, ...(typeof point.sum === 'number' && Number.isFinite(point.sum) ? [{ suffix: '.sum', value: point.sum }] : [])]
}

function dimensions(attrs: Attributes): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of attrs) if (!Array.isArray(value)) out[key] = String(value)
  const model = text(['gen_ai.response.model', 'gen_ai.request.model'], attrs)
  if (model !== undefined) out.model = model
  return out
}

function pointEvents(
  name: string,
  unit: string | undefined,
  point: OtlpNumberDataPoint | OtlpHistogramDataPoint,
  readings: readonly Reading[],
  resource: Attributes,
): TelemetryEvent[] | string {
  const attrs = attributes(point.attributes)
  const origin = eventOrigin(attrs, resource)
  if (typeof origin === 'string') return origin
  const time = nanos(point.timeUnixNano)
  if (time === null) return 'timeUnixNano is required'
  const dims = dimensions(attrs)
  const identity = JSON.stringify([
    origin.application_id,
    name,
    String(point.startTimeUnixNano ?? ''),
    String(time),
    Object.entries(dims).sort(([a], [b]) => (a < b ? -1 : 1)),
  ])
  return readings.map(({ suffix, value }) => {
    const data: MetricData = {
      metric_name: `${name}${suffix}`,
      value,
      ...(unit === undefined || suffix === '.count' ? {} : { unit }),
      ...(Object.keys(dims).length === 0 ? {} : { dimensions: dims }),
    }
    return { ...origin, event_id: uuidV5(OTLP_METRIC_NAMESPACE, `${identity}:${suffix}`), timestamp: iso(time), event_type: 'llm.metric', data }
  })
}

const temporalityRefusal = (temporality: number | undefined): string | null =>
  temporality === TEMPORALITY_DELTA ? null : `${temporality === TEMPORALITY_CUMULATIVE ? 'CUMULATIVE' : 'unspecified'} temporality; ${DELTA_TEMPORALITY_FIX}`

/** Every gen_ai.* data point of the request as events; other metrics' points ignored; the unusable refused. */
export function genAiMetricsToTelemetry(request: OtlpMetricsRequest): MappedMetrics {
  const events: MappedMetricEvent[] = []
  const rejected: PointRejection[] = []
  let ignored = 0
  let index = 0
  const take = (
    metric: OtlpMetric,
    name: string,
    resource: Attributes,
    points: readonly (OtlpNumberDataPoint | OtlpHistogramDataPoint)[],
    refusal: string | null,
    readings: (point: never) => Reading[] | string,
  ): void => {
    const unit = typeof metric.unit === 'string' && metric.unit !== '' ? metric.unit : undefined
    for (const point of points) {
      const position = index++
      const values = refusal ?? (typeof point === 'object' && point !== null ? readings(point as never) : 'a data point must be an object')
      const mapped = typeof values === 'string' ? values : pointEvents(name, unit, point, values, resource)
      if (typeof mapped === 'string') rejected.push({ point: position, metric: name.slice(0, 64), message: mapped })
      else for (const event of mapped) events.push({ event, point: position })
    }
  }
  const numberReadings = (point: OtlpNumberDataPoint): Reading[] | string => {
    const value = numberValue(point)
    return value === undefined ? 'a number point needs asDouble or asInt' : [{ suffix: '', value }]
  }
  for (const resourceMetrics of list(request.resourceMetrics)) {
    const resource = attributes(resourceMetrics?.resource?.attributes)
    for (const scopeMetrics of list(resourceMetrics?.scopeMetrics)) {
      for (const metric of list(scopeMetrics?.metrics)) {
        if (typeof metric !== 'object' || metric === null) continue
        const name = typeof metric.name === 'string' ? metric.name : ''
        if (!name.startsWith('gen_ai.')) {
          const points = [metric.gauge, metric.sum, metric.histogram, metric.exponentialHistogram, metric.summary].reduce(
            (n, data) => n + list(data?.dataPoints).length,
            0,
          )
          ignored += points
          index += points
          continue
        }
        if (metric.gauge !== undefined) take(metric, name, resource, list(metric.gauge.dataPoints), null, numberReadings)
        if (metric.sum !== undefined)
          take(metric, name, resource, list(metric.sum.dataPoints), temporalityRefusal(metric.sum.aggregationTemporality), numberReadings)
        for (const histogram of [metric.histogram, metric.exponentialHistogram]) {
          if (histogram !== undefined)
            take(metric, name, resource, list(histogram.dataPoints), temporalityRefusal(histogram.aggregationTemporality), histogramReadings)
        }
        if (metric.summary !== undefined)
          take(
            metric,
            name,
            resource,
            list(metric.summary.dataPoints) as readonly OtlpNumberDataPoint[],
            'Summary points are not taken (they have no delta form); record a histogram',
            numberReadings,
          )
      }
    }
  }
  return { events, rejected, ignored, points: index }
}
