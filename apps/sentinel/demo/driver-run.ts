/**
 * Runs generated telemetry through the detection topology on the TopologyTestDriver: in process,
 * deterministic, no broker. Used by the tuning test and by the demo until standalone mode is used.
 */
import type { DetectorConfig, DetectorsConfig } from '../detectors-config.js'
import { buildSentinelTopology } from '../detection.js'
import { TopologyTestDriver } from '../../../runtime/testing/topology-test-driver.js'
import { type AnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../schemas/index.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../schemas/telemetry/index.js'

export interface DriverRunOptions {
  readonly detectors: DetectorsConfig | readonly DetectorConfig[]
  readonly events: Iterable<TelemetryEvent> | AsyncIterable<TelemetryEvent>
  /** Events per driver batch (default 500). */
  readonly batchSize?: number
  /** Called after each batch. */
  readonly onProgress?: (progress: { events: number; eventTime: number; anomalies: number }) => void
  readonly onAnomaly?: (anomaly: AnomalyEvent) => void
}

export interface DriverRunResult {
  readonly events: number
  readonly anomalies: AnomalyEvent[]
}

export async function runOnTestDriver(options: DriverRunOptions): Promise<DriverRunResult> {
  const topology = buildSentinelTopology({ detectors: options.detectors, anomalyFormat: 'json' })
  const driver = await TopologyTestDriver.create(topology, { applicationId: 'sentinel-demo', errorPolicy: 'dlq' })
  try {
    const input = driver.createInputTopic('llm-telemetry', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
    const output = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
    const anomalies: AnomalyEvent[] = []
    const size = options.batchSize ?? 500
    let batch: TelemetryEvent[] = []
    let events = 0
    const pipe = async (): Promise<void> => {
      if (batch.length === 0) return
      await input.pipeRecords(batch.map((e) => ({ key: null, value: e, timestamp: Date.parse(e.timestamp) })))
      events += batch.length
      const last = batch[batch.length - 1]!
      batch = []
      for (const anomaly of output.readValues()) {
        anomalies.push(anomaly)
        options.onAnomaly?.(anomaly)
      }
      options.onProgress?.({ events, eventTime: Date.parse(last.timestamp), anomalies: anomalies.length })
    }
    for await (const event of options.events) {
      batch.push(event)
      if (batch.length >= size) await pipe()
    }
    await pipe()
    const dead = driver.deadLetters()
    if (dead.length > 0) throw new Error(`${dead.length} telemetry events were rejected by the topology (first: ${JSON.stringify(dead[0]?.headers)})`)
    return { events, anomalies }
  } finally {
    await driver.close()
  }
}
