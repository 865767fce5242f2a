/**
 * The dispatcher's view of the alert rules: a version changing a rule's labels or the templates
 * reaches it without a restart (silences match the new labels, deliveries render the new
 * templates); a version that does not parse leaves the last one; a rollback restores.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pino from 'pino'
import { rulesFileVersion } from '../../../../../apps/sentinel/alerting/alert-rule-versions.js'
import { parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { startedRules } from '../../../../../apps/sentinel/api/alert-rule-version-writer.js'
import { RulesInForce } from '../../../../../apps/sentinel/delivery/rules-in-force.js'
import type { StreamsRuntime } from '../../../../../runtime/streams-runtime.js'

const rules = (labels: string, templates = ''): string => `${templates}rules:
  - alert_id: costly
    name: Costly
    conditions: { trigger: anomaly }
    actions: [{ type: webhook }]
${labels}`

/** A stored version of a rules file, as the writer puts it under `alert-rules/current`. */
function stored(version: number, yaml: string): unknown {
  const config = parseAlertRulesConfig(yaml)
  return { version, created_at: new Date(0).toISOString(), op: 'update', ...rulesFileVersion(config.document ?? {}) }
}

test('labels and templates follow the version in force; garbage keeps the last; a rollback restores', async () => {
  let current: unknown = undefined
  const runtime = { keyValueStore: () => ({ get: async (key: string) => (key === 'alert-rules/current' ? current : undefined) }) } as unknown as Pick<
    StreamsRuntime,
    'keyValueStore'
  >
  const started = rules('    labels: { team: platform }\n')
  const startingRules = startedRules(parseAlertRulesConfig(started))
  const inForce = new RulesInForce(runtime, () => startingRules, pino({ level: 'silent' }))
  await inForce.start(60_000)
  assert.deepEqual(inForce.rule('costly')?.labels, { team: 'platform' })
  assert.equal(inForce.templates().size, 0)

  current = stored(1, rules('    labels: { team: ml }\n', 'templates:\n  short: { title: "cost: {{title}}" }\n'))
  await inForce.refresh()
  assert.deepEqual(inForce.rule('costly')?.labels, { team: 'ml' })
  assert.deepEqual([...inForce.templates().keys()], ['short'])
  assert.equal(inForce.applied, 1)

  current = { version: 2, definitions: 'not a list' }
  await inForce.refresh()
  assert.equal(inForce.applied, 0, 'a version that does not parse: the start-up file applies')
  assert.deepEqual(inForce.rule('costly')?.labels, { team: 'platform' })

  current = stored(3, started)
  await inForce.refresh()
  assert.deepEqual(inForce.rule('costly')?.labels, { team: 'platform' })
  assert.equal(inForce.templates().size, 0)
  await inForce.close()
})
