import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AlertRulesConfigError, parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { renderTemplate, templateProblems } from '../../../../../apps/sentinel/alerting/notification-templates.js'

const RULE = `rules:
  - alert_id: page
    name: Page
    conditions: { trigger: anomaly }
    actions: [{ type: notification, config: { receivers: [oncall], template: TEMPLATE } }]
    escalation: POLICY
`

function issues(yaml: string): string[] {
  try {
    parseAlertRulesConfig(yaml)
  } catch (err) {
    assert.ok(err instanceof AlertRulesConfigError)
    return err.issues.map((i) => `${i.field}: ${i.message}`)
  }
  return []
}

test('the seed\'s grouping, a resolve timeout, escalation policies and templates load', () => {
  const config = parseAlertRulesConfig(`${RULE.replace('TEMPLATE', 'critical-anomaly').replace('POLICY', 'lead')}
grouping: { groupBy: [application, detector_id], groupWait: 30s, groupInterval: 5m }
resolve: { timeout: 15m }
escalation_policies:
  - name: lead
    levels: [{ after: 15m, receivers: [lead] }, { after: 1h, receivers: [director] }]
templates:
  critical-anomaly:
    title: "{{severity}}: {{rule_name}} on {{labels.application}}"
    text: "{{#alerts}}- {{title}} ({{detector_id}}){{/alerts}} {{anomaly.affected_entity.id}} {{notification.count}} {{link}}"
`)
  const l = config.lifecycle!
  assert.deepEqual([l.groupBy, l.groupWaitMs, l.groupIntervalMs, l.resolveTimeoutMs], [['application', 'detector_id'], 30_000, 300_000, 900_000])
  assert.deepEqual(l.escalationPolicies.get('lead')!.levels.map((x) => [x.afterMs, x.receivers]), [[900_000, ['lead']], [3_600_000, ['director']]])
  assert.equal(config.rules[0]!.escalation, 'lead')
  assert.ok(l.templates.has('critical-anomaly'))
})

test('unknown placeholders, unknown templates and policies, bad waits and levels are refused at load, each naming its field', () => {
  const found = issues(`${RULE.replace('TEMPLATE', 'nope').replace('POLICY', 'missing')}
grouping: { groupBy: [alert_id], groupWait: soon }
escalation_policies:
  - name: p
    levels: [{ after: 1h, receivers: [a] }, { after: 30m, receivers: [b] }]
templates:
  t:
    title: "{{severity}} {{sevrity}} {{anomaly.scor}}"
    text: "{{#alerts}}{{detector_id}}{{/alerts}} {{detector_id}} {{> partial}}"
`)
  const expect = [
    /^grouping\.groupBy: alert_id is not a grouping label/,
    /^grouping\.groupWait: "soon" is not a duration/,
    /^escalation_policies\[0\]\.levels\[1\]\.after: must be later than the level before it/,
    /^templates\.t\.title: \{\{sevrity\}\} is unknown/,
    /^templates\.t\.title: \{\{anomaly\.scor\}\} is unknown: anomaly has anomaly_id/,
    /^templates\.t\.text: \{\{detector_id\}\} is unknown/,
    /^templates\.t\.text: \{\{> partial\}\}: partials are not supported/,
    /^escalation: "missing" is not an escalation policy of this file; use p/,
    /^actions\[0\]\.config\.template: "nope" is not a template of this file; use t/,
  ]
  for (const re of expect) assert.ok(found.some((f) => re.test(f)), `expected ${re} in:\n${found.join('\n')}`)
  assert.equal(found.length, expect.length, found.join('\n'))
})

test('templates render without escaping and execute nothing', () => {
  assert.deepEqual(templateProblems('{{#alerts}}{{.}}{{/alerts}}'), [])
  assert.equal(renderTemplate('{{title}} <{{description}}>', { title: 'a & b', description: '<script>' }), 'a & b <<script>>')
  // Mustache calls functions it finds, through prototypes too: the view is rendered as plain data without prototypes.
  assert.equal(renderTemplate('{{constructor}}{{labels.constructor}}{{#title}}x{{/title}}{{fn}}', { title: 't', labels: {}, fn: () => 'called' }), 'x')
  assert.match(templateProblems('{{labels.constructor}}')[0]!, /is unknown: a label name/)
})
