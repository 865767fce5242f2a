import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { addSample, quantileWindows, type QuantileWindowsOptions } from '../../../../operators/dsl/quantile-windows.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../schemas/index.js'
import { StreamsBuilder, TimeWindows } from '../../../../topology/index.js'

interface Call {
  latency_ms: number
}

const MINUTE = 60_000
const T0 = Date.UTC(2026, 0, 1)
const callSerde = Serdes.json<Call>()
const anomalySerde = Serdes.avro<AnomalyEvent>(anomalyEventSchema)

async function run(options: Omit<QuantileWindowsOptions<Call>, 'id' | 'window' | 'metric'>, minutes: readonly (readonly number[])[]): Promise<AnomalyEvent[]> {
  const builder = new StreamsBuilder()
  const calls = builder.stream('calls', { key: Serdes.string(), value: callSerde })
  quantileWindows(calls, { id: 'p99', window: TimeWindows.tumbling(MINUTE), metric: (c) => c.latency_ms, metricName: 'latency_ms', ...options }).to('anomalies', { key: Serdes.string(), value: anomalySerde })
  const driver = await TopologyTestDriver.create(builder.build())
  const input = driver.createInputTopic('calls', Serdes.string(), callSerde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), anomalySerde)
  for (const [m, latencies] of minutes.entries()) {
    await input.pipeRecords(latencies.map((latency_ms, i) => ({ key: 'svc', value: { latency_ms }, timestamp: T0 + m * MINUTE + i })))
  }
  await input.pipe('svc', { latency_ms: 0 }, { timestamp: T0 + minutes.length * MINUTE })
  const out = output.readValues()
  await driver.close()
  return out
}

/** 100 calls: 1..100 ms, so p99 = 99.01 (simple-statistics interpolates) unless `tail` replaces the top ones. */
const minute = (tail: readonly number[] = []) => [...Array.from({ length: 100 - tail.length }, (_, i) => i + 1), ...tail]

describe('quantileWindows', () => {
  test('p99 above twice its baseline is flagged in its window; a p50-neutral tail does not move the median', async () => {
    const minutes = [...Array.from({ length: 8 }, () => minute()), minute([900, 950]), minute()]
    const events = await run({ p: 0.99, factor: 2, minHistory: 5 }, minutes)
    assert.deepEqual(events.map((e) => e.anomaly_id), [anomalyId('p99', 'svc', T0 + 8 * MINUTE)])
    const [e] = events
    assert.ok((e?.metrics?.observed_value ?? 0) > 900)
    assert.ok(Math.abs((e?.metrics?.threshold ?? 0) - 2 * (e?.metrics?.baseline_value ?? 0)) < 1e-9)
    assert.deepEqual(await run({ p: 0.5, factor: 2, minHistory: 5 }, minutes), [])
  })

  test('a fixed bound applies from the first window', async () => {
    const events = await run({ p: 0.99, bound: 500 }, [minute([800, 800])])
    assert.equal(events.length, 1)
    assert.equal(events[0]?.metrics?.threshold, 500)
  })

  test('the reservoir keeps maxSamples values, each one a value of the window, the same on a replay', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (values, max) => {
        const fill = () => values.reduce((acc, v) => addSample(acc, v, max, 7), { seen: 0, samples: [] as number[] })
        const acc = fill()
        assert.equal(acc.seen, values.length)
        assert.equal(acc.samples.length, Math.min(max, values.length))
        for (const s of acc.samples) assert.ok(values.includes(s))
        assert.deepEqual(fill(), acc)
      }),
      { numRuns: 50 },
    )
    // Uniform over the window: 1000 kept of 0..19999 have a mean near 10000 (sd of the mean ~183).
    let acc = { seen: 0, samples: [] as number[] }
    for (let v = 0; v < 20_000; v++) acc = addSample(acc, v, 1000, 12345)
    const mean = acc.samples.reduce((a, b) => a + b, 0) / acc.samples.length
    assert.ok(Math.abs(mean - 10_000) < 800, `reservoir mean ${mean}`)
    assert.ok(acc.samples.filter((v) => v >= 1000).length > 900, 'late values got in')
  })
})
