/**
 * Live parameters through the TopologyTestDriver: a provider's new object takes effect on the very
 * next record (or closed window), the operator's state is kept across the change, and an invalid
 * object is refused (the previous parameters stay) rather than stopping the operator.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { RatioParams, StreakParams, ZScoreParams } from '../../../../operators/detectors/index.js'
import { consecutiveThreshold } from '../../../../operators/dsl/consecutive-threshold.js'
import { LiveParameters } from '../../../../operators/dsl/live-parameters.js'
import { ratioWindows } from '../../../../operators/dsl/ratio-windows.js'
import { zScoreWindows } from '../../../../operators/dsl/zscore-windows.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import type { AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import { type KStream, StreamsBuilder, TimeWindows } from '../../../../topology/index.js'

interface Call {
  readonly value: number
  readonly error?: boolean
}

const MINUTE = 60_000
const T0 = Date.UTC(2026, 0, 1)
const callSerde = Serdes.json<Call>()

async function harness(detect: (calls: KStream<string, Call>) => KStream<string, AnomalyEvent>) {
  const builder = new StreamsBuilder()
  detect(builder.stream('calls', { key: Serdes.string(), value: callSerde })).to('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'live-parameters-test' })
  const input = driver.createInputTopic('calls', Serdes.string(), callSerde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
  return { driver, input, output }
}

describe('live operator parameters', () => {
  test('consecutiveThreshold: a new bound and count apply from the next record; the running streak is kept', async () => {
    let params: StreakParams = { bound: 10, count: 3 }
    const h = await harness((calls) =>
      consecutiveThreshold(calls, { id: 'streak', metric: (c) => c.value, comparison: '>', bound: 10, count: 3, live: () => params }),
    )
    await h.input.pipe('k', { value: 5 }, { timestamp: T0 })
    assert.ok(h.output.isEmpty(), '5 is under the bound 10')
    params = { bound: 4, count: 3 }
    await h.input.pipe('k', { value: 5 }, { timestamp: T0 + 1000 })
    await h.input.pipe('k', { value: 5 }, { timestamp: T0 + 2000 })
    assert.ok(h.output.isEmpty(), 'two of three above the new bound 4')
    params = { bound: 4, count: 2 }
    await h.input.pipe('k', { value: 6 }, { timestamp: T0 + 3000 })
    const out = h.output.readValues()
    assert.equal(out.length, 1, 'the streak of 2 kept from before the change fires at once under count 2')
    assert.equal(out[0]?.metrics?.threshold, 4)
    assert.equal(out[0]?.context?.window_start, new Date(T0 + 1000).toISOString(), 'the streak began under the old count')
    await h.driver.close()
  })

  test('zScoreWindows: a lower threshold judges the next closed window; the baseline learned before is kept', async () => {
    let params: ZScoreParams = { threshold: 100, direction: 'up', minHistory: 5 }
    const h = await harness((calls) =>
      zScoreWindows(calls, {
        id: 'z',
        metric: (c) => c.value,
        window: TimeWindows.tumbling(MINUTE, { graceMs: 0 }),
        aggregate: 'sum',
        baseline: { kind: 'rolling', windows: 20 },
        threshold: 100,
        direction: 'up',
        minHistory: 5,
        live: () => params,
      }),
    )
    // Ten windows of about 100 (std ~ 1.5), then one of 110: z ~ 6.
    const values = [100, 102, 98, 101, 99, 100, 102, 98, 101, 99, 110, 110, 0]
    for (const [m, value] of values.slice(0, 11).entries()) await h.input.pipe('k', { value }, { timestamp: T0 + m * MINUTE })
    await h.input.pipe('k', { value: 100 }, { timestamp: T0 + 11 * MINUTE })
    assert.ok(h.output.isEmpty(), 'window 10 (110) is under |z| 100')
    params = { threshold: 3, direction: 'up', minHistory: 5 }
    await h.input.pipe('k', { value: 100 }, { timestamp: T0 + 12 * MINUTE })
    assert.ok(h.output.isEmpty(), 'window 11 (100) is normal under the new threshold too')
    await h.input.pipe('k', { value: 130 }, { timestamp: T0 + 12 * MINUTE + 1 })
    await h.input.pipe('k', { value: 100 }, { timestamp: T0 + 13 * MINUTE })
    const out = h.output.readValues()
    assert.equal(out.length, 1, 'window 12 (230) is flagged against the baseline learned under the old threshold')
    assert.equal(out[0]?.metrics?.threshold, 3)
    await h.driver.close()
  })

  test('ratioWindows: a new maxRatio and minVolume apply to the next closed window', async () => {
    let params: RatioParams = { maxRatio: 0.5, minVolume: 4 }
    const h = await harness((calls) =>
      ratioWindows(calls, {
        id: 'errors',
        window: TimeWindows.tumbling(MINUTE, { graceMs: 0 }),
        numerator: (c) => (c.error ? 1 : 0),
        maxRatio: 0.5,
        minVolume: 4,
        live: () => params,
      }),
    )
    const minute = async (m: number, errors: number, calls: number) => {
      for (let i = 0; i < calls; i++) await h.input.pipe('k', { value: 1, error: i < errors }, { timestamp: T0 + m * MINUTE + i })
    }
    await minute(0, 1, 4)
    await minute(1, 1, 4)
    assert.ok(h.output.isEmpty(), '25% is under 50%')
    params = { maxRatio: 0.2, minVolume: 4 }
    await minute(2, 1, 4)
    const out = h.output.readValues()
    assert.deepEqual(
      out.map((a) => [a.context?.window_start, a.metrics?.threshold]),
      [[new Date(T0 + MINUTE).toISOString(), 0.2]],
      'the window closed by the first record after the change is judged by it',
    )
    await h.driver.close()
  })

  test('an invalid object is refused and logged; the previous parameters stay, a later valid one applies', () => {
    const errors: unknown[] = []
    let params: RatioParams = { maxRatio: 0.5, minVolume: 4 }
    const log = { error: (fields: unknown) => errors.push(fields) } as unknown as ConstructorParameters<typeof LiveParameters>[4]
    const live = new LiveParameters<RatioParams>(
      'ratioWindows(x)',
      params,
      () => params,
      (p) => (p.maxRatio > 0 ? null : `maxRatio must be > 0, got ${p.maxRatio}`),
      log,
    )
    assert.equal(live.read(), params)
    const good = params
    params = { maxRatio: -1, minVolume: 4 }
    assert.equal(live.read(), good)
    assert.equal(live.read(), good, 'the same refused object is checked once')
    assert.equal(errors.length, 1)
    assert.match(JSON.stringify(errors[0]), /maxRatio must be > 0/)
    params = { maxRatio: 0.1, minVolume: 4 }
    assert.equal(live.read(), params)
  })
})
