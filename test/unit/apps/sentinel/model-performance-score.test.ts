/**
 * sentinel_model_performance_score: the formula moves the right way (errors and slowness against
 * the model's baseline lower it, a faster window earns nothing above 100), labels are capped, and
 * on the assembled app (TopologyTestDriver) closed aggregation windows set it per model.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Registry } from 'prom-client'
import { ModelPerformanceScore, performanceScore } from '../../../../apps/sentinel/model-performance-score.js'
import { buildSentinelAppTopology, loadSentinelApp } from '../../../../apps/sentinel/sentinel-app.js'
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js'
import { Serdes } from '../../../../schemas/index.js'
import { telemetryJsonSerde } from '../../../../schemas/telemetry/index.js'
import { T0, outcome } from './outcome-events.js'

const MINUTE = 60_000

async function scores(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('sentinel_model_performance_score')?.get()
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.model), v.value]))
}

describe('sentinel_model_performance_score', () => {
  test('100 when healthy; errors and latency above the baseline lower it; faster earns nothing above 100', () => {
    const healthy = { calls: 10, errors: 0, meanLatencyMs: 500 }
    assert.equal(performanceScore(healthy, null), 100, 'no baseline yet: error rate alone')
    assert.equal(performanceScore(healthy, 500), 100)
    assert.equal(performanceScore({ ...healthy, errors: 2 }, 500), 80, '20% errors')
    assert.equal(performanceScore({ ...healthy, meanLatencyMs: 1000 }, 500), 50, 'twice as slow as usual')
    assert.equal(performanceScore({ ...healthy, errors: 5, meanLatencyMs: 1000 }, 500), 25)
    assert.equal(performanceScore({ ...healthy, meanLatencyMs: 100 }, 500), 100, 'faster than usual')
    assert.equal(performanceScore({ ...healthy, meanLatencyMs: null }, 500), 100, 'no latency in the window')
    assert.equal(performanceScore({ calls: 4, errors: 4, meanLatencyMs: 500 }, 500), 0)
  })

  test('the baseline follows the model: one slow window drops the score, the next normal one restores it; labels capped', async () => {
    const registry = new Registry()
    const score = new ModelPerformanceScore(registry)
    score.observe('m', { calls: 10, errors: 0, meanLatencyMs: 400 })
    score.observe('m', { calls: 10, errors: 0, meanLatencyMs: 1600 })
    assert.equal((await scores(registry)).m, 25, 'four times the baseline (400)')
    score.observe('m', { calls: 10, errors: 0, meanLatencyMs: 400 })
    assert.equal((await scores(registry)).m, 100, 'the slow window moved the baseline up only by alpha')
    score.observe(null, { calls: 10, errors: 10, meanLatencyMs: 1 })
    for (let i = 0; i < 60; i += 1) score.observe(`model-${i}`, { calls: 1, errors: 1, meanLatencyMs: 10 })
    const labels = Object.keys(await scores(registry))
    assert.equal(labels.length, 51, '50 models and other')
    assert.ok(labels.includes('other'))
  })

  test('on the app: each closed aggregation window sets its model score', async () => {
    const metrics = new Registry()
    const app = loadSentinelApp({ sentinel: { topics: { telemetry: 'tele' }, aggregations: { window: '1m', grace: '1s' } } }, {})
    const driver = await TopologyTestDriver.create(buildSentinelAppTopology(app, { metrics }), {
      applicationId: 'score-test',
      startWallClockMs: T0 + 5 * MINUTE,
    })
    const input = driver.createInputTopic('tele', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
    // Window 1: gpt-4o healthy at 200 ms, claude 1 failure in 4.
    for (const s of [1, 2, 3, 4]) await input.pipe('chatbot', outcome('chatbot', 'gpt-4o', s, 200))
    for (const s of [1, 2, 3]) await input.pipe('chatbot', outcome('chatbot', 'claude', s, 300))
    await input.pipe('chatbot', outcome('chatbot', 'claude', 4, 300, {}, true))
    // Window 2: gpt-4o twice as slow; its first event closes window 1.
    for (const s of [61, 62]) await input.pipe('chatbot', outcome('chatbot', 'gpt-4o', s, 400))
    assert.deepEqual(await scores(metrics), { 'gpt-4o': 100, claude: 75 })
    await input.pipe('chatbot', outcome('chatbot', 'gpt-4o', 125, 200))
    assert.equal((await scores(metrics))['gpt-4o'], 50, 'latency twice its baseline')
    await driver.close()
  })
})
