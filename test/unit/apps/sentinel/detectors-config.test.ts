import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  DEFAULT_DETECTORS_PATH,
  DetectorsConfigError,
  type DetectorConfigIssue,
  describeIssue,
  loadDetectorsConfig,
  parseDetectorsConfig,
  parseDuration,
} from '../../../../apps/sentinel/detectors-config.js'
import { severityFloor } from '../../../../apps/sentinel/severity-floor.js'

/** The issues of a file that must fail, as `detector 'x', field 'y': message` lines. */
function issues(text: string): string[] {
  try {
    parseDetectorsConfig(text)
  } catch (err) {
    assert.ok(err instanceof DetectorsConfigError, String(err))
    return err.issues.map((i: DetectorConfigIssue) => describeIssue(i))
  }
  assert.fail('the file was accepted')
}

const zscore = (extra: string) => `
detectors:
  - id: latency-z
    type: statistical
    strategy: zscore
    metric: latency_ms
    window: 1m
    threshold: 3
${extra}`

describe('the default detectors file', () => {
  test('loads, with the six documented cases', () => {
    const config = loadDetectorsConfig(DEFAULT_DETECTORS_PATH)
    const documentedCases = new Set([
      'token-rate-spike',
      'latency-spike-per-model',
      'cost-threshold',
      'error-rate-burst',
      'user-behaviour-anomaly',
      'model-version-regression',
    ])
    assert.deepEqual(
      config.detectors.filter((d) => documentedCases.has(d.id)).map((d) => [d.id, d.type, d.strategy, d.groupBy]),
      [
        ['token-rate-spike', 'statistical', 'zscore', 'application'],
        ['latency-spike-per-model', 'statistical', 'zscore', 'model'],
        ['cost-threshold', 'rule', 'consecutive', 'application'],
        ['error-rate-burst', 'rule', 'ratio', 'application'],
        ['user-behaviour-anomaly', 'behavioral', 'session-profile', 'user'],
        ['model-version-regression', 'statistical', 'percentile', 'model'],
      ],
    )
  })

  test("reads the seed's nested config, its value/condition spelling and its actions", () => {
    const cost = loadDetectorsConfig(DEFAULT_DETECTORS_PATH).detectors.find((d) => d.id === 'cost-threshold')
    assert.ok(cost && cost.strategy === 'consecutive')
    assert.equal(cost.metric, 'cost')
    assert.equal(cost.comparison, '>')
    assert.equal(cost.threshold, 1)
    assert.equal(cost.consecutive, 3)
    assert.equal(cost.window, null)
    assert.equal(cost.severity, 'critical')
    // The shipped detectors ask for no actions of their own: the alert rules route them.
    assert.deepEqual(cost.actions, [])
    const seeded = parseDetectorsConfig(
      `detectors:\n  - id: c\n    type: rule\n    strategy: threshold\n    config: { metric: cost, condition: greater_than, value: 1.0 }\n    actions:\n      - alert: high-cost-request\n        severity: critical\n      - shield: rate_limit\n      - shield: block\n        minScore: 0.9\n        minSeverity: warning\n`,
    ).detectors[0]!
    assert.deepEqual(seeded.actions, [
      { kind: 'alert', name: 'high-cost-request', severity: 'critical' },
      { kind: 'shield', action: 'rate_limit', gate: { minSeverity: 'critical', minScore: 0.75 } },
      { kind: 'shield', action: 'block', gate: { minSeverity: 'warning', minScore: 0.9 } },
    ])
    const tokens = loadDetectorsConfig(DEFAULT_DETECTORS_PATH).detectors.find((d) => d.id === 'token-rate-spike')
    assert.ok(tokens && tokens.strategy === 'zscore')
    assert.deepEqual([tokens.windowMs, tokens.graceMs, tokens.aggregate, tokens.threshold], [300_000, 30_000, 'rate', 4])
  })

  test("the seed's own example list shape ({ version, items }) is accepted", () => {
    const config = parseDetectorsConfig(
      `detectors:\n  version: v1.2.0\n  items:\n    - id: a\n      type: rule\n      strategy: threshold\n      metric: cost\n      threshold: 1\n`,
    )
    assert.equal(config.detectors[0]?.id, 'a')
  })
})

describe('detectors file mistakes name the detector, the field and the fix', () => {
  test('a minimal detector gets defaults', () => {
    const [d] = parseDetectorsConfig(zscore('')).detectors
    assert.ok(d && d.strategy === 'zscore')
    assert.deepEqual(
      [d.groupBy, d.aggregate, d.direction, d.baselineWindows, d.minHistory, d.enabled, d.severity],
      ['application', 'mean', 'both', 60, 20, true, 'warning'],
    )
  })

  test('unknown strategy and type', () => {
    assert.deepEqual(issues(zscore('').replace('strategy: zscore', 'strategy: classifier').replace('type: statistical', 'type: neural')), [
      "detector 'latency-z', field 'strategy': \"classifier\" is not valid; use one of zscore | threshold | consecutive | session-profile | ewma | percentile | ratio | sliding-sum | outlier-streak | cusum | binomial-burst | record-cusum",
      "detector 'latency-z', field 'type': \"neural\" is not valid; use one of statistical | rule | behavioral",
    ])
  })

  test('an unknown groupBy: neither a short name nor a TelemetryEvent field path (group-by-field-path.test.ts has more)', () => {
    const [issue] = issues(zscore('    groupBy: country'))
    assert.match(
      issue ?? '',
      /^detector 'latency-z', field 'groupBy': 'country' is not a field of TelemetryEvent \(did you mean metadata\.tags\.country\?\); a path names a field \(.*source\.host.*\) or a key of data\.dimensions or metadata\.tags; or a short name: application \| model \| user \| tenant \| host \| region \| api_key$/,
    )
  })

  test('a type that does not fit the strategy', () => {
    assert.deepEqual(issues(zscore('').replace('type: statistical', 'type: rule')), [
      "detector 'latency-z', field 'type': 'rule' does not fit strategy 'zscore'; use type statistical",
    ])
  })

  test('a missing or unknown metric', () => {
    assert.match(
      issues(zscore('').replace('metric: latency_ms', 'metric: latency'))[0] ?? '',
      /^detector 'latency-z', field 'metric': "latency" is not a known metric; use one of latency_ms, .*metric:<metric_name>/,
    )
    assert.match(
      issues(zscore('').replace('    metric: latency_ms\n', ''))[0] ?? '',
      /^detector 'latency-z', field 'metric': is required; use one of latency_ms/,
    )
  })

  test('a bad duration', () => {
    assert.deepEqual(issues(zscore('').replace('window: 1m', 'window: 5 minutes')), [
      "detector 'latency-z', field 'window': \"5 minutes\" is not a duration; write e.g. 500ms, 30s, 5m, 1h",
    ])
  })

  test('a bad or missing number', () => {
    assert.deepEqual(issues(zscore('').replace('threshold: 3', 'threshold: -1')), [
      "detector 'latency-z', field 'threshold': -1 is not valid; give a |z| > 0, e.g. 3",
    ])
    assert.deepEqual(issues(zscore('    minHistory: 80')), [
      "detector 'latency-z', field 'minHistory': 80 exceeds baselineWindows (60); lower it or raise baselineWindows",
    ])
    assert.deepEqual(issues(`detectors:\n  - id: r\n    type: rule\n    strategy: threshold\n    metric: cost\n`), [
      "detector 'r', field 'threshold': is required; give a number: the bound the metric is compared with",
    ])
    assert.deepEqual(issues(`detectors:\n  - id: c\n    type: rule\n    strategy: consecutive\n    metric: cost\n    threshold: 1\n    consecutive: 1\n`), [
      "detector 'c', field 'consecutive': 1 is not valid; give an integer >= 2 (breaches in a row)",
    ])
  })

  test("a misspelt field lists the strategy's fields", () => {
    assert.match(
      issues(zscore('    treshold: 4'))[0] ?? '',
      /^detector 'latency-z', field 'treshold': is not a field of a zscore detector; its fields are id, type, .*threshold/,
    )
  })

  test('a field given both at the top level and under config', () => {
    assert.deepEqual(issues(zscore('    config:\n      threshold: 4')), [
      "detector 'latency-z', field 'threshold': is given both at the top level and under config; keep one",
    ])
  })

  test('a bad condition, and a bad action', () => {
    const rule = `detectors:\n  - id: r\n    type: rule\n    strategy: threshold\n    metric: cost\n    threshold: 1\n    condition: above\n    actions:\n      - shield: nuke\n      - alert: x\n        severity: loud\n`
    assert.deepEqual(issues(rule), [
      "detector 'r', field 'actions[0].shield': \"nuke\" is not valid; use block | rate_limit",
      "detector 'r', field 'actions[1].severity': \"loud\" is not valid; use one of info | warning | critical",
      "detector 'r', field 'condition': \"above\" is not valid; use greater_than | greater_or_equal | less_than | less_or_equal | equal",
    ])
  })

  test('percentile needs a bound or a factor; session-profile features must be known', () => {
    assert.deepEqual(issues(`detectors:\n  - id: p\n    type: statistical\n    strategy: percentile\n    metric: latency_ms\n    window: 5m\n`), [
      "detector 'p', field 'threshold': a percentile detector needs threshold (an absolute bound) and/or factor (a multiple of its baseline)",
    ])
    assert.match(
      issues(`detectors:\n  - id: s\n    type: behavioral\n    strategy: session-profile\n    threshold: 4\n    features: [requests, vibes]\n`)[0] ?? '',
      /^detector 's', field 'features\[1\]': "vibes" is not valid; use one of requests \| tokens/,
    )
  })

  test('session-profile early verdicts: read, off when absent or false, bad fields named', () => {
    const session = (early: string) => `detectors:\n  - id: s\n    type: behavioral\n    strategy: session-profile\n    threshold: 4\n${early}`
    const read = (early: string) => {
      const [detector] = parseDetectorsConfig(session(early)).detectors
      assert.equal(detector?.strategy, 'session-profile')
      return detector.strategy === 'session-profile' ? detector.early : undefined
    }
    assert.deepEqual(read('    early: { minRecords: 20, minDuration: 2m }\n'), { minRecords: 20, minDurationMs: 120_000 })
    assert.deepEqual(read('    early: { minRecords: 20, minDuration: 2m, maxDuration: 4m }\n'), {
      minRecords: 20,
      minDurationMs: 120_000,
      maxDurationMs: 240_000,
    })
    assert.ok(
      issues(session('    early: { minRecords: 20, minDuration: 2m, maxDuration: 1m }\n')).some((i) => i.startsWith("detector 's', field 'early.maxDuration'")),
    )
    assert.equal(read(''), null)
    assert.equal(read('    early: false\n'), null)
    // The shape first (the schema), then the values.
    assert.deepEqual(issues(session('    early: { minRecords: 20, after: 3 }\n')), [
      "detector 's', field 'early.minDuration': is required; a duration, e.g. 2m",
      "detector 's', field 'early.after': is not a known field; the fields here are minRecords, minDuration, maxDuration",
    ])
    const found = issues(session('    early: { minRecords: 1, minDuration: soon }\n'))
    assert.ok(
      found.some((i) => i.startsWith("detector 's', field 'early.minRecords'")),
      found.join('\n'),
    )
    assert.ok(
      found.some((i) => i.startsWith("detector 's', field 'early.minDuration'")),
      found.join('\n'),
    )
  })

  test('missing and duplicate ids, each in its round', () => {
    const text = `detectors:\n  - type: rule\n    strategy: threshold\n    metric: cost\n    threshold: 1\n  - id: a\n    type: rule\n    strategy: threshold\n    metric: cost\n    threshold: 1\n  - id: a\n    type: rule\n    strategy: threshold\n    metric: cost\n    threshold: 2\n`
    assert.deepEqual(issues(text), [
      "detector 'detectors[0]', field 'id': is required; a non-empty string, stable across versions (it is part of every anomaly id)",
    ])
    assert.deepEqual(issues(text.replace('detectors:\n  - type: rule', 'detectors:\n  - id: b\n    type: rule')), [
      "detector 'a', field 'id': is used by more than one detector; ids must be unique (they are part of anomaly ids and store names)",
    ])
  })

  test('the file itself: YAML syntax, no detectors list, unreadable path', () => {
    assert.match(issues('detectors: [\n')[0] ?? '', /^YAML syntax: /)
    assert.deepEqual(issues('alerts: []\n'), ["field 'detectors': is required: a list of detectors (detectors: [- id: ..., type: ..., strategy: ...])"])
    assert.throws(
      () => loadDetectorsConfig('/nonexistent/detectors.yaml'),
      (err: unknown) => err instanceof DetectorsConfigError && /\/nonexistent\/detectors\.yaml[\s\S]*cannot read the file/.test(err.message),
    )
  })
})

test('parseDuration', () => {
  assert.deepEqual(['500ms', '30s', '5m', '1h', '1d', '1.5s', 250].map(parseDuration), [500, 30_000, 300_000, 3_600_000, 86_400_000, 1500, 250])
  assert.deepEqual(['5', '5x', '-1s', 0, -3, null, '0s'].map(parseDuration), [null, null, null, null, null, null, null])
})

describe('issue 11 strategies and the severity floor', () => {
  const file = `
detectors:
  - id: burst
    type: behavioral
    strategy: sliding-sum
    groupBy: user
    severity: critical
    metric: request_count
    window: 2m
    bucket: 10s
    minimum: 24
    threshold: 2.5
    cohort: application
  - id: runaway
    type: statistical
    strategy: outlier-streak
    groupBy: user
    metric: total_tokens
    threshold: 3
    actions:
      - alert: runaway
        severity: warning
`
  test('cusum is read with its defaults; clip must exceed drift', () => {
    const text = 'detectors:\n  - id: d\n    type: statistical\n    strategy: cusum\n    groupBy: model\n    metric: log_latency_ms\n    window: 2m\n'
    const [d] = parseDetectorsConfig(text).detectors
    assert.ok(d?.strategy === 'cusum')
    assert.deepEqual(
      {
        windowMs: d.windowMs,
        aggregate: d.aggregate,
        threshold: d.threshold,
        drift: d.drift,
        clip: d.clip,
        warmupWindows: d.warmupWindows,
        alpha: d.alpha,
        direction: d.direction,
        minStd: d.minStd,
      },
      { windowMs: 120_000, aggregate: 'mean', threshold: 5, drift: 0.5, clip: 4, warmupWindows: 10, alpha: 0, direction: 'up', minStd: 0 },
    )
    assert.ok(issues(`${text}    drift: 2\n    clip: 1\n`).some((i) => i.startsWith("detector 'd', field 'clip'")))
    assert.equal(d.stdConfidence, null)
    assert.equal((parseDetectorsConfig(`${text}    stdConfidence: 0.9\n`).detectors[0] as { stdConfidence: number }).stdConfidence, 0.9)
    assert.match(issues(`${text}    stdConfidence: 0.8\n`).join('\n'), /field 'stdConfidence': 0.8 is not valid; give one of 0.9, 0.95, 0.975, 0.99, 0.995/)
  })

  test('sliding-sum and outlier-streak are read with their defaults', () => {
    const [burst, runaway] = parseDetectorsConfig(file).detectors
    assert.ok(burst?.strategy === 'sliding-sum' && runaway?.strategy === 'outlier-streak')
    assert.deepEqual(
      {
        windowMs: burst.windowMs,
        bucketMs: burst.bucketMs,
        minimum: burst.minimum,
        threshold: burst.threshold,
        minLogStd: burst.minLogStd,
        cohort: burst.cohort,
        coldStart: burst.coldStart,
        minHistory: burst.minHistory,
      },
      { windowMs: 120_000, bucketMs: 10_000, minimum: 24, threshold: 2.5, minLogStd: 0.5, cohort: 'application', coldStart: 24, minHistory: 10 },
    )
    assert.deepEqual(
      {
        consecutive: runaway.consecutive,
        within: runaway.within,
        minimum: runaway.minimum,
        cohort: runaway.cohort,
        cohortMinHistory: runaway.cohortMinHistory,
      },
      { consecutive: 3, within: 3, minimum: 0, cohort: null, cohortMinHistory: 50 },
    )
  })

  test('outlier-streak within must be an integer >= consecutive', () => {
    assert.match(
      issues(file.replace('    threshold: 3\n    actions:', '    threshold: 3\n    within: 2\n    actions:')).join('\n'),
      /detector 'runaway', field 'within': 2 .*consecutive \(3\)/,
    )
    const [, runaway] = parseDetectorsConfig(file.replace('    threshold: 3\n    actions:', '    threshold: 3\n    within: 5\n    actions:')).detectors
    assert.ok(runaway?.strategy === 'outlier-streak')
    assert.equal(runaway.within, 5)
  })

  test('binomial-burst is read with its defaults; significance is required; memoryCalls must cover priorCalls', () => {
    const text = 'detectors:\n  - id: e\n    type: statistical\n    strategy: binomial-burst\n    window: 3m\n'
    assert.match(issues(text).join('\n'), /detector 'e', field 'significance': is required; give a tail probability/)
    const [d] = parseDetectorsConfig(`${text}    significance: 0.0001\n`).detectors
    assert.ok(d?.strategy === 'binomial-burst')
    assert.deepEqual(
      {
        metric: d.metric,
        denominator: d.denominator,
        windowMs: d.windowMs,
        bucketMs: d.bucketMs,
        minFailures: d.minFailures,
        priorCalls: d.priorCalls,
        memoryCalls: d.memoryCalls,
        coldStartRate: d.coldStartRate,
      },
      {
        metric: 'error',
        denominator: 'response_count',
        windowMs: 180_000,
        bucketMs: 15_000,
        minFailures: 2,
        priorCalls: 200,
        memoryCalls: 5000,
        coldStartRate: 0.02,
      },
    )
    assert.match(
      issues(`${text}    significance: 0.0001\n    priorCalls: 500\n    memoryCalls: 100\n`).join('\n'),
      /field 'memoryCalls': 100 is below priorCalls \(500\)/,
    )
  })

  test('record-cusum is read with its defaults; clip must exceed drift', () => {
    const text = 'detectors:\n  - id: t\n    type: statistical\n    strategy: record-cusum\n    metric: total_tokens\n    threshold: 8\n'
    const [d] = parseDetectorsConfig(text).detectors
    assert.ok(d?.strategy === 'record-cusum')
    assert.deepEqual(
      { drift: d.drift, clip: d.clip, minLogStd: d.minLogStd, alpha: d.alpha, minHistory: d.minHistory },
      { drift: 1, clip: 4, minLogStd: 0.25, alpha: 0.02, minHistory: 50 },
    )
    assert.match(issues(`${text}    drift: 3\n    clip: 2\n`).join('\n'), /field 'clip': 2 must exceed drift \(3\)/)
  })

  test("the floor: the detector's severity, else its alert actions' highest, else none", () => {
    const [burst, runaway] = parseDetectorsConfig(file).detectors
    assert.equal(severityFloor(burst!), 'critical')
    assert.equal(severityFloor(runaway!), 'warning')
    assert.equal(severityFloor(parseDetectorsConfig(zscore('')).detectors[0]!), null)
  })

  test('a sliding-sum bucket longer than its window is refused', () => {
    assert.match(issues(file.replace('bucket: 10s', 'bucket: 5m')).join('\n'), /field 'bucket': is longer than window/)
  })
})
