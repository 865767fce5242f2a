import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type ConsecutiveWindowsOptions, consecutiveWindows } from '../../../../operators/dsl/consecutive-windows.js'
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
const iso = (minute: number) => new Date(T0 + minute * MINUTE).toISOString()

/** `minutes[m]`: the latencies of minute m's calls (an empty list: no calls). */
async function run(options: Omit<ConsecutiveWindowsOptions<Call>, 'id' | 'window'>, minutes: readonly (readonly number[])[]): Promise<AnomalyEvent[]> {
  const builder = new StreamsBuilder()
  const calls = builder.stream('calls', { key: Serdes.string(), value: callSerde })
  consecutiveWindows(calls, { id: 'slow', window: TimeWindows.tumbling(MINUTE), metric: (c) => c.latency_ms, ...options }).to('anomalies', { key: Serdes.string(), value: anomalySerde })
  const driver = await TopologyTestDriver.create(builder.build())
  const input = driver.createInputTopic('calls', Serdes.string(), callSerde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), anomalySerde)
  for (const [m, latencies] of minutes.entries()) {
    for (const [i, latency_ms] of latencies.entries()) await input.pipe('svc', { latency_ms }, { timestamp: T0 + m * MINUTE + i * 1000 })
  }
  await input.pipe('svc', { latency_ms: 0 }, { timestamp: T0 + minutes.length * MINUTE + 1 }) // closes the last minute
  const out = output.readValues()
  await driver.close()
  return out
}

describe('consecutiveWindows', () => {
  const slow = { aggregate: 'mean', comparison: '>', bound: 1000, count: 3 } as const

  test('N-1 windows: nothing; N: one anomaly spanning them; a break re-arms', async () => {
    assert.deepEqual(await run(slow, [[1500], [1200, 1300], [100]]), [])
    const events = await run(slow, [[1500], [1200, 1400], [1100], [2000], [10], [1500], [1500], [1500]])
    assert.deepEqual(
      events.map((e) => [e.anomaly_id, e.context?.window_start, e.context?.window_end, e.context?.sample_events]),
      [
        [anomalyId('slow', 'svc', T0), iso(0), iso(3), ['1500', '1300', '1100']],
        [anomalyId('slow', 'svc', T0 + 5 * MINUTE), iso(5), iso(8), ['1500', '1500', '1500']],
      ],
    )
  })

  test('a minute without calls breaks a mean streak but is a 0 for a count streak', async () => {
    assert.deepEqual(await run(slow, [[1500], [1500], [], [1500]]), [])
    // "fewer than 2 calls a minute for 3 minutes": the empty minute 2 counts as 0 calls.
    const quiet = await run({ aggregate: 'count', metric: undefined, comparison: '<', bound: 2, count: 3 }, [[1, 1], [1], [], [1], [1, 1]])
    assert.deepEqual(
      quiet.map((e) => [e.context?.window_start, e.context?.window_end, e.context?.sample_events]),
      [[iso(1), iso(4), ['1', '0', '1']]],
    )
  })
})
