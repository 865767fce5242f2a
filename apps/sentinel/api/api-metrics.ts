/**
 * The Prometheus metrics the API owns (seed 001's names where they exist):
 *
 * - `sentinel_telemetry_events_total{application,type}`: telemetry events accepted by the API, `type`
 *   the event type without its `llm.` prefix (request, response, error, metric, trace) as the seed
 *   writes it;
 * - `sentinel_ingestion_throughput{protocol}`: events ingested (http, otlp_http, otlp_grpc; kafka from the topology), a counter. The seed names it
 *   as a gauge-like "throughput", but a gauge of a rate would need a clock inside the process and
 *   lose data between scrapes; a counter with the seed's name serves the seed's dashboards through
 *   `rate(sentinel_ingestion_throughput[1m])`, and every ingest path adds its
 *   `protocol` to the same series. (No `_total` suffix: the seed's name is kept as written.)
 * - `sentinel_http_request_duration_seconds{method,route,status_code}`: a histogram per route
 *   pattern (not per URL, so anomaly ids do not explode the label set).
 * - `sentinel_telemetry_events_rejected_total{reason}`: events refused at the edge, `reason` one of
 *   invalid, too_far_ahead, too_far_behind; `sentinel_telemetry_duplicates_total`: events dropped as
 *   already accepted by this instance (recent-event-ids.ts).
 * - `sentinel_otlp_metric_points_total{outcome}`: OTLP metric data points (accepted, refused,
 *   ignored: metrics not named gen_ai.*), so a misconfigured exporter shows before anyone asks.
 *
 * `application` comes from clients, so it is capped (bounded-label-values.ts): the first
 * `maxApplicationLabels` applications keep their own series, the rest count as `other`.
 *
 * Metrics already in the registry (a second API on the same registry) are reused.
 */
import { Counter, Histogram, type Registry } from 'prom-client'
import { BoundedLabelValues, type LabelOverflowLog } from '../bounded-label-values.js'
import type { EventTimeVerdict } from '../event-time-bounds.js'

export type IngestRejection = Exclude<EventTimeVerdict, 'ok'> | 'invalid'

/** How telemetry came in: the `protocol` label of sentinel_ingestion_throughput (a closed set). */
export type IngestProtocol = 'http' | 'otlp_http' | 'otlp_grpc' | 'kafka'

/** Record header the API puts on the telemetry it writes (its protocol), so the topology counts only the rest as `kafka`. */
export const INGEST_PROTOCOL_HEADER = 'sentinel-ingest'

export const DEFAULT_MAX_APPLICATION_LABELS = 100

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  const existing = registry.getSingleMetric(name)
  if (existing !== undefined) return existing as Counter<L>
  return new Counter({ name, help, labelNames, registers: [registry] })
}

export class ApiMetrics {
  readonly telemetryEvents: Counter<'application' | 'type'>
  readonly ingestion: Counter<'protocol'>
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly rejected: Counter<'reason'>
  readonly duplicates: Counter
  readonly otlpMetricPoints: Counter<'outcome'>
  private readonly applications: BoundedLabelValues

  constructor(
    readonly registry: Registry,
    log?: LabelOverflowLog,
    maxApplicationLabels = DEFAULT_MAX_APPLICATION_LABELS,
  ) {
    this.applications = new BoundedLabelValues('sentinel_telemetry_events_total{application}', maxApplicationLabels, log)
    this.rejected = counter(
      registry,
      'sentinel_telemetry_events_rejected_total',
      'Telemetry events refused by the API, by reason (invalid, too_far_ahead, too_far_behind)',
      ['reason'],
    )
    this.duplicates = counter(
      registry,
      'sentinel_telemetry_duplicates_total',
      'Telemetry events dropped by the API as already accepted (per instance, recent ids only)',
      [],
    )
    this.otlpMetricPoints = counter(
      registry,
      'sentinel_otlp_metric_points_total',
      'OTLP metric data points received, by outcome (accepted: gen_ai.* delta points written; refused: gen_ai.* points refused, e.g. cumulative; ignored: other metrics)',
      ['outcome'],
    )
    this.telemetryEvents = counter(registry, 'sentinel_telemetry_events_total', 'Telemetry events accepted, by application and event type', [
      'application',
      'type',
    ])
    this.ingestion = counter(registry, 'sentinel_ingestion_throughput', 'Telemetry events ingested, by protocol (a counter: use rate())', ['protocol'])
    const name = 'sentinel_http_request_duration_seconds'
    this.requestDuration =
      (registry.getSingleMetric(name) as Histogram<'method' | 'route' | 'status_code'> | undefined) ??
      new Histogram({
        name,
        help: 'HTTP request duration of the Sentinel API, by route pattern',
        labelNames: ['method', 'route', 'status_code'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      })
  }

  eventsAccepted(events: readonly { application_id: string; event_type: string }[], protocol: IngestProtocol): void {
    this.pairsAccepted(acceptedPairs(events), protocol, events.length)
  }

  /** `perPair`: counts per `application\u0000event_type` (acceptedPairs); `total`: their sum. */
  pairsAccepted(perPair: ReadonlyMap<string, number>, protocol: IngestProtocol, total: number): void {
    for (const [pair, n] of perPair) {
      const cut = pair.indexOf('\u0000')
      this.telemetryEvents.inc({ application: this.applications.value(pair.slice(0, cut)), type: pair.slice(cut + 1).replace(/^llm\./, '') }, n)
    }
    if (total > 0) this.ingestion.inc({ protocol }, total)
  }

  eventsRejected(reason: IngestRejection, n = 1): void {
    if (n > 0) this.rejected.inc({ reason }, n)
  }

  metricPoints(outcome: 'accepted' | 'refused' | 'ignored', n: number): void {
    if (n > 0) this.otlpMetricPoints.inc({ outcome }, n)
  }
}

/**
 * Accepted events counted per (application, type) into `into`: one counter update per pair in the
 * batch, not per event (a 500-event batch has a handful of pairs, and prom-client hashes the labels
 * on every inc).
 */
export function acceptedPairs(events: readonly { application_id: string; event_type: string }[], into = new Map<string, number>()): Map<string, number> {
  for (const event of events) {
    const pair = `${event.application_id}\u0000${event.event_type}`
    into.set(pair, (into.get(pair) ?? 0) + 1)
  }
  return into
}
