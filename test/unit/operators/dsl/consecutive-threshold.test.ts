import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type ConsecutiveThresholdOptions, consecutiveThreshold } from '../../../../operators/dsl/consecutive-threshold.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../schemas/index.js'
import { StreamsBuilder, type Topology } from '../../../../topology/index.js'

interface Call {
  error_rate: number
}

const T0 = Date.UTC(2026, 0, 1)
const callSerde = Serdes.json<Call>()
const anomalySerde = Serdes.avro<AnomalyEvent>(anomalyEventSchema)
const base: ConsecutiveThresholdOptions<Call> = { id: 'errors-streak', metric: (c) => c.error_rate, metricName: 'error_rate', comparison: '>', bound: 0.5, count: 3, entityType: 'endpoint' }

function topology(options: Partial<ConsecutiveThresholdOptions<Call>> = {}): Topology {
  const builder = new StreamsBuilder()
  consecutiveThreshold(builder.stream('calls', { key: Serdes.string(), value: callSerde }), { ...base, ...options }).to('anomalies', { key: Serdes.string(), value: anomalySerde })
  return builder.build()
}

/** Pipes `values` for `key` one second apart from `from` seconds, one batch per record. */
async function harness(top = topology()) {
  const driver = await TopologyTestDriver.create(top, { applicationId: 'streak-test' })
  const input = driver.createInputTopic('calls', Serdes.string(), callSerde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), anomalySerde)
  return {
    driver,
    output,
    async pipe(key: string, from: number, values: readonly number[]) {
      for (const [i, v] of values.entries()) await input.pipe(key, { error_rate: v }, { timestamp: T0 + (from + i) * 1000 })
    },
  }
}

describe('consecutiveThreshold', () => {
  test('N-1 breaches: nothing; the N-th: one anomaly naming the streak; more breaches: still one', async () => {
    const h = await harness()
    await h.pipe('/chat', 0, [0.9, 0.8])
    assert.ok(h.output.isEmpty(), 'two of three')
    await h.pipe('/chat', 2, [0.7])
    const emitted = h.output.readKeyValues()
    assert.equal(emitted.length, 1)
    const [key, event] = emitted[0]!
    assert.equal(key, '/chat')
    assert.equal(event.anomaly_id, anomalyId('errors-streak', '/chat', T0))
    assert.equal(event.detector_type, 'rule')
    assert.deepEqual({ ...event.affected_entity }, { type: 'endpoint', id: '/chat', name: null })
    assert.deepEqual([event.context?.window_start, event.context?.window_end], [new Date(T0).toISOString(), new Date(T0 + 2000).toISOString()])
    assert.deepEqual(event.context?.sample_events, ['0.9', '0.8', '0.7'])
    assert.equal(event.metrics?.observed_value, 0.7)
    assert.equal(event.metrics?.threshold, 0.5)
    assert.equal(event.severity, 'warning')
    assert.equal(event.score, 0.5)
    await h.pipe('/chat', 3, [0.9, 0.95, 1, 0.6])
    assert.ok(h.output.isEmpty(), 'the streak already fired')
    await h.driver.close()
  })

  test('a break re-arms: the next streak of N fires again, with its own id; keys are independent', async () => {
    const h = await harness()
    await h.pipe('/chat', 0, [0.9, 0.9, 0.9, 0.9, 0.1, 0.9, 0.9])
    await h.pipe('/embed', 0, [0.9, 0.9])
    await h.pipe('/chat', 7, [0.5]) // not > 0.5: a break
    await h.pipe('/chat', 8, [0.6, 0.7])
    await h.pipe('/embed', 2, [0.9])
    assert.deepEqual(h.output.readValues().map((a) => a.anomaly_id), [anomalyId('errors-streak', '/chat', T0), anomalyId('errors-streak', '/embed', T0)])
    await h.pipe('/chat', 10, [0.8])
    await h.pipe('/chat', 11, [Number.NaN, 0.9, 0.9, 0.9]) // a metric that is not a number breaks the streak too
    assert.deepEqual(h.output.readValues().map((a) => a.anomaly_id), [anomalyId('errors-streak', '/chat', T0 + 8000), anomalyId('errors-streak', '/chat', T0 + 12_000)])
    await h.driver.close()
  })

  test('N = 1 fires on every first breach after a break; comparisons <= and ==', async () => {
    const h = await harness(topology({ count: 1, comparison: '<=', bound: 0 }))
    await h.pipe('k', 0, [1, 0, -1, 2, -3])
    assert.deepEqual(h.output.readValues().map((a) => a.context?.window_start), [T0 + 1000, T0 + 4000].map((t) => new Date(t).toISOString()))
    await h.driver.close()
    const eq = await harness(topology({ count: 2, comparison: '==', bound: 0 }))
    await eq.pipe('k', 0, [0, 1, 0, 0, 0])
    assert.deepEqual(eq.output.readValues().map((a) => a.metrics?.observed_value), [0])
    await eq.driver.close()
  })

  test('the streak lives in the logged store (deleted when it breaks); a replay yields the same ids', async () => {
    const values = [0.9, 0.9, 0.9, 0.1, 0.7, 0.7, 0.7, 0.7, 0.2, 0.9]
    const first = await harness()
    await first.pipe('k', 0, values)
    assert.deepEqual(await first.driver.readKeyValueStore('errors-streak-state'), [['k', { length: 1, fired: false, start: T0 + 9000, values: [0.9] }]])
    const changelog = first.driver.records('streak-test-errors-streak-state-changelog')
    assert.ok(changelog.some((r) => r.value === null), 'a broken streak is a tombstone in the changelog')
    const second = await harness()
    await second.pipe('k', 0, values)
    const ids = first.output.readValues().map((a) => a.anomaly_id)
    assert.equal(ids.length, 2)
    assert.deepEqual(second.output.readValues().map((a) => a.anomaly_id), ids)
    await first.driver.close()
    await second.driver.close()
  })

  test('rejects bad options naming the field', () => {
    assert.throws(() => topology({ count: 0 }), /'count' must be an integer >= 1/)
    assert.throws(() => topology({ comparison: '!=' as never }), /'comparison' must be one of/)
    assert.throws(() => topology({ bound: Number.NaN }), /'bound' must be a finite number/)
  })
})
