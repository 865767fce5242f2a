/**
 * Parts of the alert rules that used to need a restart, applied live by the rules stage through
 * the config topic (a version written mid-run, as the API and the watched file write it): a new
 * aggregation window size (the rule starts fresh: windows of the old size never count), throttling
 * and a route's repeat_interval where the start-up rules had none (their stores are always built),
 * a new throttling grouping (by a detector dimension too: the groups start fresh).
 * Each switches behaviour at the next anomaly, and a rollback (version 0's content again) restores it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AlertEvent } from '../../../../../schemas/alert/alert-event.js'

import { MIN, T0, liveRulesHarness as harness } from './live-rules-harness.js'

const burstRule = (window: string): string => `rules:
  - alert_id: bursts
    name: Bursts
    conditions: { trigger: anomaly, aggregation: { window: ${window}, function: count, threshold: 3 } }
    actions: [{ type: webhook }]
`

const windowOf = (a: AlertEvent): [number, number] => [(Date.parse(a.aggregation!.window_start) - T0) / MIN, (Date.parse(a.aggregation!.window_end) - T0) / MIN]

test('a new aggregation window size applies mid-run and the rule starts fresh; a rollback restores the old size, fresh again', async () => {
  const h = await harness(burstRule('10m'))
  assert.deepEqual(await h.at([1, 2]), [], 'two of three in the 10m window [0, 10)')

  await h.publish(burstRule('5m'))
  // Were the 10m window's two anomalies counted in the 5m window [0, 5), the first would fire.
  assert.deepEqual(await h.at([3, 3.5]), [], 'the 5m window starts empty: the 10m window is not read as it')
  const fired = await h.at([4])
  assert.deepEqual(fired.map(windowOf), [[0, 5]])
  assert.equal(fired[0]!.anomaly_ids.length, 3, 'only the 5m window’s own anomalies')
  assert.equal(fired[0]!.aggregation!.value, 3)

  // Version 0's content again: 10m windows. The 5m window stored at 0 is not the 10m window at 0.
  await h.publish(burstRule('10m'))
  assert.deepEqual(await h.at([6, 7]), [], 'fresh 10m window [0, 10): two so far')
  const back = await h.at([8])
  assert.deepEqual(back.map(windowOf), [[0, 10]])
  assert.equal(back[0]!.anomaly_ids.length, 3)
  await h.driver.close()
})

test('throttling added by a version where no rule was throttled at start applies at once; a rollback lifts it', async () => {
  const each = (throttling: string): string => `rules:
  - alert_id: each
    name: Each
    conditions: { trigger: anomaly }
    actions: [{ type: webhook }]
${throttling}`
  const h = await harness(each(''))
  assert.equal((await h.at([0, 1])).length, 2, 'unthrottled at start')

  await h.publish(each('    throttling: { max_frequency: 30m }\n'))
  const throttled = await h.at([2, 3, 4])
  assert.equal(throttled.length, 1, 'one alert per 30m once throttled')
  const next = await h.at([33])
  assert.equal(next.length, 1)
  assert.equal(next[0]!.suppressed_count, 2, 'the suppressed firings are reported by the next alert')

  await h.publish(each(''))
  assert.equal((await h.at([34, 35])).length, 2, 'rolled back: every anomaly alerts')
  await h.driver.close()
})

test("a route's repeat_interval added where no route had one applies at once; a rollback restores repeating", async () => {
  const routed = (repeat: string): string => `routing:
  - match: { severity: warning }
    receivers: [slack-incidents]
${repeat}rules:
  - alert_id: each
    name: Each
    conditions: { trigger: anomaly }
    actions: [{ type: webhook }]
`
  const receiversOf = (alerts: AlertEvent[]): number[] => alerts.map((a) => a.actions.filter((x) => x.type === 'notification').length)
  const h = await harness(routed(''))
  assert.deepEqual(receiversOf(await h.at([0, 1])), [1, 1], 'each alert routed at start')

  await h.publish(routed('    repeat_interval: 1h\n'))
  assert.deepEqual(receiversOf(await h.at([2, 3])), [1, 0], 'the route repeats at most hourly now')

  await h.publish(routed(''))
  assert.deepEqual(receiversOf(await h.at([4, 5])), [1, 1], 'rolled back: routed every time')
  await h.driver.close()
})

test('a throttling grouping changed to a dimension applies mid-run: regions are throttled apart; a rollback groups by application again', async () => {
  const grouped = (grouping: string): string => `rules:
  - alert_id: each
    name: Each
    conditions: { trigger: anomaly }
    actions: [{ type: webhook }]
    throttling: { max_frequency: 1h, grouping: [${grouping}] }
`
  const h = await harness(grouped('application_id'), ['region'])
  const regions = async (minutes: number, ...names: string[]): Promise<AlertEvent[]> => {
    const out: AlertEvent[] = []
    for (const [i, region] of names.entries()) out.push(...(await h.at([minutes + i / 10], { dimensions: { region } })))
    return out
  }
  assert.deepEqual(
    (await regions(0, 'eu', 'us')).map((a) => a.group),
    [{ application_id: 'chatbot' }],
    'one group at start: the application',
  )

  await h.publish(grouped('region'))
  assert.deepEqual(
    (await regions(1, 'eu', 'us', 'eu')).map((a) => a.group),
    [{ region: 'eu' }, { region: 'us' }],
    'by region now, each region a fresh group throttled on its own',
  )

  await h.publish(grouped('application_id'))
  assert.deepEqual(
    (await regions(2, 'eu', 'us')).map((a) => a.group),
    [],
    "back to the application's group, still throttled since minute 0",
  )
  await h.driver.close()
})
