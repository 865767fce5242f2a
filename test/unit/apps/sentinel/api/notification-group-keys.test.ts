/**
 * `PUT /api/v1/alerts/:id` keys its command by the alert's notification group under the rules
 * version in force, read from the instance's config table: after a version changes
 * `grouping.groupBy`, an acknowledgement goes where the lifecycle now groups the alert, and a
 * rollback keys it as at start again.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { rulesFileVersion } from '../../../../../apps/sentinel/alerting/alert-rule-versions.js'
import { addAlerting } from '../../../../../apps/sentinel/alerting/alert-topology.js'
import { startedRules } from '../../../../../apps/sentinel/api/alert-rule-version-writer.js'
import { liveNotificationGroupKeys } from '../../../../../apps/sentinel/api/notification-group-keys.js'
import { configTable } from '../../../../../apps/sentinel/live-detector-settings.js'
import { TopologyTestDriver } from '../../../../../runtime/testing/index.js'
import type { AnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../../schemas/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'
import { sampleAlert } from '../delivery/fixtures.js'
import { DriverRuntime } from './driver-runtime.js'

const CONFIG_TOPIC = 'sentinel-config'
const rules = (groupBy: string): string => `grouping: { groupBy: [${groupBy}] }
rules:
  - alert_id: critical-anomalies
    name: Critical anomalies
    conditions: { trigger: anomaly }
    actions: [{ type: webhook }]
`

test('the group key follows the groupBy of the version in force', async () => {
  const config = parseAlertRulesConfig(rules('rule'))
  const builder = new StreamsBuilder()
  addAlerting(builder, builder.stream('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() }), {
    rules: config,
    live: { table: configTable(builder, CONFIG_TOPIC) },
  })
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'group-keys' })
  try {
    const runtime = new DriverRuntime(driver, new Set(['anomalies', CONFIG_TOPIC]))
    const keyOf = liveNotificationGroupKeys(runtime, () => startedRules(config))
    const alert = sampleAlert({ rule_id: 'critical-anomalies', severity: 'critical' })
    const publish = (version: number, groupBy: string) => {
      const record = {
        version,
        created_at: new Date(0).toISOString(),
        op: 'config',
        rule_id: null,
        from_version: null,
        ...rulesFileVersion(parseAlertRulesConfig(rules(groupBy)).document ?? {}),
      }
      return runtime.send(CONFIG_TOPIC, [{ key: 'alert-rules/current', value: JSON.stringify(record) }])
    }
    assert.equal(await keyOf(alert), 'rule=critical-anomalies', 'version 0: the rules file')
    await publish(1, 'severity')
    assert.equal(await keyOf(alert), 'severity=critical')
    await publish(2, 'rule')
    assert.equal(await keyOf(alert), 'rule=critical-anomalies', 'rolled back')
  } finally {
    await driver.close()
  }
})
