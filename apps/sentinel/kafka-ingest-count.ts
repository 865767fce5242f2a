/**
 * Counts telemetry that reached the topic without the API (producers writing to Kafka directly) in
 * the API's ingest metrics, `sentinel_telemetry_events_total` and
 * `sentinel_ingestion_throughput{protocol="kafka"}`, so every input path is counted once: the API
 * marks what it writes with the `sentinel-ingest` header and counts it itself; records without the
 * header are counted here, as the topology reads them (after the event-time bounds and the
 * deduplication: what was accepted). Counts are per instance, for the partitions it owns.
 */
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import type { KStream } from '../../topology/index.js'
import { type ApiMetrics, INGEST_PROTOCOL_HEADER } from './api/api-metrics.js'

export function countKafkaIngest(telemetry: KStream<string | null, TelemetryEvent>, metrics: ApiMetrics): void {
  telemetry.process<never, never>(
    () => ({
      process(record) {
        if (record.headers[INGEST_PROTOCOL_HEADER] === undefined) metrics.eventsAccepted([record.value], 'kafka')
      },
    }),
    { name: 'telemetry-kafka-ingest-count' },
  )
}
