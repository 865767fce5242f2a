import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { test } from 'node:test'
import {
  ACTION_TYPES,
  AGGREGATION_FUNCTIONS,
  ALERT_SEVERITIES,
  DAYS_OF_WEEK,
  GROUPING_FIELDS,
} from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { RECEIVER_TYPES } from '../../../../../apps/sentinel/delivery/receivers-config.js'
import { DETECTOR_TYPES, MISSING_GROUP, STRATEGIES } from '../../../../../apps/sentinel/detectors-config.js'
import { GROUP_BY } from '../../../../../apps/sentinel/metrics.js'
import { SESSION_FEATURES } from '../../../../../operators/detectors/session-features.js'
import { STD_CONFIDENCE_LEVELS } from '../../../../../operators/detectors/std-bound.js'
import { WINDOW_AGGREGATES } from '../../../../../operators/dsl/window-metric.js'
import { compileConfigSchema, describeConfigIssue, parseConfigText, validateConfig } from '../../../../../schemas/config/config-reader.js'

const SCHEMAS = new URL('../../../../../apps/sentinel/config-schemas/', import.meta.url)
const APP = new URL('../../../../../apps/sentinel/', import.meta.url)
const schemaOf = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(name, SCHEMAS), 'utf8')) as Record<string, unknown>

/** Every shipped default YAML and the schema its modeline names. */
const defaults = readdirSync(APP)
  .filter((f) => f.endsWith('.default.yaml'))
  .map((file) => {
    const text = readFileSync(new URL(file, APP), 'utf8')
    return { file, text, schema: /^# yaml-language-server: \$schema=\.\/config-schemas\/(\S+)$/m.exec(text)?.[1] ?? null }
  })

test('every shipped default YAML that names a schema validates against it', () => {
  const named = defaults.filter((d) => d.schema !== null)
  assert.ok(named.length > 0, 'at least one default names its schema')
  for (const { file, text, schema } of named) {
    const parsed = parseConfigText(text)
    assert.deepEqual(parsed.issues, [], file)
    const issues = validateConfig(compileConfigSchema(schemaOf(schema!)), parsed.value)
    assert.deepEqual(
      issues.map((i) => describeConfigIssue(file, i)),
      [],
      `${file} against ${schema}`,
    )
  }
})

test('every published schema compiles (strict) and is named by a shipped default', () => {
  const names = readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json'))
  for (const name of names) {
    assert.doesNotThrow(() => compileConfigSchema(schemaOf(name)), name)
    assert.ok(
      defaults.some((d) => d.schema === name),
      `${name} is named by a default YAML's modeline`,
    )
  }
})

/** The node at a path of keys in a parsed schema. */
const at = (node: unknown, ...keys: string[]): unknown => keys.reduce((n, k) => (n as Record<string, unknown>)[k], node)

test("the alert rules schema's enums are the code's", () => {
  const rule = at(schemaOf('alert-rules.schema.json'), 'definitions', 'rule', 'properties')
  assert.deepEqual(at(rule, 'conditions', 'properties', 'filters', 'properties', 'severity', 'items', 'enum'), [...ALERT_SEVERITIES])
  assert.deepEqual(at(rule, 'conditions', 'properties', 'aggregation', 'properties', 'function', 'enum'), [...AGGREGATION_FUNCTIONS])
  assert.deepEqual(at(rule, 'actions', 'items', 'properties', 'type', 'enum'), [...ACTION_TYPES])
  // grouping also takes the detectors' dimensions (checked in code when the rules load): the anomaly fields are its examples.
  assert.deepEqual(at(rule, 'throttling', 'properties', 'grouping', 'items', 'examples'), [...GROUPING_FIELDS])
  assert.deepEqual(at(rule, 'schedule', 'properties', 'days_of_week', 'items', 'enum'), [...DAYS_OF_WEEK])
})

test("the receivers schema's types are the code's", () => {
  assert.deepEqual(at(schemaOf('receivers.schema.json'), 'definitions', 'receiver', 'properties', 'type', 'enum'), [...RECEIVER_TYPES])
})

test("the detectors schema's allowed values are the code's", () => {
  const detector = at(schemaOf('detectors.schema.json'), 'definitions', 'detector', 'properties')
  assert.deepEqual(at(detector, 'strategy', 'enum'), [...STRATEGIES])
  assert.deepEqual(at(detector, 'type', 'enum'), [...DETECTOR_TYPES])
  // groupBy also takes field paths (checked in code against TelemetryEvent): the short names are its examples.
  assert.deepEqual((at(detector, 'groupBy', 'examples') as string[]).slice(0, GROUP_BY.length), [...GROUP_BY])
  assert.deepEqual(at(detector, 'missingGroup', 'enum'), [...MISSING_GROUP])
  assert.deepEqual(at(detector, 'cohort', 'enum'), [...GROUP_BY])
  assert.deepEqual(at(detector, 'aggregate', 'enum'), [...WINDOW_AGGREGATES])
  assert.deepEqual(at(detector, 'features', 'items', 'enum'), [...SESSION_FEATURES])
  assert.deepEqual(at(detector, 'stdConfidence', 'enum'), [...STD_CONFIDENCE_LEVELS])
  // Parameters may sit under config: too, with the same schema.
  for (const field of ['aggregate', 'condition', 'direction', 'cohort', 'features', 'stdConfidence', 'early'])
    assert.deepEqual(at(detector, 'config', 'properties', field), at(detector, field), field)
})
