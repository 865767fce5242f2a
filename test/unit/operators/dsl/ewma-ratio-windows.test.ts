import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { EwmaDeviationDetector } from '../../../../operators/detectors/ewma-deviation.js'
import { ewmaDeviationWindows } from '../../../../operators/dsl/ewma-deviation-windows.js'
import { ratioWindows } from '../../../../operators/dsl/ratio-windows.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../schemas/index.js'
import { type KStream, StreamsBuilder, TimeWindows, type Topology } from '../../../../topology/index.js'
import { gaussian, mulberry32 } from '../detectors/prng.js'

interface Call {
  tokens: number
  status: 'ok' | 'error'
}

const MINUTE = 60_000
const T0 = Date.UTC(2026, 0, 1)
const callSerde = Serdes.json<Call>()
const anomalySerde = Serdes.avro<AnomalyEvent>(anomalyEventSchema)
const window = TimeWindows.tumbling(MINUTE, { graceMs: 1_000 })

function topology(detect: (calls: KStream<string, Call>) => KStream<string, AnomalyEvent>): Topology {
  const builder = new StreamsBuilder()
  detect(builder.stream('calls', { key: Serdes.string(), value: callSerde })).to('anomalies', { key: Serdes.string(), value: anomalySerde })
  return builder.build()
}

async function run(top: Topology, records: readonly { key: string; call: Call; at: number }[]): Promise<AnomalyEvent[]> {
  const driver = await TopologyTestDriver.create(top, { applicationId: 'ewma-ratio-test' })
  const input = driver.createInputTopic('calls', Serdes.string(), callSerde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), anomalySerde)
  for (let i = 0; i < records.length; i += 400) await input.pipeRecords(records.slice(i, i + 400).map((r) => ({ key: r.key, value: r.call, timestamp: r.at })))
  const out = output.readValues()
  await driver.close()
  return out
}

describe('ewmaDeviationWindows', () => {
  test('a window 60% above the moving average is flagged with its id; verdicts equal the core stepped directly', async () => {
    const noise = gaussian(mulberry32(11))
    const sums: number[] = []
    const records: { key: string; call: Call; at: number }[] = []
    for (let m = 0; m < 200; m++) {
      let sum = 0
      for (let i = 0; i < 4; i++) {
        const tokens = m === 150 ? 1600 : Math.round(1000 + 50 * noise())
        sum += tokens
        records.push({ key: 'tenant-a', call: { tokens, status: 'ok' }, at: T0 + m * MINUTE + i * 15_000 })
      }
      sums.push(sum)
    }
    const anomalies = await run(
      topology((calls) => ewmaDeviationWindows(calls, { id: 'tokens-ewma', metric: (c) => c.tokens, metricName: 'tokens', window, aggregate: 'sum', alpha: 0.1, threshold: 0.3, direction: 'up', minHistory: 10, entityType: 'user' })),
      records,
    )
    const core = new EwmaDeviationDetector({ alpha: 0.1, threshold: 0.3, direction: 'up', minHistory: 10 })
    let state = core.initial()
    const expected: number[] = []
    // The last minute only closes the others.
    sums.slice(0, -1).forEach((sum, m) => {
      const step = core.step(state, sum)
      state = step.state
      if (step.verdict.anomalous) expected.push(m)
    })
    assert.deepEqual(expected, [150])
    assert.deepEqual(anomalies.map((a) => a.anomaly_id), [anomalyId('tokens-ewma', 'tenant-a', T0 + 150 * MINUTE)])
    const [event] = anomalies
    assert.equal(event?.metrics?.observed_value, 6400)
    assert.ok(Math.abs((event?.metrics?.deviation ?? 0) - 0.6) < 0.05)
    assert.equal(event?.severity, 'warning', '0.6 / 0.3 = 2x the threshold: high, folded to the seed\'s warning')
  })
})

describe('ratioWindows', () => {
  test('error ratio per window: judged only from minVolume requests, flagged at maxRatio, one id per window', async () => {
    const records: { key: string; call: Call; at: number }[] = []
    const minute = (m: number, requests: number, errors: number) => {
      for (let i = 0; i < requests; i++) records.push({ key: 'gpt-4o', call: { tokens: 1, status: i < errors ? 'error' : 'ok' }, at: T0 + m * MINUTE + i * 100 })
    }
    minute(0, 20, 1) // 5%
    minute(1, 4, 3) // 75%, but only 4 requests
    minute(2, 20, 4) // 20%: exactly the bound
    minute(3, 20, 3) // 15%
    minute(4, 1, 0) // closes minute 3
    const anomalies = await run(
      topology((calls) => ratioWindows(calls, { id: 'error-ratio', numerator: (c) => (c.status === 'error' ? 1 : 0), ratioName: 'error ratio', window, maxRatio: 0.2, minVolume: 10, entityType: 'model' })),
      records,
    )
    assert.deepEqual(anomalies.map((a) => a.anomaly_id), [anomalyId('error-ratio', 'gpt-4o', T0 + 2 * MINUTE)])
    assert.equal(anomalies[0]?.metrics?.observed_value, 0.2)
    assert.equal(anomalies[0]?.score, 0.5, 'exactly at the threshold')
    assert.equal(anomalies[0]?.severity, 'info')
  })
})
