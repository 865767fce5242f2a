import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AlertRulesConfigError,
  DEFAULT_ALERT_RULES_PATH,
  DEFAULT_GROUPING,
  type AlertRulesConfigIssue,
  describeAlertRulesIssue,
  loadAlertRulesConfig,
  parseAlertRulesConfig,
} from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { DEFAULT_RECEIVERS_PATH, loadReceiversConfig, referenceIssues } from '../../../../../apps/sentinel/delivery/receivers-config.js'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../../../../../apps/sentinel/detectors-config.js'

function issuesOf(text: string, options: Parameters<typeof parseAlertRulesConfig>[1] = {}): AlertRulesConfigIssue[] {
  try {
    parseAlertRulesConfig(text, options)
  } catch (err) {
    assert.ok(err instanceof AlertRulesConfigError, String(err))
    return [...err.issues]
  }
  assert.fail('expected AlertRulesConfigError')
}

test('the default rules file loads and names only detectors of the default detectors file', () => {
  const detectorIds = loadDetectorsConfig(DEFAULT_DETECTORS_PATH).detectors.map((d) => d.id)
  const config = loadAlertRulesConfig(DEFAULT_ALERT_RULES_PATH, { knownDetectorIds: detectorIds })
  assert.deepEqual(
    config.rules.map((r) => r.id),
    ['critical-anomalies', 'service-warnings', 'persistent-warnings', 'user-behaviour-block', 'user-warnings'],
  )
  const critical = config.rules[0]!
  assert.deepEqual(critical.aggregation, { windowMs: 60_000, function: 'count', threshold: 1 })
  assert.deepEqual(critical.throttling, { maxFrequencyMs: 300_000, grouping: ['application_id', 'detector_id'] })
  assert.deepEqual(critical.actions[0], { type: 'notification', config: { receivers: ['pagerduty-oncall', 'slack-incidents'], priority: 'high' } })
  assert.equal(config.rules[1]!.aggregation, null)
  assert.deepEqual(config.rules[2]!.schedule, {
    timezone: 'America/New_York',
    activeHours: { startMinute: 8 * 60, endMinute: 19 * 60 + 59 },
    daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri'],
  })
  assert.deepEqual(referenceIssues(loadReceiversConfig(DEFAULT_RECEIVERS_PATH, {}), config.rules), [], 'every receiver named is in the default receivers file')
  assert.deepEqual(config.maintenanceWindows, [
    { kind: 'cron', name: 'weekly-maintenance', rules: ['service-warnings', 'persistent-warnings'], cron: '0 2 * * 0', timezone: 'UTC', durationMs: 7_200_000 },
  ])
})

test('defaults: enabled, no aggregation, no throttling with grouping [detector_id, application_id], no schedule', () => {
  const config = parseAlertRulesConfig(`
rules:
  - alert_id: r
    name: R
    conditions: { trigger: anomaly }
    actions: [{ type: incident }]
`)
  assert.deepEqual(config.rules[0], {
    id: 'r',
    name: 'R',
    description: null,
    enabled: true,
    filters: { severity: null, detectorIds: null, applicationIds: null, scoreThreshold: null },
    aggregation: null,
    actions: [{ type: 'incident', config: {} }],
    throttling: { maxFrequencyMs: 0, grouping: DEFAULT_GROUPING },
    schedule: null,
    labels: {},
    escalation: null,
  })
  assert.deepEqual(config.maintenanceWindows, [])
  assert.deepEqual(config.routing, [])
})

test("every mistake in the file's shape is reported at once (its schema), naming rule, field and the fix", () => {
  const issues = issuesOf(`
rules:
  - alert_id: bad-rule
    name: Bad
    conditions:
      trigger: metric_threshold
      filters: { severity: [critical, fatal], score_threshold: 1.5 }
      aggregation: { window: 5m, function: median, threshold: 1 }
    actions:
      - type: email
    throttling: { grouping: [""] }
    schedule: { active_hours: { start: "25:00" }, days_of_week: [monday] }
    colour: red
  - name: no id
    conditions: { trigger: anomaly }
    actions: [{ type: incident }]
maintenance_windows:
  - schedule: "0 2 * * 0"
    duration: 2h
    rules: []
`)
  const text = issues.map(describeAlertRulesIssue)
  const has = (pattern: RegExp): void =>
    assert.ok(
      text.some((t) => pattern.test(t)),
      `no issue matches ${pattern}:\n${text.join('\n')}`,
    )
  has(
    /^rule 'bad-rule', field 'conditions\.trigger': "metric_threshold" is not valid; only trigger 'anomaly' is supported; to alert on a metric, add a threshold detector/,
  )
  has(/^rule 'bad-rule', field 'conditions\.filters\.severity\[1\]': "fatal" is not valid; use info \| warning \| critical/)
  has(/^rule 'bad-rule', field 'conditions\.filters\.score_threshold': 1\.5 is not valid; give a score in \[0, 1\]/)
  has(/^rule 'bad-rule', field 'conditions\.aggregation\.function': "median" is not valid; use count \| avg \| sum \| max \| min/)
  has(/^rule 'bad-rule', field 'actions\[0\]\.type': "email" is not valid; use notification \| shield \| webhook \| incident/)
  has(/^rule 'bad-rule', field 'throttling\.grouping\[0\]': must not be empty/)
  has(/^rule 'bad-rule', field 'schedule\.active_hours\.start': "25:00" is not valid; write HH:MM \(24h\)/)
  has(/^rule 'bad-rule', field 'schedule\.active_hours\.end': is required; write HH:MM/)
  has(/^rule 'bad-rule', field 'schedule\.days_of_week\[0\]': "monday" is not valid; use sun \| mon/)
  has(/^rule 'bad-rule', field 'colour': is not a known field; the fields here are alert_id, name/)
  has(/^rule 'rules\[1\]', field 'alert_id': is required; a non-empty string/)
  has(/^maintenance window 'maintenance_windows\[0\]', field 'name': is required/)
  has(/^maintenance window 'maintenance_windows\[0\]', field 'rules': must not be an empty list; rule alert_ids/)
  assert.equal(issues.length, 13, text.join('\n'))
})

test('a misspelt field is named with the one it most likely meant', () => {
  const [issue] = issuesOf(
    'rules:\n  - alert_id: r\n    name: R\n    conditions: { trigger: anomaly }\n    actions: [{ type: incident }]\n    throttling: { max_frequncy: 5m }\n',
  )
  assert.equal(
    describeAlertRulesIssue(issue!),
    "rule 'r', field 'throttling.max_frequncy': is not a known field; did you mean 'max_frequency'? the fields here are max_frequency, grouping",
  )
})

test('once the shape is right, every other mistake is reported at once, naming rule, field and the fix', () => {
  const issues = issuesOf(
    `
rules:
  - alert_id: bad-rule
    name: Bad
    conditions:
      trigger: anomaly
      filters: { detector_ids: [nope] }
      aggregation: { window: 5x, function: count, threshold: 0 }
    actions:
      - type: notification
        config: {}
      - type: shield
        config: { action: explode }
    throttling: { max_frequency: soon }
    schedule: { timezone: Mars/Olympus }
  - alert_id: bad-rule
    name: Twice
    conditions: { trigger: anomaly }
    actions: [{ type: incident }]
maintenance_windows:
  - name: nightly
    schedule: "0 2 * *"
    duration: 2h
    rules: [missing-rule]
  - name: once
    start: "2026-12-01 22:00"
    end: "2026-12-01T21:00:00Z"
  - name: both
    schedule: "0 2 * * 0"
    duration: 1h
    start: "2026-12-01T22:00:00Z"
`,
    { knownDetectorIds: ['token-rate-spike'] },
  )
  const text = issues.map(describeAlertRulesIssue)
  const has = (pattern: RegExp): void =>
    assert.ok(
      text.some((t) => pattern.test(t)),
      `no issue matches ${pattern}:\n${text.join('\n')}`,
    )
  has(/^rule 'bad-rule', field 'conditions\.filters\.detector_ids': 'nope' is not a detector of the detectors file; use token-rate-spike/)
  has(/^rule 'bad-rule', field 'conditions\.aggregation\.window': "5x" is not a duration/)
  has(/^rule 'bad-rule', field 'conditions\.aggregation\.threshold': 0 is not valid for count; give an integer >= 1/)
  has(/^rule 'bad-rule', field 'actions\[0\]\.config\.receivers': is required for a notification/)
  has(/^rule 'bad-rule', field 'actions\[1\]\.config\.action': "explode" is not valid; use block \| rate_limit/)
  has(/^rule 'bad-rule', field 'throttling\.max_frequency': "soon" is not a duration/)
  has(/^rule 'bad-rule', field 'schedule\.timezone': "Mars\/Olympus" is not a known time zone; use an IANA name/)
  has(/^rule 'bad-rule', field 'alert_id': is used by more than one rule/)
  has(/^maintenance window 'nightly', field 'schedule': "0 2 \* \*" has 4 fields, not 5; write 5 fields/)
  has(/^maintenance window 'nightly', field 'rules': 'missing-rule' is not a rule of this file/)
  has(/^maintenance window 'once', field 'start': "2026-12-01 22:00" is not an ISO-8601 time with an offset/)
  has(/^maintenance window 'both': give either schedule \+ duration \(recurring\) or start \+ end \(once\), not both/)
  assert.equal(issues.length, 12, text.join('\n'))
})

test('aggregation thresholds are checked against the function', () => {
  const rule = (aggregation: string): string =>
    `rules:\n  - alert_id: a\n    name: A\n    conditions: { trigger: anomaly, aggregation: ${aggregation} }\n    actions: [{ type: incident }]\n`
  assert.match(
    describeAlertRulesIssue(issuesOf(rule('{ window: 5m, function: count, threshold: 2.5 }'))[0]!),
    /field 'conditions\.aggregation\.threshold': 2\.5 is not valid for count; give an integer >= 1/,
  )
  assert.match(describeAlertRulesIssue(issuesOf(rule('{ window: 5m, function: avg, threshold: 3 }'))[0]!), /3 is not valid for avg; give a score in \(0, 1\]/)
  assert.match(describeAlertRulesIssue(issuesOf(rule('{ function: max, threshold: 0.9 }'))[0]!), /field 'conditions\.aggregation\.window': is required/)
  assert.deepEqual(parseAlertRulesConfig(rule('{ window: 10m, function: sum, threshold: 2.5 }')).rules[0]!.aggregation, {
    windowMs: 600_000,
    function: 'sum',
    threshold: 2.5,
  })
})

test('a file that is not a rules file, and YAML errors, are one clear issue', () => {
  assert.match(describeAlertRulesIssue(issuesOf('detectors: []')[0]!), /field 'rules': is required: a list of alert rules/)
  assert.match(describeAlertRulesIssue(issuesOf('rules: [')[0]!), /^YAML syntax:/)
  assert.throws(() => loadAlertRulesConfig('/nonexistent/rules.yaml'), /cannot read the file/)
})

test('absolute maintenance windows and throttling 0', () => {
  const config = parseAlertRulesConfig(`
rules:
  - alert_id: r
    name: R
    conditions: { trigger: anomaly }
    actions: [{ type: webhook, config: { url: "https://example.com/hook" } }]
    throttling: { max_frequency: 0, grouping: [] }
maintenance_windows:
  - name: migration
    start: "2026-12-01T17:00:00-05:00"
    end: "2026-12-02T02:00:00Z"
`)
  assert.deepEqual(config.rules[0]!.throttling, { maxFrequencyMs: 0, grouping: [] })
  assert.deepEqual(config.maintenanceWindows, [
    { kind: 'absolute', name: 'migration', rules: null, startMs: Date.UTC(2026, 11, 1, 22), endMs: Date.UTC(2026, 11, 2, 2) },
  ])
})
