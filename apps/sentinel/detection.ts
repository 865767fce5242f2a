/**
 * LLM-Sentinel's detection stage: telemetry in, anomalies out, one operator of operators/dsl per
 * detector of the detectors file.
 *
 * Shape: source (validated TelemetryEvent, any or no key) → per groupBy used, one selectKey +
 * repartition shared by every detector grouping that way (so the state of a key lives in one task)
 * → metrics derived once per event → per detector: keep the events carrying its metric → operator →
 * the anomalies topic. Events without the group's dimension (no user_id for groupBy user) are left
 * out of that group only.
 */
import { createHash } from 'node:crypto'
import {
  binomialBurst,
  consecutiveThreshold,
  recordCusum,
  consecutiveWindows,
  correlatedFill,
  cusumWindows,
  ewmaDeviationWindows,
  quantileWindows,
  outlierStreak,
  ratioWindows,
  sessionProfiles,
  slidingSum,
  zScoreWindows,
} from '../../operators/dsl/index.js'
import type { AnomalyOutputOptions } from '../../operators/dsl/index.js'
import { type AnomalyEvent, type EntityType, anomalyEventSchema } from '../../schemas/anomaly/anomaly-event.js'
import { anomalyEventRegistrySerde } from '../../schemas/anomaly/anomaly-serdes.js'
import { Serdes } from '../../schemas/index.js'
import type { Serde } from '../../schemas/serde.js'
import type { Registry } from 'prom-client'
import { type TelemetryEvent, telemetryAvroSerde, telemetryJsonSerde, telemetryRegistrySerde } from '../../schemas/telemetry/index.js'
import { knownJsonBytes } from '../../schemas/telemetry/telemetry-serdes.js'
import { type EventTimeBounds, type KStream, SessionWindows, StreamsBuilder, TimeWindows, TimestampExtractors, type Topology } from '../../topology/index.js'
import type { DetectorConfig, DetectorsConfig } from './detectors-config.js'
import { detectorCoreOptions } from './operator-parameters.js'
import {
  type DetectorGroupBy,
  type GroupBy,
  MISSING_GROUP_KEY,
  type MetricRef,
  type TelemetryMetrics,
  eventModel,
  groupKey,
  metricValue,
  telemetryMetrics,
  withModel,
} from './metrics.js'
import { GroupFieldMissing } from './group-field-missing.js'
import { hasDetectorActions, withDetectorActions } from './detector-actions.js'
import { detectorConfigVersionGauge } from './detector-config-gauge.js'
import { CURRENT_KEY, LiveDetectorSettings, configTable } from './live-detector-settings.js'
import { detectorStateName } from './detector-versions.js'

/** An event with its derived metrics, computed once and shared by every detector of its group. */
export { detectorCoreOptions }

export interface MeasuredEvent {
  readonly event: TelemetryEvent
  readonly metrics: TelemetryMetrics
}

export interface SentinelTopologyOptions {
  readonly detectors: DetectorsConfig | readonly DetectorConfig[]
  /** Default `llm-telemetry`. */
  readonly inputTopic?: string
  /** Default `anomalies`. */
  readonly anomaliesTopic?: string
  /**
   * How telemetry values are encoded: configured, never guessed (default json). `avro` is raw Avro
   * of TelemetryEvent.avsc; `registry-avro` is the Schema Registry wire format (needs `schemaRegistryUrl`).
   */
  readonly inputFormat?: 'json' | 'avro' | 'registry-avro' | Serde<TelemetryEvent>
  /** The Confluent-compatible registry of `registry-avro` input and anomalies, e.g. http://localhost:8081. */
  readonly schemaRegistryUrl?: string
  /**
   * Anomaly values: raw Avro of AnomalyEvent.avsc (default), JSON, or `registry-avro` (the Schema
   * Registry wire format, `<topic>-value` subject, at `schemaRegistryUrl`); or any serde, such as
   * `anomalyEventRegistrySerde` with another subject strategy.
   */
  readonly anomalyFormat?: 'avro' | 'json' | 'registry-avro' | Serde<AnomalyEvent>
  /**
   * Telemetry further than this from the wall clock is dead-lettered before it can move stream time
   * (one skewed client would otherwise close every window). Absent: no bounds, for replays of
   * recorded or synthetic telemetry; the app's run config sets them (sentinel-config.ts).
   */
  readonly eventTime?: EventTimeBounds
  /**
   * Telemetry whose `event_id` was already seen within this many ms of event time is dropped (a
   * logged store: survives restarts and rebalances). Copies must share a partition, as records keyed
   * by application_id (the HTTP ingest's key) do. Absent: no deduplication.
   */
  readonly deduplicateHorizonMs?: number
  /**
   * The detector config topic (detector-versions.ts), read as a global table: the version in force
   * switches detectors off and on and sets their severity floor live (live-detector-settings.ts).
   * Absent: the definitions given here, for good.
   */
  readonly detectorConfigTopic?: string
  /** Where `sentinel_detector_config_version` (the version whose live settings this instance applies) is registered. */
  readonly metrics?: Registry
  /** Called once with the telemetry source stream (bounded and deduplicated), for stages beside detection. */
  readonly onTelemetry?: (telemetry: KStream<string | null, TelemetryEvent>) => void
}

const ENTITY: Partial<Record<DetectorGroupBy, EntityType>> = {
  application: 'application',
  model: 'model',
  user: 'user',
  tenant: undefined,
  host: undefined,
  region: undefined,
  api_key: undefined,
}

function inputSerde({ inputFormat: format, schemaRegistryUrl }: SentinelTopologyOptions): Serde<TelemetryEvent> {
  if (format === undefined || format === 'json') return telemetryJsonSerde()
  if (format === 'avro') return telemetryAvroSerde()
  if (format === 'registry-avro') {
    if (schemaRegistryUrl === undefined) {
      throw new Error(
        "inputFormat 'registry-avro' needs schemaRegistryUrl: set it to the registry's base URL (e.g. http://localhost:8081), or use inputFormat 'json'",
      )
    }
    return telemetryRegistrySerde({ registry: schemaRegistryUrl })
  }
  return format
}

function anomalySerde({ anomalyFormat: format, schemaRegistryUrl }: SentinelTopologyOptions): Serde<AnomalyEvent> {
  if (format === undefined || format === 'avro') return Serdes.avro<AnomalyEvent>(anomalyEventSchema)
  if (format === 'json') return Serdes.json<AnomalyEvent>()
  if (format === 'registry-avro') {
    if (schemaRegistryUrl === undefined) {
      throw new Error(
        "anomalyFormat 'registry-avro' needs schemaRegistryUrl: set it to the registry's base URL (e.g. http://localhost:8081), or use anomalyFormat 'avro'",
      )
    }
    return anomalyEventRegistrySerde({ registry: schemaRegistryUrl })
  }
  return format
}

/** The operator's anomaly fields, and its name (and its stores'): detectorStateName. */
function output(detector: DetectorConfig): AnomalyOutputOptions<MeasuredEvent> & { readonly name: string } {
  const groupBy = detector.groupBy
  const entityType = ENTITY[groupBy]
  return {
    id: detector.id,
    name: detectorStateName(detector),
    ...(entityType === undefined ? {} : { entityType }),
    applicationId: (key, value) => (groupBy === 'application' ? key : (value?.event.application_id ?? null)),
    tenantId: (key, value) => (groupBy === 'tenant' ? key : (value?.event.tenant_id ?? null)),
    // The key is the group's value (MISSING_GROUP_KEY for the records without it, under missingGroup: group).
    dimensions: (key) => ({ [groupBy]: key }),
  }
}

/** The metric as a number; events without it were filtered out before, so null never reaches here. */
const read =
  (ref: MetricRef) =>
  (value: MeasuredEvent): number =>
    metricValue(value.metrics, ref) ?? Number.NaN

function carries(ref: MetricRef): (key: string, value: MeasuredEvent) => boolean {
  return (_key, value) => metricValue(value.metrics, ref) !== null
}

/** The metric a detector reads, and its name in anomalies. */
const measured = (metric: MetricRef): { metric: (value: MeasuredEvent) => number; metricName: string } => ({ metric: read(metric), metricName: metric })

const tumbling = (detector: { windowMs: number; graceMs: number }): TimeWindows => TimeWindows.tumbling(detector.windowMs, { graceMs: detector.graceMs })

const cohortOf =
  (groupBy: GroupBy) =>
  (value: MeasuredEvent): string | null =>
    groupKey(value.event, groupBy)

/**
 * The anomalies of one detector over the events of its group. With `live`, the operators that take
 * live parameters (operator-parameters.ts) read them from it per record.
 */
export function detectorStream(grouped: KStream<string, MeasuredEvent>, detector: DetectorConfig, live?: LiveDetectorSettings): KStream<string, AnomalyEvent> {
  const out = output(detector)
  // The cell holds what liveOperatorParameters built for this detector's strategy: the operator's own params type.
  const liveParams = live === undefined ? {} : { live: live.provider<never>(detector) }
  const named = { name: `${detector.id}-has-metric` }
  switch (detector.strategy) {
    case 'zscore':
      return zScoreWindows(grouped.filter(carries(detector.metric), named), {
        ...out,
        ...measured(detector.metric),
        window: tumbling(detector),
        aggregate: detector.aggregate,
        ...detectorCoreOptions(detector),
        ...liveParams,
      })
    case 'cusum':
      return cusumWindows(grouped.filter(carries(detector.metric), named), {
        ...out,
        ...measured(detector.metric),
        window: tumbling(detector),
        aggregate: detector.aggregate,
        warmupWindows: detector.warmupWindows,
        drift: detector.drift,
        threshold: detector.threshold,
        clip: detector.clip,
        alpha: detector.alpha,
        direction: detector.direction,
        minStd: detector.minStd,
        ...(detector.stdConfidence === null ? {} : { stdConfidence: detector.stdConfidence }),
      })
    case 'ewma':
      return ewmaDeviationWindows(grouped.filter(carries(detector.metric), named), {
        ...out,
        ...measured(detector.metric),
        window: tumbling(detector),
        aggregate: detector.aggregate,
        ...detectorCoreOptions(detector),
        ...liveParams,
      })
    case 'percentile':
      return quantileWindows(grouped.filter(carries(detector.metric), named), {
        ...out,
        ...measured(detector.metric),
        window: tumbling(detector),
        ...detectorCoreOptions(detector),
        ...liveParams,
      })
    case 'threshold':
    case 'consecutive': {
      const events = grouped.filter(carries(detector.metric), named)
      const rule = {
        ...out,
        ...measured(detector.metric),
        comparison: detector.comparison,
        bound: detector.threshold,
        count: detector.consecutive,
        severity: detector.severity,
      }
      if (detector.window === null) return consecutiveThreshold(events, { ...rule, ...liveParams })
      return consecutiveWindows(events, {
        ...rule,
        window: TimeWindows.tumbling(detector.window.sizeMs, { graceMs: detector.window.graceMs }),
        aggregate: detector.window.aggregate,
      })
    }
    case 'ratio':
      return ratioWindows(grouped.filter(carries(detector.denominator), named), {
        ...out,
        window: tumbling(detector),
        numerator: (value) => metricValue(value.metrics, detector.metric) ?? 0,
        denominator: read(detector.denominator),
        ratioName: `${detector.metric}/${detector.denominator}`,
        maxRatio: detector.threshold,
        minVolume: detector.minVolume,
        ...liveParams,
      })
    case 'outlier-streak':
      return outlierStreak(grouped.filter(carries(detector.metric), named), {
        ...out,
        ...measured(detector.metric),
        threshold: detector.threshold,
        minLogStd: detector.minLogStd,
        minimum: detector.minimum,
        count: detector.consecutive,
        within: detector.within,
        alpha: detector.alpha,
        minHistory: detector.minHistory,
        cohortMinHistory: detector.cohortMinHistory,
        ...(detector.cohort === null ? {} : { cohort: cohortOf(detector.cohort) }),
      })
    case 'sliding-sum':
      // A record adding nothing (a response to a request count) is no sample of the key's normal.
      return slidingSum(
        grouped.filter((_k, v) => (metricValue(v.metrics, detector.metric) ?? 0) > 0, named),
        {
          ...out,
          ...measured(detector.metric),
          windowMs: detector.windowMs,
          bucketMs: detector.bucketMs,
          minimum: detector.minimum,
          threshold: detector.threshold,
          minLogStd: detector.minLogStd,
          alpha: detector.alpha,
          minHistory: detector.minHistory,
          coldStart: detector.coldStart,
          ...(detector.cohort === null ? {} : { cohort: cohortOf(detector.cohort) }),
        },
      )
    case 'record-cusum':
      return recordCusum(grouped.filter(carries(detector.metric), named), {
        ...out,
        ...measured(detector.metric),
        threshold: detector.threshold,
        drift: detector.drift,
        clip: detector.clip,
        minLogStd: detector.minLogStd,
        alpha: detector.alpha,
        minHistory: detector.minHistory,
        ...(detector.stdConfidence === null ? {} : { stdConfidence: detector.stdConfidence }),
      })
    case 'binomial-burst':
      return binomialBurst(grouped.filter(carries(detector.denominator), named), {
        ...out,
        // A call's outcome is counted once, on its outcome event (the denominator); its failure from the metric.
        outcome: (value) => ((metricValue(value.metrics, detector.denominator) ?? 0) > 0 ? (metricValue(value.metrics, detector.metric) ?? 0) > 0 : null),
        windowMs: detector.windowMs,
        bucketMs: detector.bucketMs,
        significance: detector.significance,
        minFailures: detector.minFailures,
        priorCalls: detector.priorCalls,
        memoryCalls: detector.memoryCalls,
        coldStartRate: detector.coldStartRate,
      })
    case 'session-profile':
      // A call is one session record, counted on its outcome event (see metrics.ts: response_count).
      return sessionProfiles(
        grouped.filter((_k, v) => v.metrics.response_count === 1, named),
        {
          ...out,
          sessions: SessionWindows.withGap(detector.gapMs, { graceMs: detector.graceMs }),
          record: (value) => ({
            tokens: value.metrics.total_tokens ?? 0,
            cost: value.metrics.cost ?? 0,
            model: eventModel(value.event) ?? 'unknown',
            error: value.metrics.error === 1,
          }),
          features: detector.features,
          threshold: detector.threshold,
          minSessions: detector.minSessions,
          ...(detector.early === null ? {} : { early: detector.early }),
        },
      )
  }
}

/**
 * The telemetry serde of the repartition topics, one instance for every group. An event goes to up
 * to three of them in a row (by application, model, user): its JSON is encoded once and the bytes
 * shared; an event read from JSON telemetry is not encoded at all, a copy of its input bytes is
 * forwarded (`knownJsonBytes`: they parse to the same event, which was validated when read). On the embedded log those same bytes reach each group's task, which then decode them once
 * (by identity: a WeakMap, so nothing is kept beyond the log's own retention), or not at all when
 * they are such a copy: the copy is mapped to the event it was made from. Values in a topology
 * are never mutated, so the tasks sharing one decoded event is safe; on Kafka every record arrives in
 * its own buffer and this is plain JSON.
 */
export function repartitionTelemetrySerde(): Serde<TelemetryEvent> {
  const json = Serdes.json<TelemetryEvent>()
  let lastValue: TelemetryEvent | undefined
  let lastBytes: Buffer | undefined
  const decoded = new WeakMap<Buffer, TelemetryEvent>()
  return {
    name: json.name,
    serialize(value, topic) {
      if (value === lastValue && lastBytes !== undefined) return lastBytes
      // An event as the telemetry source decoded it (or the API wrote it) already has JSON bytes: a
      // copy (a memcpy, far cheaper than JSON.stringify) rather than the buffer itself, whose life is
      // the telemetry log's retention: `decoded` below would keep the event alive as long.
      const known = knownJsonBytes(value)
      const bytes = known === undefined ? json.serialize(value, topic) : Buffer.from(known)
      // Those bytes parse to this very event (it was decoded from them): where they come back as
      // they are (the embedded log), the reading task takes the event without parsing them again.
      if (known !== undefined) decoded.set(bytes, value)
      lastValue = value
      lastBytes = bytes
      return bytes
    },
    deserialize(data, topic) {
      const known = decoded.get(data)
      if (known !== undefined) return known
      const value = json.deserialize(data, topic)
      decoded.set(data, value)
      return value
    },
  }
}

/**
 * How long a request's model is remembered for its outcome event, ms: beyond the longest call
 * (timeouts are 30-120 s) with room for producer lag; the store holds 5-10 minutes of requests.
 */
export const REQUEST_MODEL_RETENTION_MS = 5 * 60_000

/**
 * The telemetry with each outcome event that lacks `model` (seed 001's ResponseData has none)
 * given its request's, joined on `correlation_id` (the request id both carry) through a store
 * keyed by it: without this, latency, cost and errors of seed-shaped events reach no model group.
 * Events without a correlation id keep their own id as key and pass through.
 */
function withRequestModel(telemetry: KStream<string | null, TelemetryEvent>, serde: Serde<TelemetryEvent>): KStream<string, TelemetryEvent> {
  const byRequest = telemetry
    .selectKey((_k, event) => event.correlation_id ?? event.event_id, { name: 'telemetry-key-by-request' })
    .repartition({ name: 'telemetry-by-request', key: Serdes.string(), value: serde })
  return correlatedFill(byRequest, {
    name: 'request-model',
    remember: (event) => (event.event_type === 'llm.request' ? eventModel(event) : null),
    lacks: (event) => eventModel(event) === null,
    complete: withModel,
    retentionMs: REQUEST_MODEL_RETENTION_MS,
    rememberedSerde: Serdes.string(),
  })
}

/**
 * A group's part of node and repartition topic names: the groupBy itself when it is a plain name
 * (short names keep the names they always had), else a digest (map keys may hold any character).
 */
function groupNodeName(groupBy: DetectorGroupBy): string {
  if (/^[A-Za-z0-9._-]{1,80}$/.test(groupBy)) return groupBy
  return `field-${createHash('sha256').update(groupBy).digest('hex').slice(0, 16)}`
}

/** Adds the detection topology to `builder`; returns the anomaly streams by detector id. */
export function addSentinelDetection(builder: StreamsBuilder, options: SentinelTopologyOptions): Map<string, KStream<string, AnomalyEvent>> {
  const detectors = ('detectors' in options.detectors ? options.detectors.detectors : options.detectors).filter((d) => d.enabled)
  const telemetry = builder.stream(options.inputTopic ?? 'llm-telemetry', {
    key: Serdes.nullable(Serdes.string()),
    value: inputSerde(options),
    timestamp: TimestampExtractors.isoField<TelemetryEvent>('timestamp'),
    name: 'telemetry-source',
    ...(options.eventTime === undefined ? {} : { eventTime: options.eventTime }),
    ...(options.deduplicateHorizonMs === undefined
      ? {}
      : { deduplicate: { id: (event: TelemetryEvent) => event.event_id, horizonMs: options.deduplicateHorizonMs, name: 'telemetry-deduplicate' } }),
  })
  options.onTelemetry?.(telemetry)
  const live =
    options.detectorConfigTopic === undefined
      ? null
      : {
          table: configTable(builder, options.detectorConfigTopic),
          settings: new LiveDetectorSettings(options.metrics ? detectorConfigVersionGauge(options.metrics) : undefined),
        }
  const groups = new Map<DetectorGroupBy, KStream<string, MeasuredEvent>>()
  const repartitioned = repartitionTelemetrySerde()
  const missing = options.metrics ? new GroupFieldMissing(options.metrics) : undefined
  const group = (groupBy: DetectorGroupBy): KStream<string, MeasuredEvent> => {
    let stream = groups.get(groupBy)
    if (!stream) {
      const users = detectors.filter((d) => d.groupBy === groupBy)
      // Records without the value travel only when a detector judges them (missingGroup: group).
      const keepMissing = users.some((d) => d.missingGroup === 'group')
      const name = groupNodeName(groupBy)
      let source = groupBy === 'model' ? withRequestModel(telemetry, repartitioned) : telemetry
      if (missing)
        source = source.peek(
          (_k, event) => {
            if (groupKey(event, groupBy) === null) missing.count(users)
          },
          { name: `telemetry-missing-${name}` },
        )
      stream = (keepMissing ? source : source.filter((_k, event) => groupKey(event, groupBy) !== null, { name: `telemetry-has-${name}` }))
        .selectKey((_k, event) => groupKey(event, groupBy) ?? MISSING_GROUP_KEY, { name: `telemetry-key-by-${name}` })
        .repartition({ name: `telemetry-by-${name}`, key: Serdes.string(), value: repartitioned })
        .mapValues((event): MeasuredEvent => ({ event, metrics: telemetryMetrics(event) }), { name: `telemetry-metrics-by-${name}` })
      // Each record first takes the version in force, so the detectors' live parameters are current for it.
      if (live)
        stream = stream.leftJoin(
          live.table,
          () => CURRENT_KEY,
          (measured, current) => {
            live.settings.observe(current)
            return measured
          },
          { name: `telemetry-live-config-by-${name}` },
        )
      groups.set(groupBy, stream)
    }
    return stream
  }
  /** A detector's input: its group, without the records lacking the value when it skips them and others of its group do not. */
  const inputOf = (detector: DetectorConfig): KStream<string, MeasuredEvent> => {
    const grouped = group(detector.groupBy)
    const groupsMissing = detectors.some((d) => d.groupBy === detector.groupBy && d.missingGroup === 'group')
    if (detector.missingGroup === 'group' || !groupsMissing) return grouped
    return grouped.filter((_k, value) => groupKey(value.event, detector.groupBy) !== null, { name: `${detector.id}-has-group` })
  }
  const sink = { key: Serdes.string(), value: anomalySerde(options) }
  const anomalies = new Map<string, KStream<string, AnomalyEvent>>()
  for (const detector of detectors) {
    const judged = detectorStream(inputOf(detector), detector, live?.settings)
    const stream = live
      ? judged
          .leftJoin(
            live.table,
            () => CURRENT_KEY,
            (anomaly, current) => live.settings.gate(detector, anomaly, current),
            { name: `${detector.id}-live-settings` },
          )
          .flatMapValues((anomaly) => (anomaly === null ? [] : [anomaly]), { name: `${detector.id}-if-running` })
      : !hasDetectorActions(detector)
        ? judged
        : // The node keeps its name from when it applied the severity floor alone.
          judged.mapValues((anomaly) => withDetectorActions(detector, anomaly), { name: `${detector.id}-severity-floor` })
    stream.to(options.anomaliesTopic ?? 'anomalies', { ...sink, name: `${detector.id}-to-anomalies` })
    anomalies.set(detector.id, stream)
  }
  return anomalies
}

/** The whole Sentinel detection topology from a detectors configuration. */
export function buildSentinelTopology(options: SentinelTopologyOptions): Topology {
  const builder = new StreamsBuilder()
  addSentinelDetection(builder, options)
  return builder.build()
}
