/**
 * Anomalies carry their detector's group as `dimensions` (the groupBy field and the key's value),
 * so alert grouping can name it: on one TopologyTestDriver, telemetry → detection (groupBy region
 * or a field path) → anomalies with dimensions → the alert lifecycle with `grouping.groupBy:
 * [region]` → one notification per region. Grouping by the application instead puts both regions
 * in one notification, so the dimension is what splits them. An unknown groupBy name is refused
 * when the rules load, naming the known labels and dimensions.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { addAlertManager } from '../../../../apps/sentinel/alerting/alert-topology.js'
import type { AlertNotification } from '../../../../apps/sentinel/alerting/alert-notification.js'
import { AlertRulesConfigError, parseAlertRulesConfig } from '../../../../apps/sentinel/alerting/alert-rules-config.js'
import { notificationSerde } from '../../../../apps/sentinel/alerting/lifecycle-topology.js'
import { renderTemplate, templateProblems, templateView } from '../../../../apps/sentinel/alerting/notification-templates.js'
import { addSentinelDetection } from '../../../../apps/sentinel/detection.js'
import { loadSentinelApp } from '../../../../apps/sentinel/sentinel-app.js'
import { anomalyEvent } from '../../../../operators/dsl/anomaly-output.js'
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js'
import { type AnomalyEvent, MAX_DIMENSION_VALUE_LENGTH } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import { type TelemetryEvent, telemetryJsonSerde } from '../../../../schemas/telemetry/index.js'
import { StreamsBuilder } from '../../../../topology/index.js'
import { sampleAlert } from './delivery/fixtures.js'
import { costStreakDetectors } from './cost-streak-detector.js'

const T0 = Date.UTC(2026, 0, 1)
const SEC = 1000

/** A call of `chatbot` costing `cost`, tagged with `region` when given. */
function call(i: number, cost: number, region?: string): TelemetryEvent {
  return {
    event_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    timestamp: new Date(T0 + i * SEC).toISOString(),
    source: { service: 'llm-observatory', host: 'h1' },
    event_type: 'llm.response',
    application_id: 'chatbot',
    data: { status: 'success', latency_ms: 500, model: 'gpt-4', total_tokens: 100, cost },
    ...(region === undefined ? {} : { metadata: { tags: { region } } }),
  }
}

// A costly streak in each region, and two untagged costly calls.
const EVENTS = [call(1, 2, 'eu-west-1'), call(2, 2, 'us-east-1'), call(3, 2, 'eu-west-1'), call(4, 2, 'us-east-1'), call(5, 2), call(6, 2)]

const RULES = (groupBy: string): string => `
rules:
  - alert_id: cost
    name: Cost streak
    conditions: { trigger: anomaly }
    actions: [{ type: notification, config: { receivers: [oncall] } }]
grouping: { groupBy: [${groupBy}], groupWait: 30s, groupInterval: 5m }
`

/** Telemetry through detection and the alert lifecycle on one driver: the anomalies, and the notifications after groupWait. */
async function pipeline(groupByOfDetector: string, groupByOfAlerts: string, extra = ''): Promise<{ anomalies: AnomalyEvent[]; notes: AlertNotification[] }> {
  const detectors = costStreakDetectors(groupByOfDetector, extra)
  const rules = parseAlertRulesConfig(RULES(groupByOfAlerts), { knownDimensions: detectors.detectors.map((d) => d.groupBy) })
  const builder = new StreamsBuilder()
  const [anomalies] = addSentinelDetection(builder, { detectors, anomalyFormat: 'json' }).values()
  addAlertManager(builder, anomalies!, { rules, alertsTopic: null, lifecycle: { notificationsTopic: 'notes', commandsTopic: 'commands', tickMs: SEC } })
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'anomaly-dimensions', startWallClockMs: T0 })
  try {
    const input = driver.createInputTopic('llm-telemetry', Serdes.nullable(Serdes.string()), telemetryJsonSerde())
    const detected = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
    const notes = driver.createOutputTopic('notes', Serdes.string(), notificationSerde())
    await input.pipeRecords(EVENTS.map((e) => ({ key: null, value: e, timestamp: Date.parse(e.timestamp) })))
    assert.deepEqual(notes.readValues(), [], 'nothing before groupWait')
    await driver.advanceWallClockTime(30 * SEC)
    return { anomalies: detected.readValues(), notes: notes.readValues() }
  } finally {
    await driver.close()
  }
}

const byRegion = (anomalies: readonly AnomalyEvent[]): string[] => anomalies.map((a) => JSON.stringify(a.dimensions)).sort()

describe('anomaly dimensions: detection → anomalies → alert grouping', () => {
  test('groupBy region: each anomaly carries {region: <its value>}; groupBy [region] notifies each region apart', async () => {
    const { anomalies, notes } = await pipeline('region', 'region')
    assert.deepEqual(byRegion(anomalies), ['{"region":"eu-west-1"}', '{"region":"us-east-1"}'], 'untagged calls are skipped for a short name')
    assert.deepEqual(
      notes.map((n) => [n.notification.group_labels, n.notification.alerts.length]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        [{ region: 'eu-west-1' }, 1],
        [{ region: 'us-east-1' }, 1],
      ],
    )
    assert.deepEqual(notes.map((n) => n.anomaly.dimensions?.region).sort(), ['eu-west-1', 'us-east-1'], 'the alert payload carries the dimensions')
  })

  test('grouped by the application instead, both regions share one notification', async () => {
    const { notes } = await pipeline('region', 'application_id')
    assert.equal(notes.length, 1)
    assert.deepEqual(notes[0]!.notification.group_labels, { application_id: 'chatbot' })
    assert.equal(notes[0]!.notification.alerts.length, 2)
  })

  test('a field path with missingGroup: group: the dimension is the path, untagged records are (missing), grouped apart', async () => {
    const { anomalies, notes } = await pipeline('metadata.tags.region', '"metadata.tags.region"')
    assert.deepEqual(byRegion(anomalies), [
      '{"metadata.tags.region":"(missing)"}',
      '{"metadata.tags.region":"eu-west-1"}',
      '{"metadata.tags.region":"us-east-1"}',
    ])
    assert.deepEqual(notes.map((n) => n.notification.group_labels['metadata.tags.region']).sort(), ['(missing)', 'eu-west-1', 'us-east-1'])
  })
})

describe('grouping.groupBy names', () => {
  const refusal = (yaml: string, knownDimensions: string[]): string => {
    try {
      parseAlertRulesConfig(yaml, { knownDimensions })
    } catch (err) {
      assert.ok(err instanceof AlertRulesConfigError, String(err))
      return err.message
    }
    assert.fail('accepted')
  }

  test('a dimension of no detector is refused at load, naming the known labels, rule labels and dimensions', () => {
    const message = refusal(RULES('regoin'), ['region', 'model'])
    assert.match(message, /grouping\.groupBy/)
    assert.match(message, /'regoin' is not a label alerts carry \(did you mean region\?\)/)
    assert.match(message, /known: rule, severity, detector_id, application_id, application, tenant_id, affected_entity\.type, affected_entity\.id;/)
    assert.match(message, /the detectors' dimensions \(their groupBy\): region, model/)
    // Without a detector grouping by region, region is unknown too.
    assert.match(refusal(RULES('region'), ['model']), /'region' is not a label alerts carry/)
  })

  test('labels, rule labels and dimensions are accepted', () => {
    const yaml = RULES('rule, severity, application, tenant_id, team, region').replace('conditions:', 'labels: { team: ml }\n    conditions:')
    assert.deepEqual(parseAlertRulesConfig(yaml, { knownDimensions: ['region'] }).lifecycle?.groupBy, [
      'rule',
      'severity',
      'application',
      'tenant_id',
      'team',
      'region',
    ])
  })

  test("the app checks the rules against its detectors' groupBy at load", () => {
    assert.doesNotThrow(() => loadSentinelApp({}, {}), 'the shipped files load')
  })
})

describe('dimensions in payloads', () => {
  test('values are cut to MAX_DIMENSION_VALUE_LENGTH; no dimensions option: null', () => {
    const facts = {
      key: 'k'.repeat(1000),
      idTime: 0,
      detectedAt: 0,
      detectorType: 'rule' as const,
      severity: 'warning' as const,
      score: 0.5,
      title: 't',
      description: 'd',
      metrics: { baseline_value: null, observed_value: 1, deviation: null, threshold: 1 },
      windowStart: 0,
      windowEnd: 0,
    }
    const cut = anomalyEvent({ id: 'd', dimensions: (key) => ({ 'data.status': key }) }, facts)
    assert.equal(cut.dimensions?.['data.status']?.length, MAX_DIMENSION_VALUE_LENGTH)
    assert.equal(anomalyEvent({ id: 'd' }, facts).dimensions, null)
  })

  test('templates read dimensions.<name> and anomaly.dimensions.<name>; an unknown anomaly field is still refused', () => {
    assert.deepEqual(templateProblems('{{dimensions.model}} {{anomaly.dimensions.model}}'), [])
    assert.equal(renderTemplate('{{dimensions.model}}/{{anomaly.dimensions.model}}', templateView(sampleAlert(), null)), 'gpt-4/gpt-4')
    assert.equal(renderTemplate('[{{dimensions.model}}]', templateView(sampleAlert({ anomaly: { ...sampleAlert().anomaly, dimensions: null } }), null)), '[]')
    assert.match(templateProblems('{{anomaly.dimension.model}}')[0] ?? '', /dimensions\.<name>/)
  })
})

describe('throttling.grouping by a dimension', () => {
  const rules = (grouping: string): string => `
rules:
  - alert_id: cost
    name: Cost streak
    conditions: { trigger: anomaly }
    actions: [{ type: notification, config: { receivers: [oncall] } }]
    throttling: { max_frequency: 1h, grouping: [${grouping}] }
`

  test('a name that is neither an anomaly field nor a dimension is refused at load with the closest name', () => {
    try {
      parseAlertRulesConfig(rules('regoin'), { knownDimensions: ['region', 'model'] })
      assert.fail('accepted')
    } catch (err) {
      assert.ok(err instanceof AlertRulesConfigError, String(err))
      assert.match(err.message, /field 'throttling\.grouping\[0\]': 'regoin' is not an anomaly field or a detector's dimension \(did you mean region\?\)/)
      assert.match(err.message, /a dimension \(the detectors' groupBy\): region, model/)
    }
    assert.throws(() => parseAlertRulesConfig(rules('region'), { knownDimensions: ['model'] }), /'region' is not an anomaly field or a detector's dimension/)
  })

  test('grouped by region, each region is its own group: throttled apart, the alert names its region', async () => {
    const config = parseAlertRulesConfig(rules('region'), { knownDimensions: ['region'] })
    assert.deepEqual(config.rules[0]!.throttling.grouping, ['region'])
    const builder = new StreamsBuilder()
    const anomalies = builder.stream('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
    addAlertManager(builder, anomalies, { rules: config, alertSerde: Serdes.json() })
    const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'throttle-by-region' })
    try {
      const input = driver.createInputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
      const alerts = driver.createOutputTopic('alerts', Serdes.string(), Serdes.json<{ group: Record<string, string> }>())
      const regions = ['eu-west-1', 'us-east-1', 'eu-west-1', 'us-east-1', 'eu-west-1']
      for (const [i, region] of regions.entries()) {
        const at = T0 + i * SEC
        const anomaly = { ...sampleAlert().anomaly, anomaly_id: `a-${i}`, timestamp: new Date(at).toISOString(), dimensions: { region } }
        await input.pipe('chatbot', anomaly, { timestamp: at })
      }
      assert.deepEqual(
        alerts.readValues().map((a) => a.group),
        [{ region: 'eu-west-1' }, { region: 'us-east-1' }],
        'one alert per region within max_frequency',
      )
    } finally {
      await driver.close()
    }
  })
})
