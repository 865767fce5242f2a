import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type BurstAlert, burstAlerts, type LlmRequest } from '../../../examples/burst-alerts.js'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'

test('a tenant reaching the threshold within a minute raises one alert, once the window closes', async () => {
  const driver = await TopologyTestDriver.create(burstAlerts({ threshold: 3, windowMs: 60_000, graceMs: 5_000 }))
  const requests = driver.createInputTopic('llm-requests', Serdes.string(), Serdes.json<LlmRequest>())
  const alerts = driver.createOutputTopic('burst-alerts', Serdes.string(), Serdes.json<BurstAlert>())
  const request = (tenant_id: string, timestamp: string): LlmRequest => ({ tenant_id, model: 'gpt-4o', timestamp })

  for (const second of ['01', '20', '40']) await requests.pipe('acme', request('acme', `2026-01-01T00:00:${second}Z`))
  await requests.pipe('quiet-co', request('quiet-co', '2026-01-01T00:00:30Z'))
  assert.ok(alerts.isEmpty(), 'nothing before the window closes')

  // Stream time passes the window end plus grace (00:01:05): the window's final counts are emitted.
  await requests.pipe('quiet-co', request('quiet-co', '2026-01-01T00:01:06Z'))
  assert.deepEqual(alerts.readValues(), [
    { tenant_id: 'acme', window_start: '2026-01-01T00:00:00.000Z', window_end: '2026-01-01T00:01:00.000Z', requests: 3 },
  ])
  await driver.close()
})
