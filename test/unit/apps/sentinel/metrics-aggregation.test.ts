/**
 * MetricsAggregation on the assembled app (TopologyTestDriver): per application/model and window,
 * the seed's record shape on the aggregations topic when the window closes; the latency p95 from
 * log buckets against the exact p95; telemetry read from Kafka counted as protocol kafka, and
 * telemetry the API wrote (header) not counted twice; retention and aggregation settings.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Registry } from 'prom-client'
import { quantileSorted } from 'simple-statistics'
import { INGEST_PROTOCOL_HEADER } from '../../../../apps/sentinel/api/api-metrics.js'
import {
  type CallsAccumulator,
  type MetricsAggregation,
  accumulate,
  bucketQuantile,
  emptyAccumulator,
  metricsAggregationJsonSerde,
} from '../../../../apps/sentinel/metrics-aggregation.js'
import { DEFAULT_RETENTION, resolveSentinelSettings } from '../../../../apps/sentinel/sentinel-config.js'
import { buildSentinelAppTopology, loadSentinelApp } from '../../../../apps/sentinel/sentinel-app.js'
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js'
import { Serdes } from '../../../../schemas/index.js'
import { telemetryJsonSerde } from '../../../../schemas/telemetry/index.js'
import { T0, outcome } from './outcome-events.js'

const MINUTE = 60_000

describe('MetricsAggregation', () => {
  test('one record per metric per application/model and closed window, in the seed shape; API-written telemetry is not counted as kafka', async () => {
    const metrics = new Registry()
    const app = loadSentinelApp({ sentinel: { topics: { telemetry: 'tele' }, aggregations: { window: '1m', grace: '10s' } } }, {})
    const driver = await TopologyTestDriver.create(buildSentinelAppTopology(app, { metrics }), {
      applicationId: 'aggregation-test',
      startWallClockMs: T0 + 5 * MINUTE,
    })
    const input = driver.createInputTopic('tele', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
    const output = driver.createOutputTopic('metrics-aggregations', Serdes.string(), metricsAggregationJsonSerde())
    // Window [T0, T0+1m): chatbot/gpt-4o 4 calls (one failed), chatbot without model 1 call.
    for (const [s, latency, failed] of [
      [1, 100, false],
      [2, 200, false],
      [3, 300, false],
      [4, 4000, true],
    ] as const)
      await input.pipe('chatbot', outcome('chatbot', 'gpt-4o', s, latency, {}, failed))
    await input.pipe('chatbot', outcome('chatbot', undefined, 5, 50))
    // The API's own writes carry the header: aggregated, but not counted again as kafka.
    await input.pipe('chatbot', outcome('chatbot', 'gpt-4o', 6, 100), { headers: { [INGEST_PROTOCOL_HEADER]: 'http' } })
    assert.equal(output.readValues().length, 0, 'nothing before the window closes')
    // Stream time past the window's end + grace closes it.
    await input.pipe('chatbot', outcome('chatbot', 'gpt-4o', 75, 100))

    const records = output.readValues()
    const of = (model: string | undefined, metric: string, aggregation: string): MetricsAggregation | undefined =>
      records.find((r) => r.dimensions.model === model && r.metric_name === metric && r.aggregation === aggregation)
    assert.deepEqual(of('gpt-4o', 'calls', 'count'), {
      metric_name: 'calls',
      timestamp: new Date(T0).toISOString(),
      window_duration: '1m',
      aggregation: 'count',
      value: 5,
      unit: 'calls',
      dimensions: { application_id: 'chatbot', model: 'gpt-4o', tenant_id: 'acme' },
      metadata: { sample_count: 5, completeness: null },
    })
    assert.equal(of('gpt-4o', 'error_rate', 'avg')?.value, 1 / 5)
    assert.equal(of('gpt-4o', 'latency_ms', 'avg')?.value, (100 + 200 + 300 + 4000 + 100) / 5)
    assert.equal(of('gpt-4o', 'latency_ms', 'max')?.value, 4000)
    assert.equal(of('gpt-4o', 'total_tokens', 'sum')?.value, 500)
    assert.ok(Math.abs(of('gpt-4o', 'cost', 'sum')!.value - 0.05) < 1e-12)
    assert.equal(of(undefined, 'calls', 'count')?.value, 1, 'calls without a model: their application alone')
    assert.deepEqual(of(undefined, 'calls', 'count')?.dimensions, { application_id: 'chatbot', tenant_id: 'acme' })

    const exposition = await metrics.metrics()
    assert.match(exposition, /sentinel_ingestion_throughput\{protocol="kafka"\} 6\n/, '7 events read, 1 written by the API')
    await driver.close()
  })

  test('the bucketed p95 is within 2% of the exact p95 (10,000 log-normal latencies)', () => {
    let seed = 7
    const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647
    const latencies = Array.from({ length: 10_000 }, () => Math.exp(6 + 0.8 * Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random())))
    let acc: CallsAccumulator = emptyAccumulator()
    for (const [i, latency] of latencies.entries()) acc = accumulate(acc, outcome('a', 'm', i % 60, latency))
    const exact = quantileSorted(
      [...latencies].sort((a, b) => a - b),
      0.95,
    )
    const bucketed = bucketQuantile(acc.latencyBuckets, acc.latencyCount, 0.95)
    assert.ok(Math.abs(bucketed / exact - 1) <= 0.02, `bucketed ${bucketed} vs exact ${exact}`)
  })

  test('settings: retention defaults to the seed (30 d anomalies, 1 y alerts); aggregations configurable or off; bad values name the field', () => {
    const defaults = resolveSentinelSettings({}, {})
    assert.deepEqual(defaults.retention, DEFAULT_RETENTION)
    assert.equal(defaults.retention.anomaliesMs, 30 * 86_400_000)
    assert.equal(defaults.retention.alertsMs, 365 * 86_400_000)
    assert.deepEqual(defaults.aggregations, { windowMs: 300_000, graceMs: 60_000 })
    assert.equal(defaults.topics.aggregations, 'metrics-aggregations')
    assert.deepEqual(resolveSentinelSettings({ sentinel: { retention: { anomalies: '90d', alerts: '2d' } } }, {}).retention, {
      anomaliesMs: 90 * 86_400_000,
      alertsMs: 2 * 86_400_000,
    })
    assert.equal(resolveSentinelSettings({ sentinel: { aggregations: 'off' } }, {}).aggregations, null)
    assert.throws(() => resolveSentinelSettings({ sentinel: { retention: { anomalies: 'forever' } } }, {}), /sentinel\.retention\.anomalies/)
    assert.throws(() => resolveSentinelSettings({ sentinel: { aggregations: { size: '5m' } } }, {}), /sentinel\.aggregations\.size/)
  })
})
