/**
 * The tuning proof: five hours of generated telemetry (the demo runs six) through the detection
 * topology with the default detectors file, on the TopologyTestDriver. Every injected incident
 * must be detected by a detector meant for it, with few false alarms.
 *
 * The false-alarm bound is what the default detectors achieve on this traffic, not a target met
 * by shaping the data: with seed 42 this run has 2 (one timed-out call on the low-volume
 * claude-3-opus, seen by both latency detectors); 6 h runs have 3 (seeds 42 and 7) to 6 (seed 11),
 * nearly all on low-volume models and applications. See detectors.default.yaml for why each
 * detector is set as it is.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../../../../../apps/sentinel/detectors-config.js'
import { runOnTestDriver } from '../../../../../apps/sentinel/demo/driver-run.js'
import { formatScore, scoreIncidents } from '../../../../../apps/sentinel/demo/incident-score.js'
import { TelemetryGenerator } from '../../../../../apps/sentinel/generator/index.js'

const MAX_FALSE_ALARMS = 3

test('the default detectors catch every injected incident in 5 h of telemetry, with few false alarms', async () => {
  const generator = new TelemetryGenerator({ hours: 5, seed: 42 })
  const { anomalies, events } = await runOnTestDriver({ detectors: loadDetectorsConfig(DEFAULT_DETECTORS_PATH), events: generator.events(), batchSize: 1000 })
  const score = scoreIncidents(generator.incidents, anomalies)
  const summary = formatScore(score)
  assert.ok(events > 20_000)
  for (const result of score.incidents) {
    assert.ok(result.detected, `${result.incident.id} was not detected\n${summary}`)
    assert.ok(result.incident.detectors.includes(result.firstDetector!))
  }
  // Window detectors report within a few windows (the cost rule when three >$1 calls of the app come
  // in a row, which other users' calls can delay); the behavioural one when the session closes (gap 10 min).
  for (const result of score.incidents.filter((r) => r.incident.kind !== 'jailbreak-burst')) assert.ok(result.timeToDetectMs! <= 15 * 60_000, `${result.incident.id}: ${summary}`)
  assert.ok(score.incidents.find((r) => r.incident.kind === 'jailbreak-burst')!.timeToDetectMs! <= 30 * 60_000)
  assert.ok(score.falseAlarms.length <= MAX_FALSE_ALARMS, `false alarms: ${score.falseAlarms.length}\n${summary}`)
})
