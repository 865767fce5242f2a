/**
 * The one place that decides how each Sentinel topic's values are encoded, from the settings. Every
 * writer and reader of a topic — detection, the alert manager, the views, the dispatcher, the API's
 * ingest — takes its serde from here, so they cannot disagree.
 *
 * | topic       | no registry          | registry configured                                   |
 * | ----------- | -------------------- | ----------------------------------------------------- |
 * | telemetry   | `input.format`       | `input.format` (registry-avro needs the registry)      |
 * | anomalies   | raw Avro             | wire format, AnomalyEvent.avsc                        |
 * | alerts      | JSON                 | wire format, AlertEvent.avsc                          |
 * | deliveries  | JSON                 | wire format, DeliveryRecord.avsc                      |
 * | aggregations| JSON                 | wire format, MetricsAggregation (metrics-aggregation.ts) |
 *
 * Registry serdes register their schema under the configured subject strategy when the runtime
 * prepares its sink topics at start (an incompatible schema fails the start there), and share one
 * registry client so each schema id is fetched once per process. They still read the plain format,
 * so records written before the registry was turned on are not lost to the DLQ on a replay. The acks, feedback and silences
 * topics are the API's own small JSON commands and stay JSON; the DLQ keeps the raw bytes it got.
 */
import type { AlertEvent } from '../../schemas/alert/alert-event.js'
import { alertEventRegistrySerde, alertEventSerde } from '../../schemas/alert/alert-event-serde.js'
import type { AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import { anomalyEventAvroSerde, anomalyEventRegistrySerde } from '../../schemas/anomaly/anomaly-serdes.js'
import { withLegacyFormatReads } from '../../schemas/registry/legacy-format-fallback.js'
import { createRegistryClient } from '../../schemas/registry/registry-client.js'
import type { RegistryAvroSerdeOptions } from '../../schemas/registry/registry-avro-serde.js'
import { SUBJECT_NAME_STRATEGIES } from '../../schemas/registry/subject-name-strategy.js'
import type { Serde } from '../../schemas/serde.js'
import { type TelemetryEvent, telemetryAvroSerde, telemetryJsonSerde, telemetryRegistrySerde } from '../../schemas/telemetry/index.js'
import { deliveryRecordSerde } from './alert-view.js'
import type { DeliveryRecord } from './delivery/delivery-record.js'
import { deliveryRecordRegistrySerde } from './delivery/delivery-record-avro.js'
import { type MetricsAggregation, metricsAggregationJsonSerde, metricsAggregationRegistrySerde } from './metrics-aggregation.js'
import type { SentinelSettings } from './sentinel-config.js'

export interface SentinelTopicSerdes {
  readonly telemetry: Serde<TelemetryEvent>
  readonly anomalies: Serde<AnomalyEvent>
  readonly alerts: Serde<AlertEvent>
  readonly deliveries: Serde<DeliveryRecord>
  readonly aggregations: Serde<MetricsAggregation>
  /** `registry` when anomalies, alerts and deliveries are in the wire format; for logs and docs. */
  readonly outputFormat: 'registry' | 'plain'
}

type RegistryOptions = Omit<RegistryAvroSerdeOptions, 'schema'>

function registryOptions(settings: SentinelSettings): RegistryOptions | null {
  const url = settings.schemaRegistryUrl
  if (url === null) return null
  const { auth, subjectNameStrategy } = settings.schemaRegistry
  return {
    registry: createRegistryClient({ url, ...(auth === null ? {} : { auth }) }),
    subjectNameStrategy: SUBJECT_NAME_STRATEGIES[subjectNameStrategy],
  }
}

function telemetrySerdeOf(settings: SentinelSettings, registry: RegistryOptions | null): Serde<TelemetryEvent> {
  switch (settings.inputFormat) {
    case 'json':
      return telemetryJsonSerde()
    case 'avro':
      return telemetryAvroSerde()
    case 'registry-avro':
      // resolveSentinelSettings refuses registry-avro without a URL, so registry is set here.
      return telemetryRegistrySerde(registry ?? {})
  }
}

/** Fresh serdes for every Sentinel topic (call once per topology or service; each prepares its own). */
export function sentinelTopicSerdes(settings: SentinelSettings): SentinelTopicSerdes {
  const registry = registryOptions(settings)
  const telemetry = telemetrySerdeOf(settings, registry)
  const plain = { anomalies: anomalyEventAvroSerde(), alerts: alertEventSerde(), deliveries: deliveryRecordSerde(), aggregations: metricsAggregationJsonSerde() }
  if (registry === null) return { telemetry, ...plain, outputFormat: 'plain' }
  // Records written before the registry was configured stay readable (withLegacyFormatReads).
  return {
    telemetry,
    anomalies: withLegacyFormatReads(anomalyEventRegistrySerde(registry), plain.anomalies),
    alerts: withLegacyFormatReads(alertEventRegistrySerde(registry), plain.alerts),
    deliveries: withLegacyFormatReads(deliveryRecordRegistrySerde(registry), plain.deliveries),
    aggregations: withLegacyFormatReads(metricsAggregationRegistrySerde(registry), plain.aggregations),
    outputFormat: 'registry',
  }
}
