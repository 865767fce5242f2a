/**
 * groupBy a TelemetryEvent field path: paths are checked against the Avro schema at load (a wrong
 * one refused with the closest known path), the value read from the event, and on the detection
 * topology (TopologyTestDriver) records without it are grouped under `(missing)` or skipped
 * (missingGroup), counted in sentinel_group_field_missing_total. Short names keep today's
 * behaviour: records without the value skipped, the same node names.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Registry } from 'prom-client'
import { type DetectorsConfig, DetectorsConfigError } from '../../../../apps/sentinel/detectors-config.js'
import { buildSentinelTopology } from '../../../../apps/sentinel/detection.js'
import { type FieldPath, fieldValue, readFieldPath } from '../../../../apps/sentinel/telemetry-field-path.js'
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js'
import { Serdes } from '../../../../schemas/index.js'
import type { AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../../schemas/telemetry/index.js'
import { costStreakDetectors } from './cost-streak-detector.js'

const T0 = Date.UTC(2026, 0, 1)

/** A call of `chatbot` costing `cost`, tagged with `region` when given. */
function call(i: number, cost: number, region?: string): TelemetryEvent {
  return {
    event_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(T0 + i * 1000).toISOString(),
    source: { service: 'llm-observatory', host: 'h1' },
    event_type: 'llm.response',
    application_id: 'chatbot',
    data: { status: 'success', latency_ms: 500, model: 'gpt-4', total_tokens: 100, cost },
    ...(region === undefined ? {} : { metadata: { tags: { region } } }),
  }
}

const detectors = costStreakDetectors

function refusal(groupBy: string, extra = ''): string {
  try {
    detectors(groupBy, extra)
  } catch (error) {
    assert.ok(error instanceof DetectorsConfigError, String(error))
    return error.message
  }
  assert.fail(`groupBy ${groupBy} was accepted`)
}

async function run(
  config: DetectorsConfig,
  events: TelemetryEvent[],
): Promise<{ anomalies: AnomalyEvent[]; missing: Record<string, number>; topology: string }> {
  const metrics = new Registry()
  const topology = buildSentinelTopology({ detectors: config, anomalyFormat: 'json', metrics })
  const driver = await TopologyTestDriver.create(topology, { applicationId: 'group-by-field-path' })
  try {
    const input = driver.createInputTopic('llm-telemetry', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
    const output = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
    await input.pipeRecords(events.map((e) => ({ key: null, value: e, timestamp: Date.parse(e.timestamp) })))
    const counter = await metrics.getSingleMetric('sentinel_group_field_missing_total')?.get()
    return {
      anomalies: output.readValues(),
      missing: Object.fromEntries((counter?.values ?? []).map((v) => [String(v.labels.detector), v.value])),
      topology: JSON.stringify(topology.describe()),
    }
  } finally {
    await driver.close()
  }
}

describe('groupBy a field path', () => {
  test('paths of the schema load; short names keep skipping, paths default to grouping the missing', () => {
    for (const path of ['source.host', 'metadata.tags.region', 'data.dimensions.api_key_id', 'data.status', 'correlation_id', 'metadata.tags.k8s.io/zone']) {
      const [d] = detectors(path).detectors
      assert.equal(d!.groupBy, path)
      assert.equal(d!.missingGroup, 'group', path)
    }
    assert.equal(detectors('region').detectors[0]!.missingGroup, 'skip')
    assert.equal(detectors('metadata.tags.region', '    missingGroup: skip').detectors[0]!.missingGroup, 'skip')
    assert.equal(detectors('user', '    missingGroup: group').detectors[0]!.missingGroup, 'group')
  })

  test('a wrong path is refused with the closest known one', () => {
    assert.match(refusal('metadata.region'), /field 'groupBy': 'metadata.region' is not a field of TelemetryEvent \(did you mean metadata.tags.region\?\)/)
    assert.match(refusal('source.hots'), /did you mean source.host\?/)
    assert.match(refusal('hosts'), /did you mean host\?/)
    assert.match(refusal('metadata.tags'), /is a map; name one of its keys/)
    assert.match(refusal('data.context'), /is free-form JSON/)
    assert.match(refusal('tags.api_key_id'), /did you mean metadata.tags.api_key_id\?/)
    assert.match(refusal('metadata.user_ids'), /did you mean metadata.user_id\?/)
    assert.match(refusal('source.host', '    missingGroup: sometimes'), /missingGroup/)
  })

  test('values: strings, enums and numbers as text; absent or not a scalar is null', () => {
    const event = { ...call(1, 2, 'eu'), correlation_id: 'c-1' }
    const path = (p: string): FieldPath => {
      const read = readFieldPath(p)
      assert.ok('path' in read, p)
      return read.path
    }
    assert.equal(fieldValue(event, path('metadata.tags.region')), 'eu')
    assert.equal(fieldValue(event, path('data.status')), 'success')
    assert.equal(fieldValue(event, path('data.latency_ms')), '500')
    assert.equal(fieldValue(event, path('data.dimensions.region')), null)
    assert.equal(fieldValue(call(2, 2), path('metadata.tags.region')), null)
    assert.equal(fieldValue(event, path('data.metric_name')), null, 'a branch the payload is not')
  })

  // Costly calls in eu and untagged ones, a cheap us call between: streaks only within a group.
  const EVENTS = [call(1, 2, 'eu-west-1'), call(2, 5), call(3, 0.1, 'us-east-1'), call(4, 2, 'eu-west-1'), call(5, 5)]

  test('missingGroup group (default for a path): the untagged calls are one group, (missing)', async () => {
    const { anomalies, missing } = await run(detectors('metadata.tags.region'), EVENTS)
    assert.deepEqual(anomalies.map((a) => (a.description ?? '').match(/for (\S+)/)?.[1]).sort(), ['(missing)', 'eu-west-1'])
    assert.deepEqual(missing, { 'cost-streak': 2 })
  })

  test('missingGroup skip: the untagged calls are left out, and still counted', async () => {
    const { anomalies, missing } = await run(detectors('metadata.tags.region', '    missingGroup: skip'), EVENTS)
    assert.deepEqual(
      anomalies.map((a) => (a.description ?? '').match(/for (\S+)/)?.[1]),
      ['eu-west-1'],
    )
    assert.deepEqual(missing, { 'cost-streak': 2 })
  })

  test('the short name region works as before: same result as skip, same node names', async () => {
    const { anomalies, topology } = await run(detectors('region'), EVENTS)
    assert.deepEqual(
      anomalies.map((a) => (a.description ?? '').match(/for (\S+)/)?.[1]),
      ['eu-west-1'],
    )
    assert.match(topology, /telemetry-has-region/)
    assert.match(topology, /telemetry-by-region/)
  })
})
