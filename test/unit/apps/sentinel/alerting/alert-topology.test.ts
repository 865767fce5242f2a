import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { Registry } from 'prom-client'
import { alertId } from '../../../../../apps/sentinel/alerting/alert-id.js'
import type { AlertWindowState } from '../../../../../apps/sentinel/alerting/alert-window.js'
import { type RuleMatch, groupOf, ruleMatchSchema } from '../../../../../apps/sentinel/alerting/rule-matcher.js'
import { parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { type AlertTopologyOptions, addAlerting, buildAlertTopology } from '../../../../../apps/sentinel/alerting/alert-topology.js'
import { TopologyTestDriver } from '../../../../../runtime/testing/topology-test-driver.js'
import { alertEventSerde } from '../../../../../schemas/alert/alert-event-serde.js'
import { type AnomalyEvent, anomalyEventSchema, createAnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../../schemas/index.js'
import { engines } from '../../../../../state/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'

const T0 = Date.UTC(2026, 6, 1, 12) // Wednesday 1 July 2026 12:00 UTC
const MIN = 60_000
let n = 0

function anomaly(at: number, over: Partial<AnomalyEvent> = {}): AnomalyEvent {
  n += 1
  return createAnomalyEvent({
    anomaly_id: anomalyId(over.detector_id ?? 'latency-spike', 'k', n),
    timestamp: new Date(at).toISOString(),
    detector_id: 'latency-spike',
    severity: 'warning',
    score: 0.7,
    application_id: 'chatbot',
    title: 'Latency spike on gpt-4',
    description: 'Mean latency 2400 ms against a baseline of 800 ms.',
    ...over,
  })
}

const rule = (id: string, body: string): string =>
  `  - alert_id: ${id}\n    name: ${id}\n    actions: [{ type: notification, config: { receivers: [slack-incidents] } }]\n${body
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n`

async function harness(rulesYaml: string, options: Partial<AlertTopologyOptions> = {}, driverOptions: Parameters<typeof TopologyTestDriver.create>[1] = {}) {
  const registry = new Registry()
  const config = parseAlertRulesConfig(rulesYaml)
  const driver = await TopologyTestDriver.create(buildAlertTopology({ rules: config, metrics: registry, ...options }), { applicationId: 'test-app', ...driverOptions })
  const input = driver.createInputTopic('anomalies', Serdes.string(), Serdes.avro<AnomalyEvent>(anomalyEventSchema))
  const output = driver.createOutputTopic('alerts', Serdes.string(), alertEventSerde())
  const pipe = (a: AnomalyEvent): Promise<void> => input.pipe(a.application_id ?? 'none', a, { timestamp: Date.parse(a.timestamp) })
  const counter = async (name: string, labels: Record<string, string>): Promise<number> => {
    const metric = registry.getSingleMetric(name)
    if (!metric) return 0
    const values = (await metric.get()).values
    return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((s, v) => s + v.value, 0)
  }
  return { driver, pipe, output, counter }
}

test('filters: severity, detector ids, application ids and score threshold select the rules an anomaly fires', async () => {
  const { driver, pipe, output } = await harness(`rules:
${rule('critical-only', 'conditions: { trigger: anomaly, filters: { severity: [critical] } }')}
${rule('latency-on-chatbot', 'conditions: { trigger: anomaly, filters: { detector_ids: [latency-spike], application_ids: [chatbot] } }')}
${rule('strong', 'conditions: { trigger: anomaly, filters: { score_threshold: 0.8 } }')}
`)
  await pipe(anomaly(T0, { severity: 'critical', score: 0.9 })) // all three
  await pipe(anomaly(T0 + 1000, { application_id: 'billing' })) // none
  await pipe(anomaly(T0 + 2000, { detector_id: 'cost-threshold', score: 0.8, application_id: 'billing' })) // strong (>= is inclusive)
  await pipe(anomaly(T0 + 3000, { application_id: null, score: 0.79 })) // none: no application
  const fired = output.readValues().map((a) => `${a.rule_id}@${(Date.parse(a.timestamp) - T0) / 1000}`)
  assert.deepEqual(fired.sort(), ['critical-only@0', 'latency-on-chatbot@0', 'strong@0', 'strong@2'])
  await driver.close()
})

test('per-anomaly rule: the alert describes the anomaly, is keyed by a deterministic alert_id and copies the actions', async () => {
  const { driver, pipe, output } = await harness(`rules:\n${rule('each', 'conditions: { trigger: anomaly }')}`)
  const a = anomaly(T0, { severity: 'critical' })
  await pipe(a)
  const [record] = output.readRecords()
  assert.ok(record)
  const alert = record.value
  assert.equal(record.key, alert.alert_id)
  assert.equal(record.timestamp, T0)
  assert.equal(alert.alert_id, alertId('each', 'each|detector_id=latency-spike|application_id=chatbot', a.anomaly_id))
  assert.deepEqual(
    { ...alert, description: undefined },
    {
      alert_id: alert.alert_id,
      rule_id: 'each',
      rule_name: 'each',
      timestamp: new Date(T0).toISOString(),
      severity: 'critical',
      group: { detector_id: 'latency-spike', application_id: 'chatbot' },
      title: '[CRITICAL] each: Latency spike on gpt-4 (detector latency-spike, application chatbot)',
      description: undefined,
      application_id: 'chatbot',
      anomaly_ids: [a.anomaly_id],
      anomaly: a,
      aggregation: null,
      suppressed_count: 0,
      actions: [{ type: 'notification', config: { receivers: ['slack-incidents'] } }],
    },
  )
  assert.match(alert.description, /^Anomaly from detector latency-spike on chatbot at 2026-07-01T12:00:00.000Z \(critical, score 0.70\): Mean latency 2400 ms/)
  await driver.close()
})

test('aggregation: a window fires once, at the anomaly that crosses the threshold, without waiting for the window to close', async () => {
  const { driver, pipe, output } = await harness(`rules:
${rule('bursts', 'conditions: { trigger: anomaly, aggregation: { window: 5m, function: count, threshold: 3 } }')}
${rule('hot', 'conditions: { trigger: anomaly, aggregation: { window: 10m, function: avg, threshold: 0.8 } }\nthrottling: { grouping: [application_id] }')}
`)
  const w = T0 // a 5-minute and a 10-minute boundary
  const first = [anomaly(w + 10_000), anomaly(w + 20_000), anomaly(w + 30_000, { severity: 'critical' })]
  for (const a of first.slice(0, 2)) await pipe(a)
  assert.ok(output.isEmpty(), 'count 2 < 3 (avg 0.7 < 0.8)')
  await pipe(first[2]!)
  let alerts = output.readValues()
  assert.equal(alerts.length, 1)
  assert.equal(alerts[0]!.rule_id, 'bursts')
  assert.deepEqual(alerts[0]!.anomaly_ids, first.map((a) => a.anomaly_id))
  assert.deepEqual(alerts[0]!.aggregation, { function: 'count', value: 3, threshold: 3, window_start: new Date(w).toISOString(), window_end: new Date(w + 5 * MIN).toISOString() })
  assert.equal(alerts[0]!.severity, 'critical', 'the highest severity of the window')
  assert.equal(alerts[0]!.anomaly.anomaly_id, first[2]!.anomaly_id)
  assert.equal(alerts[0]!.alert_id, alertId('bursts', 'bursts|detector_id=latency-spike|application_id=chatbot', w))
  assert.match(alerts[0]!.title, /^\[CRITICAL\] bursts: 3 anomalies in 5m \(detector latency-spike, application chatbot\)$/)

  // A fourth in the same window: no second alert. A strong one lifts the 10m average over 0.8.
  await pipe(anomaly(w + 40_000, { score: 0.99 })) // avg (0.7*3 + 0.99) / 4 = 0.7725
  await pipe(anomaly(w + 50_000, { score: 1 })) // avg 0.818
  alerts = output.readValues()
  assert.deepEqual(alerts.map((a) => [a.rule_id, a.aggregation?.value.toFixed(3)]), [['hot', '0.818']])
  assert.deepEqual(alerts[0]!.group, { application_id: 'chatbot' })

  // The next 5-minute window fires again, at its own third anomaly.
  for (const s of [0, 10, 20]) await pipe(anomaly(w + 5 * MIN + s * 1000))
  alerts = output.readValues()
  assert.deepEqual(alerts.map((a) => [a.rule_id, a.aggregation?.window_start]), [['bursts', new Date(w + 5 * MIN).toISOString()]])
  assert.notEqual(alerts[0]!.alert_id, alertId('bursts', 'bursts|detector_id=latency-spike|application_id=chatbot', w))
  await driver.close()
})

test('an alert is never dated before its anomalies: a closed window\'s anomaly says its end, its record the last event', async () => {
  const { driver, output } = await harness(`rules:
${rule('each', 'conditions: { trigger: anomaly }')}
${rule('pairs', 'conditions: { trigger: anomaly, aggregation: { window: 5m, function: count, threshold: 2 } }')}
`)
  const input = driver.createInputTopic('anomalies', Serdes.string(), Serdes.avro<AnomalyEvent>(anomalyEventSchema))
  // Record times T0+10s and T0+20s; the anomalies say T0+2m (a later window end) and T0+1m.
  const late = anomaly(T0 + 2 * MIN)
  const early = anomaly(T0 + MIN)
  await input.pipe('chatbot', late, { timestamp: T0 + 10_000 })
  await input.pipe('chatbot', early, { timestamp: T0 + 20_000 })
  const stale = anomaly(T0) // says T0, recorded at T0+30s
  await input.pipe('chatbot', stale, { timestamp: T0 + 30_000 })
  const byRule = new Map(output.readRecords().map((r) => [`${r.value.rule_id}:${r.value.anomaly.anomaly_id}`, r]))
  assert.equal(byRule.get(`each:${late.anomaly_id}`)?.value.timestamp, late.timestamp)
  assert.equal(byRule.get(`each:${early.anomaly_id}`)?.value.timestamp, early.timestamp)
  assert.equal(byRule.get(`each:${stale.anomaly_id}`)?.value.timestamp, new Date(T0 + 30_000).toISOString(), 'the record time when later')
  const pair = byRule.get(`pairs:${early.anomaly_id}`)
  assert.equal(pair?.value.timestamp, late.timestamp, 'the window\'s latest anomaly, though the firing one is earlier')
  assert.equal(pair?.timestamp, T0 + 2 * MIN, 'the record is dated as the alert')
  await driver.close()
})

test('grouping: each group has its own window', async () => {
  const { driver, pipe, output } = await harness(`rules:\n${rule('pairs', 'conditions: { trigger: anomaly, aggregation: { window: 1h, function: count, threshold: 2 } }\nthrottling: { grouping: [application_id] }')}`)
  await pipe(anomaly(T0, { application_id: 'a' }))
  await pipe(anomaly(T0 + 1000, { application_id: 'b' }))
  assert.ok(output.isEmpty())
  await pipe(anomaly(T0 + 2000, { application_id: 'b', detector_id: 'other' }))
  assert.deepEqual(output.readValues().map((a) => a.group), [{ application_id: 'b' }])
  await driver.close()
})

test('dedup: a replayed anomaly (same anomaly_id) never alerts twice, in one batch or later', async () => {
  const { driver, pipe, output, counter } = await harness(`rules:\n${rule('each', 'conditions: { trigger: anomaly }')}\n${rule('pairs', 'conditions: { trigger: anomaly, aggregation: { window: 1h, function: count, threshold: 2 } }')}`)
  const a = anomaly(T0)
  await pipe(a)
  await pipe(a)
  await pipe({ ...a, score: 0.95 }) // a replay need not be byte-identical: the id decides
  const alerts = output.readValues()
  assert.deepEqual(alerts.map((x) => x.rule_id), ['each'], 'one alert, and the window counted the anomaly once')
  assert.equal(await counter('sentinel_alerting_anomalies_dropped_total', { reason: 'duplicate' }), 2)
  const input = driver.createInputTopic('anomalies', Serdes.string(), Serdes.avro<AnomalyEvent>(anomalyEventSchema))
  const b = anomaly(T0 + 1000)
  await input.pipeRecords([b, b, b].map((x) => ({ key: 'k', value: x, timestamp: T0 + 1000 })))
  assert.deepEqual(output.readValues().map((x) => [x.rule_id, x.anomaly_ids]), [['each', [b.anomaly_id]], ['pairs', [a.anomaly_id, b.anomaly_id]]])
  await driver.close()
})

test('dedup survives a restart on the same state directory (RocksDB)', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'alerting-restart-'))
  try {
    const yaml = `rules:\n${rule('each', 'conditions: { trigger: anomaly }')}`
    const a = anomaly(T0)
    const first = await harness(yaml, {}, { engine: engines.rocksdb(), stateDir })
    await first.pipe(a)
    assert.equal(first.output.readValues().length, 1)
    await first.driver.close()

    const second = await harness(yaml, {}, { engine: engines.rocksdb(), stateDir })
    await second.pipe(a) // replayed after the restart
    const b = anomaly(T0 + 1000)
    await second.pipe(b)
    assert.deepEqual(second.output.readValues().map((x) => x.anomaly.anomaly_id), [b.anomaly_id])
    await second.driver.close()
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
  }
})

test('throttling: repeats inside max_frequency are not sent; the next one after it is, with suppressed_count', async () => {
  const { driver, pipe, output, counter } = await harness(`rules:\n${rule('warn', 'conditions: { trigger: anomaly }\nthrottling: { max_frequency: 15m, grouping: [application_id, detector_id] }')}`)
  await pipe(anomaly(T0))
  await pipe(anomaly(T0 + 5 * MIN))
  await pipe(anomaly(T0 + 10 * MIN))
  await pipe(anomaly(T0 + 11 * MIN, { application_id: 'other' })) // another group: its own throttle
  await pipe(anomaly(T0 + 14 * MIN + 59_999))
  await pipe(anomaly(T0 + 15 * MIN))
  await pipe(anomaly(T0 + 16 * MIN))
  const alerts = output.readValues()
  assert.deepEqual(
    alerts.map((a) => [(Date.parse(a.timestamp) - T0) / MIN, a.group.application_id, a.suppressed_count]),
    [
      [0, 'chatbot', 0],
      [11, 'other', 0],
      [15, 'chatbot', 3],
    ],
  )
  assert.match(alerts[2]!.description, /3 more firings of this alert were suppressed since the previous one \(throttling: at most one per 15m\)/)
  assert.equal(await counter('sentinel_alerts_suppressed_total', { rule: 'warn', reason: 'throttled' }), 4)
  assert.equal(await counter('sentinel_alerts_fired_total', { rule: 'warn' }), 3)
  const [[, throttle]] = (await driver.readKeyValueStore<string, { suppressed: number; last_alert_ms: number }>('alerts-throttle-store')).filter(([k]) => k.includes('chatbot')) as [[string, { suppressed: number; last_alert_ms: number }]]
  assert.deepEqual({ suppressed: throttle.suppressed, last_alert_ms: throttle.last_alert_ms }, { suppressed: 1, last_alert_ms: T0 + 15 * MIN })
  await driver.close()
})

test('throttle entries idle for longer than the largest max_frequency + 1 day are removed (stream time)', async () => {
  const { driver, pipe } = await harness(`rules:\n${rule('warn', 'conditions: { trigger: anomaly }\nthrottling: { max_frequency: 15m, grouping: [application_id] }')}`)
  await pipe(anomaly(T0, { application_id: 'a' }))
  await pipe(anomaly(T0 + 60 * MIN, { application_id: 'b' }))
  const groups = async (): Promise<string[]> => (await driver.readKeyValueStore<string, unknown>('alerts-throttle-store')).map(([k]) => k).sort()
  assert.deepEqual(await groups(), ['warn|application_id=a', 'warn|application_id=b'])
  await pipe(anomaly(T0 + 25 * 60 * MIN + 10 * MIN, { application_id: 'c' })) // a is idle > 24h15m, b is not
  assert.deepEqual(await groups(), ['warn|application_id=b', 'warn|application_id=c'])
  await driver.close()
})

test('schedule: outside active hours (America/New_York, weekdays) alerts are suppressed and counted', async () => {
  const { driver, pipe, output, counter } = await harness(`rules:
${rule('office', 'conditions: { trigger: anomaly }\nschedule: { timezone: America/New_York, active_hours: { start: "09:00", end: "17:00" }, days_of_week: [mon, tue, wed, thu, fri] }')}
${rule('night', 'conditions: { trigger: anomaly }\nschedule: { timezone: UTC, active_hours: { start: "22:00", end: "06:00" } }')}
`)
  const wed = Date.UTC(2026, 6, 1) // Wednesday; New York is UTC-4 in July
  await pipe(anomaly(wed + 12 * 60 * MIN + 59 * MIN)) // 08:59 NY: neither
  await pipe(anomaly(wed + 13 * 60 * MIN)) // 09:00 NY: office
  await pipe(anomaly(wed + 23 * 60 * MIN)) // 19:00 NY, 23:00 UTC: night
  await pipe(anomaly(wed + 24 * 60 * MIN + 5 * 60 * MIN)) // Thursday 01:00 NY, 05:00 UTC: night (across midnight)
  await pipe(anomaly(Date.UTC(2026, 6, 4, 15))) // Saturday 11:00 NY, 15:00 UTC: neither
  const fired = output.readValues().map((a) => `${a.rule_id}@${a.timestamp.slice(0, 16)}`)
  assert.deepEqual(fired, ['office@2026-07-01T13:00', 'night@2026-07-01T23:00', 'night@2026-07-02T05:00'])
  assert.equal(await counter('sentinel_alerts_suppressed_total', { rule: 'office', reason: 'schedule' }), 4)
  assert.equal(await counter('sentinel_alerts_suppressed_total', { rule: 'night', reason: 'schedule' }), 3)
  await driver.close()
})

test('maintenance windows (cron + duration) suppress the rules they name', async () => {
  const { driver, pipe, output, counter } = await harness(`rules:
${rule('warnings', 'conditions: { trigger: anomaly, filters: { severity: [warning] } }')}
${rule('critical', 'conditions: { trigger: anomaly, filters: { severity: [critical] } }')}
maintenance_windows:
  - name: weekly
    schedule: "0 2 * * 0"
    duration: 2h
    rules: [warnings]
`)
  const sunday = Date.UTC(2026, 6, 5)
  await pipe(anomaly(sunday + 2 * 60 * MIN + 30 * MIN)) // inside: suppressed
  await pipe(anomaly(sunday + 2 * 60 * MIN + 31 * MIN, { severity: 'critical' })) // critical is not in maintenance
  await pipe(anomaly(sunday + 4 * 60 * MIN)) // the window has ended
  assert.deepEqual(output.readValues().map((a) => `${a.rule_id}@${a.timestamp.slice(11, 16)}`), ['critical@02:31', 'warnings@04:00'])
  assert.equal(await counter('sentinel_alerts_suppressed_total', { rule: 'warnings', reason: 'maintenance' }), 1)
  await driver.close()
})

test('anomalies later than the grace are dropped and counted; within it they count in their own window', async () => {
  const { driver, pipe, output, counter } = await harness(`rules:\n${rule('pairs', 'conditions: { trigger: anomaly, aggregation: { window: 1m, function: count, threshold: 2 } }')}`, { graceMs: 10 * MIN })
  await pipe(anomaly(T0))
  await pipe(anomaly(T0 + 30 * MIN)) // stream time moves on
  await pipe(anomaly(T0 + 30_000)) // 29.5 min behind > 1m + 10m: late
  assert.ok(output.isEmpty())
  assert.equal(await counter('sentinel_alerting_anomalies_dropped_total', { reason: 'late' }), 1)
  await pipe(anomaly(T0 + 25 * MIN)) // 5 min behind: its window [25m, 26m) is open
  await pipe(anomaly(T0 + 25 * MIN + 10_000))
  assert.deepEqual(output.readValues().map((a) => a.aggregation?.window_start), [new Date(T0 + 25 * MIN).toISOString()])
  await driver.close()
})

test('names: repartition topics, stores and changelogs derive from the name; every store is built; disabled rules do not widen the window store', () => {
  const config = parseAlertRulesConfig(`rules:
${rule('on', 'conditions: { trigger: anomaly, aggregation: { window: 1m, function: count, threshold: 2 } }\nthrottling: { max_frequency: 5m }')}
${rule('off', 'enabled: false\nconditions: { trigger: anomaly, aggregation: { window: 2h, function: count, threshold: 2 } }')}
`)
  const builder = new StreamsBuilder()
  const anomalies = builder.stream('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  addAlerting(builder, anomalies, { rules: config, name: 'alerting', alertsTopic: 'alert-history' })
  const plan = builder.build().plan('sentinel')
  assert.deepEqual(plan.internalTopics.map((t) => t.name).sort(), [
    'sentinel-alerting-by-anomaly-id-repartition',
    'sentinel-alerting-by-group-repartition',
    'sentinel-alerting-dedup-store-changelog',
    'sentinel-alerting-route-repeats-store-changelog',
    'sentinel-alerting-throttle-store-changelog',
    'sentinel-alerting-windows-store-changelog',
    'sentinel-dlq',
  ])
  const stores = plan.subtopologies.flatMap((s) => s.stores.map((st) => [st.name, st.retentionMs]))
  assert.deepEqual(stores.sort(), [
    ['alerting-dedup-store', 2 * 86_400_000],
    ['alerting-route-repeats-store', undefined],
    ['alerting-throttle-store', undefined],
    // Windows up to 1h (LIVE_WINDOW_CAPACITY_MS: a version may bring sizes up to it) + the 1h grace.
    ['alerting-windows-store', 3_600_000 + 3_600_000],
  ])
  assert.ok(plan.subtopologies.some((s) => s.sinkTopics.includes('alert-history')))
})

test('options are checked', () => {
  const builder = new StreamsBuilder()
  const anomalies = builder.stream('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  assert.throws(() => addAlerting(builder, anomalies, { rules: [], graceMs: 0 }), /graceMs must be a positive integer/)
  assert.throws(() => addAlerting(builder, anomalies, { rules: [], graceMs: 2 * 3_600_000, dedupRetentionMs: 3_600_000 }), /dedupRetentionMs \(3600000\) must be >= graceMs/)
})

test('a replay of the group repartition topic (after the dedup stage) neither recounts nor re-throttles', async () => {
  const { driver, output, counter } = await harness(`rules:
${rule('pairs', 'conditions: { trigger: anomaly, aggregation: { window: 1h, function: count, threshold: 2 } }')}
${rule('each', 'conditions: { trigger: anomaly }\nthrottling: { max_frequency: 1h }')}
`)
  const groups = driver.createInputTopic('test-app-alerts-by-group-repartition', Serdes.string(), Serdes.avro<RuleMatch>(ruleMatchSchema))
  const match = (ruleId: string, a: AnomalyEvent): { key: string; value: RuleMatch; timestamp: number } => {
    const { key, group } = groupOf({ id: ruleId, throttling: { maxFrequencyMs: 0, grouping: ['detector_id', 'application_id'] } }, a)
    return { key, value: { rule_id: ruleId, group, anomaly: a }, timestamp: Date.parse(a.timestamp) }
  }
  const a = anomaly(T0)
  await groups.pipeRecords([match('pairs', a), match('each', a)])
  await groups.pipeRecords([match('pairs', a), match('each', a)]) // replayed
  const alerts = output.readValues()
  assert.deepEqual(alerts.map((x) => x.rule_id), ['each'])
  assert.equal(await counter('sentinel_alerts_suppressed_total', { reason: 'throttled' }), 0, 'the replayed firing is the same alert, not a repeat')
  const [[, window]] = (await driver.readWindowStore<string, AlertWindowState>('alerts-windows-store')) as [[unknown, AlertWindowState]]
  assert.equal(window.count, 1)
  await driver.close()
})

describe('routing tree (seed 001 alerting.routing)', () => {
  const ROUTED = `routing:
  - match: { severity: critical }
    receivers: [pagerduty-oncall, slack-incidents]
    repeat_interval: 5m
  - match: { severity: warning, team: ml-platform }
    receivers: [slack-ml-platform]
    repeat_interval: 1h
  - match: { application_id: [billing, chatbot] }
    receivers: [audit-hook]
    continue: true
  - receivers: [catch-all]
rules:
  - alert_id: ml
    name: ml
    labels: { team: ml-platform }
    conditions: { trigger: anomaly }
  - alert_id: other
    name: other
    conditions: { trigger: anomaly, filters: { detector_ids: [cost] } }
    actions: [{ type: webhook }]
`
  const routedTo = (a: { actions: readonly { type: string; config: Readonly<Record<string, unknown>> }[] }): string[] =>
    a.actions.flatMap((x) => (x.config.route === undefined ? [`${x.type}`] : (x.config.receivers as string[])))

  test('match on severity, a rule label and a grouping field; the first match ends the walk unless continue', async () => {
    const { driver, pipe, output } = await harness(ROUTED)
    await pipe(anomaly(T0, { severity: 'critical' }))
    await pipe(anomaly(T0 + 1000, { severity: 'warning', application_id: 'research' }))
    await pipe(anomaly(T0 + 2000, { severity: 'info', application_id: 'billing', detector_id: 'cost' }))
    const alerts = output.readValues()
    assert.deepEqual(
      alerts.map((a) => [a.rule_id, a.severity, routedTo(a)]),
      [
        ['ml', 'critical', ['pagerduty-oncall', 'slack-incidents']],
        ['ml', 'warning', ['slack-ml-platform']],
        ['ml', 'info', ['audit-hook', 'catch-all']],
        ['other', 'info', ['webhook', 'audit-hook', 'catch-all']],
      ],
    )
    await driver.close()
  })

  test('repeat_interval: a group is routed again only after it; other groups and replays are not held', async () => {
    const { driver, pipe, output, counter } = await harness(ROUTED)
    const first = anomaly(T0, { severity: 'critical' })
    await pipe(first)
    await pipe(anomaly(T0 + 2 * MIN, { severity: 'critical' })) // same group, inside 5m: recorded, not routed
    await pipe(anomaly(T0 + 3 * MIN, { severity: 'critical', application_id: 'billing' })) // another group
    await pipe(anomaly(T0 + 6 * MIN, { severity: 'critical' })) // 6m after the first routed one
    const alerts = output.readValues()
    assert.deepEqual(alerts.map((a) => [a.group.application_id, (Date.parse(a.timestamp) - T0) / MIN, routedTo(a)]), [
      ['chatbot', 0, ['pagerduty-oncall', 'slack-incidents']],
      ['chatbot', 2, []],
      ['billing', 3, ['pagerduty-oncall', 'slack-incidents']],
      ['chatbot', 6, ['pagerduty-oncall', 'slack-incidents']],
    ])
    assert.equal(await counter('sentinel_alert_route_repeats_total', { route: '0' }), 1)
    await driver.close()
  })

  test('the routes are checked: unknown fields, bad severities and durations are named; rules may leave actions out only with routing', () => {
    assert.throws(() => parseAlertRulesConfig(`routing:\n  - match: { severity: urgent }\n    receivers: [x]\n    repeat_intervall: 5m\nrules:\n${rule('r', 'conditions: { trigger: anomaly }')}`), (e: unknown) =>
      e instanceof Error && /routing\[0\]\.match\.severity/.test(e.message) && /routing\[0\]\.repeat_intervall/.test(e.message))
    assert.throws(() => parseAlertRulesConfig(`routing:\n  - match: { team: a }\nrules:\n${rule('r', 'conditions: { trigger: anomaly }')}`), /routing\[0\]\.receivers/)
    assert.throws(() => parseAlertRulesConfig('rules:\n  - alert_id: r\n    name: r\n    conditions: { trigger: anomaly }\n'), /actions/)
    assert.deepEqual(parseAlertRulesConfig(ROUTED).routing[1], { match: { severity: ['warning'], team: ['ml-platform'] }, receivers: ['slack-ml-platform'], repeatIntervalMs: 3_600_000, continue: false })
  })
})
