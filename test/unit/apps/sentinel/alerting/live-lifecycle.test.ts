/**
 * The alert lifecycle's settings applied live through the config topic (a version written mid-run,
 * as the API and the watched file write it), on the TopologyTestDriver's wall clock: groupWait and
 * groupBy (new groups by the new labels), auto-resolve turned on where it was off at start (alerts
 * already held resolve by it, anomalies keep theirs alive), escalation policies and a rule's
 * escalation. Each switches behaviour without a restart, and a rollback restores it. And how the
 * API answers each kind of change: live, live-fresh, restart-required.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { type RuleVersionChange, rulesFileVersion, ruleVersionChanges } from '../../../../../apps/sentinel/alerting/alert-rule-versions.js'
import { startedRules } from '../../../../../apps/sentinel/api/alert-rule-version-writer.js'
import { MIN, liveRulesHarness } from './live-rules-harness.js'

const each = (extra = '', ruleExtra = ''): string => `${extra}rules:
  - alert_id: each
    name: Each
    conditions: { trigger: anomaly }
    actions: [{ type: webhook }]
${ruleExtra}`

const kinds = (notes: { notification: { kind: string } }[]): string[] => notes.map((x) => x.notification.kind)

test('groupWait and groupBy apply mid-run to the next group; a rollback restores the wait', async () => {
  const waiting = 'grouping: { groupBy: [severity], groupWait: 5m }\n'
  const h = await liveRulesHarness(each(waiting), [], true)
  await h.at([0], { severity: 'warning' })
  assert.deepEqual(h.notes(), [], 'a new group waits 5m at start')
  await h.driver.advanceWallClockTime(5 * MIN)
  assert.deepEqual(kinds(h.notes()), ['firing'])

  await h.publish(each('grouping: { groupBy: [severity], groupWait: 0 }\n'))
  await h.at([1], { severity: 'critical' })
  assert.deepEqual(kinds(h.notes()), ['firing'], 'no wait now: the new group is notified at once')

  await h.publish(each(waiting))
  await h.at([2], { severity: 'info' })
  assert.deepEqual(h.notes(), [], 'rolled back: the next new group waits again')
  await h.driver.advanceWallClockTime(5 * MIN)
  assert.deepEqual(kinds(h.notes()), ['firing'])

  // A new groupBy: new alerts group by it (both severities in one group of the application).
  await h.publish(each('grouping: { groupBy: [application_id], groupWait: 5m }\n'))
  await h.at([3], { severity: 'warning' })
  await h.at([4], { severity: 'critical' })
  await h.driver.advanceWallClockTime(5 * MIN)
  const [batch, ...rest] = h.notes()
  assert.deepEqual(rest, [])
  assert.deepEqual(batch!.notification.group_labels, { application_id: 'chatbot' })
  assert.equal(batch!.notification.alerts.length, 2)
  await h.driver.close()
})

test('auto-resolve turned on by a version resolves alerts held since before it; anomalies keep theirs firing; a rollback turns it off', async () => {
  const h = await liveRulesHarness(each(), [], true)
  await h.at([0])
  assert.deepEqual(kinds(h.notes()), ['firing'])
  await h.driver.advanceWallClockTime(60 * MIN)
  assert.deepEqual(h.notes(), [], 'no auto-resolve at start')

  await h.publish(each('resolve: { timeout: 10m }\n'))
  await h.driver.advanceWallClockTime(MIN)
  assert.deepEqual(kinds(h.notes()), ['resolved'], 'the alert held since start resolves under the new timeout')

  // Alerts in one rule group (per-anomaly rule: one alert each); each anomaly marks the group seen.
  await h.at([70])
  await h.driver.advanceWallClockTime(6 * MIN)
  await h.at([76])
  assert.deepEqual(kinds(h.notes()), ['firing', 'firing'])
  await h.driver.advanceWallClockTime(6 * MIN)
  assert.deepEqual(h.notes(), [], 'seen 6m ago: the first alert is still firing though it fired 12m ago')
  await h.driver.advanceWallClockTime(5 * MIN)
  assert.deepEqual(kinds(h.notes()), ['resolved'], 'both resolve 10m after the last anomaly, in one notification')

  await h.publish(each())
  await h.at([90])
  assert.deepEqual(kinds(h.notes()), ['firing'])
  await h.driver.advanceWallClockTime(60 * MIN)
  assert.deepEqual(h.notes(), [], 'rolled back: no auto-resolve')
  await h.driver.close()
})

test("an escalation policy and a rule's escalation added by a version escalate the next alert; a rollback stops escalating", async () => {
  const policy = 'escalation_policies:\n  - name: page\n    levels: [{ after: 10m, receivers: [pagerduty-oncall] }]\n'
  const h = await liveRulesHarness(each(), [], true)
  await h.at([0])
  await h.driver.advanceWallClockTime(20 * MIN)
  assert.deepEqual(kinds(h.notes()), ['firing'], 'no escalation at start')

  await h.publish(each(policy, '    escalation: page\n'))
  await h.at([1])
  await h.driver.advanceWallClockTime(10 * MIN)
  const notes = h.notes()
  assert.deepEqual(kinds(notes), ['firing', 'escalation'])
  assert.deepEqual(notes[1]!.actions[0]!.config.receivers, ['pagerduty-oncall'])

  await h.publish(each())
  await h.at([2])
  await h.driver.advanceWallClockTime(20 * MIN)
  assert.deepEqual(kinds(h.notes()), ['firing'], 'rolled back: the next alert does not escalate')
  await h.driver.close()
})

test('the answer per change: lifecycle sections and escalation live, a new groupBy live-fresh, labels and templates live (the dispatcher reads them from the version in force)', () => {
  const before = parseAlertRulesConfig(each('grouping: { groupBy: [rule], groupWait: 30s }\n'))
  const started = startedRules(before)
  const version = (yaml: string) => {
    const config = parseAlertRulesConfig(yaml)
    return { config, sections: rulesFileVersion(config.document ?? {}).sections ?? {} }
  }
  const changes = (yaml: string): RuleVersionChange[] => ruleVersionChanges(started, { config: before, sections: started.sections }, version(yaml))
  const policy = 'escalation_policies:\n  - name: page\n    levels: [{ after: 10m, receivers: [oncall] }]\n'
  assert.deepEqual(changes(each('grouping: { groupBy: [rule], groupWait: 1m }\nresolve: { timeout: 10m }\n')), [
    { rule_id: null, field: 'grouping', applied: 'live' },
    { rule_id: null, field: 'resolve', applied: 'live' },
  ])
  assert.deepEqual(changes(each('grouping: { groupBy: [severity], groupWait: 30s }\n')), [{ rule_id: null, field: 'grouping', applied: 'live-fresh' }])
  assert.deepEqual(changes(each(`grouping: { groupBy: [rule], groupWait: 30s }\n${policy}`, '    escalation: page\n')), [
    { rule_id: 'each', field: 'escalation', applied: 'live' },
    { rule_id: null, field: 'escalation_policies', applied: 'live' },
  ])
  assert.deepEqual(changes(each('grouping: { groupBy: [rule], groupWait: 30s }\n', '    labels: { team: ml }\n')), [
    { rule_id: 'each', field: 'labels', applied: 'live' },
  ])
  assert.deepEqual(changes(each('grouping: { groupBy: [rule], groupWait: 30s }\ntemplates: { short: { title: "{{title}}" } }\n')), [
    { rule_id: null, field: 'templates', applied: 'live' },
  ])
})
