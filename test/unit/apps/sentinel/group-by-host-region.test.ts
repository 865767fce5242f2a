/**
 * groupBy host, region and api_key: a detector keyed by them keeps one state per host, region or
 * API key. The same events judged per application find nothing, so the key is really used.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { runOnTestDriver } from '../../../../apps/sentinel/demo/driver-run.js'
import type { DetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'
import { groupKey } from '../../../../apps/sentinel/metrics.js'
import type { TelemetryEvent } from '../../../../schemas/telemetry/index.js'
import { costStreakDetectors } from './cost-streak-detector.js'

const T0 = Date.UTC(2026, 0, 1)

/** A call of `chatbot` costing `cost`, from `host` and tagged with `region` and `api_key`. */
function call(i: number, cost: number, tags: { host: string; region: string; api_key: string }): TelemetryEvent {
  return {
    event_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(T0 + i * 1000).toISOString(),
    source: { service: 'llm-observatory', host: tags.host },
    event_type: 'llm.response',
    application_id: 'chatbot',
    data: { status: 'success', latency_ms: 500, model: 'gpt-4', total_tokens: 100, cost },
    metadata: { tags: { region: tags.region, api_key: tags.api_key } },
  }
}

const EU = { host: 'h-eu', region: 'eu-west-1', api_key: 'key-eu' }
const US = { host: 'h-us', region: 'us-east-1', api_key: 'key-us' }
// Costly calls in eu, a cheap one in us between them: two in a row only within eu.
const EVENTS = [call(1, 2, EU), call(2, 0.1, US), call(3, 2, EU)]

const detector = (groupBy: string): DetectorsConfig => costStreakDetectors(groupBy)

describe('groupBy host, region, api_key', () => {
  test('the keys come from source.host and metadata.tags (metric dimensions too)', () => {
    assert.deepEqual([groupKey(EVENTS[0]!, 'host'), groupKey(EVENTS[0]!, 'region'), groupKey(EVENTS[0]!, 'api_key')], ['h-eu', 'eu-west-1', 'key-eu'])
    const metric: TelemetryEvent = {
      event_id: '00000000-0000-4000-8000-0000000000ff',
      timestamp: new Date(T0).toISOString(),
      source: { service: 's', host: 'h' },
      event_type: 'llm.metric',
      application_id: 'a',
      data: { metric_name: 'x', value: 1, dimensions: { region: 'ap-south-1' } },
    }
    assert.equal(groupKey(metric, 'region'), 'ap-south-1')
    assert.equal(groupKey(metric, 'api_key'), null)
  })

  for (const groupBy of ['host', 'region', 'api_key']) {
    test(`${groupBy}: the eu streak is found, keyed by its ${groupBy}`, async () => {
      const { anomalies } = await runOnTestDriver({ detectors: detector(groupBy), events: EVENTS })
      assert.equal(anomalies.length, 1)
      assert.match(anomalies[0]!.description ?? '', new RegExp(`for ${{ host: 'h-eu', region: 'eu-west-1', api_key: 'key-eu' }[groupBy]}`))
      assert.equal(anomalies[0]!.application_id, 'chatbot')
    })
  }

  test('per application the cheap us call breaks the streak: nothing', async () => {
    assert.equal((await runOnTestDriver({ detectors: detector('application'), events: EVENTS })).anomalies.length, 0)
  })
})
