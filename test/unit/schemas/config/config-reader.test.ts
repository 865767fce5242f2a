import assert from 'node:assert/strict'
import { test } from 'node:test'
import { closestName } from '../../../../schemas/config/closest-name.js'
import { ConfigFileError, compileConfigSchema, describeConfigIssue, fieldPath, readConfigText } from '../../../../schemas/config/config-reader.js'

const validator = compileConfigSchema({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['detectors'],
  additionalProperties: false,
  properties: {
    version: { type: 'integer' },
    detectors: {
      type: 'array',
      minItems: 1,
      'x-fix': 'a list of detectors, e.g. [{ id: spike, threshold: 3 }]',
      items: {
        type: 'object',
        required: ['id'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', minLength: 1, 'x-fix': 'a unique name, e.g. token-spike' },
          threshold: { type: 'number', exclusiveMinimum: 0, 'x-fix': 'a |z| > 0, e.g. 3' },
          severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
          window: { type: ['string', 'number'], 'x-fix': 'a duration such as 30s or 5m' },
          labels: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          percentile: { type: 'number', minimum: 0, maximum: 1 },
        },
      },
    },
  },
})

function messages(text: string): string[] {
  try {
    readConfigText(text, 'detectors.yaml', validator)
  } catch (err) {
    assert.ok(err instanceof ConfigFileError, String(err))
    return err.issues.map((i) => describeConfigIssue(err.source, i))
  }
  assert.fail('expected ConfigFileError')
}

test('a good file is returned as parsed', () => {
  assert.deepEqual(readConfigText('detectors: [{ id: a, threshold: 3, window: 5m }]', 'd.yaml', validator), {
    detectors: [{ id: 'a', threshold: 3, window: '5m' }],
  })
  assert.deepEqual(readConfigText('{"detectors": [{"id": "a"}]}', 'd.json', validator), { detectors: [{ id: 'a' }] }, 'JSON reads as YAML')
})

test('a wrong type names the field by its path, the type and the fix', () => {
  assert.deepEqual(messages('detectors:\n  - id: a\n  - id: b\n  - id: c\n    threshold: high\n'), [
    'detectors.yaml: detectors[2].threshold: must be a number; a |z| > 0, e.g. 3',
  ])
  assert.deepEqual(messages('detectors: { id: a }'), ['detectors.yaml: detectors: must be a list; a list of detectors, e.g. [{ id: spike, threshold: 3 }]'])
})

test('an unknown key is named with the closest known key and the known ones', () => {
  assert.deepEqual(messages('detectors: [{ id: a, treshold: 3 }]'), [
    "detectors.yaml: detectors[0].treshold: is not a known field; did you mean 'threshold'? the fields here are id, threshold, severity, window, labels, percentile",
  ])
  assert.deepEqual(messages('detectors: [{ id: a }]\ncolour: red'), ['detectors.yaml: colour: is not a known field; the fields here are version, detectors'])
})

test('a missing required field says what to write', () => {
  assert.deepEqual(messages('detectors: [{ threshold: 3 }]'), ['detectors.yaml: detectors[0].id: is required; a unique name, e.g. token-spike'])
  assert.deepEqual(messages('version: 1'), ['detectors.yaml: detectors: is required; a list of detectors, e.g. [{ id: spike, threshold: 3 }]'])
})

test('an enum miss lists the allowed values; ranges give their bounds', () => {
  assert.deepEqual(messages('detectors: [{ id: a, severity: fatal }]'), [
    'detectors.yaml: detectors[0].severity: "fatal" is not valid; use info | warning | critical',
  ])
  assert.deepEqual(messages('detectors: [{ id: a, threshold: 0 }]'), ['detectors.yaml: detectors[0].threshold: 0 is not valid; a |z| > 0, e.g. 3'])
  assert.deepEqual(messages('detectors: [{ id: a, percentile: 1.5 }]'), [
    'detectors.yaml: detectors[0].percentile: 1.5 is not valid; give a number >= 0 and <= 1',
  ])
  assert.deepEqual(messages('detectors: [{ id: a, labels: [x, y, x] }]'), ['detectors.yaml: detectors[0].labels: lists "x" twice; list each once'])
})

test('every issue is reported at once; YAML syntax errors are issues of the file', () => {
  assert.equal(messages('detectors: [{ id: 1, threshold: -1, severity: x }, {}]\nextra: 1').length, 5)
  const [syntax] = messages('detectors: [')
  assert.match(syntax!, /^detectors\.yaml: \(file\): YAML syntax:/)
})

test('field paths and close names', () => {
  assert.equal(fieldPath(['rules', 2, 'conditions', 'trigger']), 'rules[2].conditions.trigger')
  assert.equal(fieldPath([]), '(file)')
  assert.equal(closestName('serverity', ['severity', 'strategy']), 'severity')
  assert.equal(closestName('group_by', ['groupBy', 'grace']), 'groupBy')
  assert.equal(closestName('colour', ['id', 'threshold']), null)
})
