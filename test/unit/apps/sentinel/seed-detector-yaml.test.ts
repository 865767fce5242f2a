/**
 * Seed 001's "Detector Configuration Example", verbatim: the zscore and threshold detectors load
 * (sensitivity scales the deviation threshold, cost_per_request is each call's cost), the ML one is
 * refused with one message naming `type` and the way to get the same detection.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DetectorsConfigError, SENSITIVITY_FACTORS, describeIssue, parseDetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'

const TOKEN_RATE = `
  - id: token-rate-spike
    type: statistical
    strategy: zscore
    config:
      metric: tokens_per_second
      window: 5m
      threshold: 3.0
      sensitivity: high
    actions:
      - alert: token-rate-anomaly
        severity: warning
`
const COST = `
  - id: cost-threshold
    type: rule
    strategy: threshold
    config:
      metric: cost_per_request
      condition: greater_than
      value: 1.0
      window: 1m
      consecutive: 3
    actions:
      - alert: high-cost-request
        severity: critical
      - shield: rate_limit
`
const ML = `
  - id: prompt-injection
    type: ml
    strategy: classifier
    config:
      model: prompt-injection-detector-v2
      threshold: 0.85
      features: ["prompt_text", "embedding"]
    actions:
      - alert: security-threat
        severity: critical
      - shield: block
`

function refusal(text: string): string[] {
  try {
    parseDetectorsConfig(text)
  } catch (err) {
    assert.ok(err instanceof DetectorsConfigError, String(err))
    return err.issues.map(describeIssue)
  }
  assert.fail('the file was accepted')
}

const zscoreWith = (sensitivity: string, strategy = 'zscore') => `
detectors:
  - id: d
    type: statistical
    strategy: ${strategy}
    metric: latency_ms
    window: 1m
    threshold: 4
    sensitivity: ${sensitivity}
`

describe("seed 001's detector example", () => {
  test('the zscore and threshold detectors load as the seed means them', () => {
    const { detectors } = parseDetectorsConfig(`detectors:${TOKEN_RATE}${COST}`)
    const [tokens, cost] = detectors
    assert.equal(tokens?.strategy, 'zscore')
    assert.ok(tokens?.strategy === 'zscore')
    assert.equal(tokens.metric, 'tokens_per_second')
    // high sensitivity fires at 0.8 of the written deviation: 3.0 -> 2.4
    assert.ok(Math.abs(tokens.threshold - 2.4) < 1e-12, String(tokens.threshold))
    assert.ok(cost?.strategy === 'threshold')
    assert.equal(cost.metric, 'cost')
    assert.equal(cost.threshold, 1.0)
    assert.equal(cost.consecutive, 3)
    assert.equal(cost.window?.sizeMs, 60_000)
  })

  test('the ML detector is refused alone: one issue, on `type`, saying what to do instead', () => {
    const lines = refusal(`detectors:${TOKEN_RATE}${COST}${ML}`)
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0]!, /prompt-injection/)
    assert.match(lines[0]!, /field 'type'/)
    assert.match(lines[0]!, /'ml' is not supported/)
    assert.match(lines[0]!, /metric:prompt_injection_score/)
  })

  test('the fix the refusal suggests loads', () => {
    const { detectors } = parseDetectorsConfig(`
detectors:
  - id: prompt-injection
    type: rule
    strategy: threshold
    metric: metric:prompt_injection_score
    condition: greater_than
    value: 0.85
`)
    assert.equal(detectors[0]?.id, 'prompt-injection')
  })
})

describe('sensitivity', () => {
  for (const [level, factor] of Object.entries(SENSITIVITY_FACTORS)) {
    for (const strategy of ['zscore', 'cusum', 'ewma']) {
      test(`${level} scales a ${strategy} threshold by ${factor}`, () => {
        const d = parseDetectorsConfig(zscoreWith(level, strategy)).detectors[0]!
        assert.ok('threshold' in d && typeof d.threshold === 'number')
        assert.ok(Math.abs(d.threshold - 4 * factor) < 1e-12, `${d.threshold}`)
      })
    }
  }

  test('an unknown level is refused with the levels', () => {
    const lines = refusal(zscoreWith('extreme'))
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0]!, /field 'sensitivity'.*use one of low \| medium \| high/)
  })

  test('on a detector whose threshold is not a deviation it is refused, naming the strategies it fits', () => {
    const lines = refusal(`
detectors:
  - id: cost
    type: rule
    strategy: threshold
    metric: cost
    condition: greater_than
    value: 1
    sensitivity: high
`)
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0]!, /field 'sensitivity': does not apply to a threshold detector.*zscore, cusum, ewma/)
  })
})
