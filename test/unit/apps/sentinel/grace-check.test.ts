import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig, parseDetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'
import { detectorsWithoutGrace } from '../../../../apps/sentinel/grace-check.js'

const detector = (id: string, lines: string, type = 'statistical'): string => `  - id: ${id}\n    type: ${type}\n${lines}`

test('windowed and session detectors with no grace are named; per-record ones and those with a grace are not', () => {
  const config = parseDetectorsConfig(
    'detectors:\n' +
      detector('z-no-grace', '    strategy: zscore\n    metric: latency_ms\n    window: 1m\n    threshold: 3\n') +
      detector('z-grace', '    strategy: zscore\n    metric: latency_ms\n    window: 1m\n    grace: 10s\n    threshold: 3\n') +
      detector('rule-per-record', '    strategy: threshold\n    metric: cost\n    threshold: 1\n', 'rule') +
      detector('rule-windowed', '    strategy: threshold\n    metric: cost\n    threshold: 1\n    window: 1m\n', 'rule') +
      detector('sessions', '    strategy: session-profile\n    groupBy: user\n    threshold: 4\n', 'behavioral') +
      detector('off', '    strategy: zscore\n    metric: latency_ms\n    window: 1m\n    enabled: false\n    threshold: 3\n'),
  )
  assert.deepEqual(detectorsWithoutGrace(config), ['z-no-grace', 'rule-windowed', 'sessions'])
})

test('the default detectors all have a grace where they judge windows (a start logs no grace warning)', () => {
  assert.deepEqual(detectorsWithoutGrace(loadDetectorsConfig(DEFAULT_DETECTORS_PATH)), [])
})
