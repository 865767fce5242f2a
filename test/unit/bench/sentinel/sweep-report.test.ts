/** The load sweep's arithmetic (bench/sentinel/sweep-report.ts): per-probe latencies, the steady rate, the stop rule, the table row, the RESULTS.md section. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  fallingBehind,
  type LoadResult,
  type LoadSample,
  percentiles,
  RESULTS_HEADING,
  steadyRate,
  summarizeProbes,
  sustainText,
  sweepRow,
  withSweepSection,
} from '../../../../bench/sentinel/sweep-report.js'

test('percentiles of an unsorted list, and of none', () => {
  const p = percentiles([5, 1, 4, 2, 3])
  assert.equal(p.count, 5)
  assert.equal(p.p50, 3)
  assert.equal(p.max, 5)
  assert.equal(p.p99, 4.96, 'interpolated between the two largest, as simple-statistics does')
  const none = percentiles([])
  assert.equal(none.count, 0)
  assert.ok(Number.isNaN(none.p50) && Number.isNaN(none.p99))
})

test('probes: detection, alerting and end to end each from the times that exist; missing ones counted, not dropped', () => {
  const s = summarizeProbes([
    { sentAt: 1000, anomalyAt: 1050, deliveredAt: 1070 },
    { sentAt: 2000, anomalyAt: 2100, deliveredAt: 2130 },
    { sentAt: 3000, anomalyAt: 3200 }, // detected, its alert not delivered yet
    { sentAt: 4000 }, // never detected
  ])
  assert.equal(s.probes, 4)
  assert.equal(s.detected, 3)
  assert.equal(s.alerted, 2)
  assert.deepEqual([s.detection.count, s.detection.max], [3, 200])
  assert.deepEqual([s.alerting.count, s.alerting.p50, s.alerting.max], [2, 25, 30])
  assert.deepEqual([s.endToEnd.count, s.endToEnd.max], [2, 130])
})

const rule = { warmupMs: 3000, maxBacklogSeconds: 2 }
const at = (seconds: number, sent: number, processed: number): LoadSample => ({ at: seconds * 1000, sent, processed })

test('falling behind: a backlog over the limit that grows, after the warm-up', () => {
  const growing = [at(2, 2000, 500), at(3, 3000, 900), at(4, 4000, 1300), at(5, 5000, 1700)]
  assert.equal(fallingBehind(growing.slice(0, 1), 1000, rule), false, 'in the warm-up')
  assert.equal(fallingBehind(growing.slice(0, 3), 1000, rule), true, 'backlog 2700 > 2 s × 1000/s and up from 2100')
  // A start-up backlog the app is working off: over the limit, but shrinking.
  const draining = [at(3, 3000, 200), at(4, 4000, 1500), at(5, 5000, 2800)]
  assert.equal(fallingBehind(draining, 1000, rule), false)
  // Growing but under the limit: a steady lag, not a backlog.
  const lagging = [at(3, 3000, 1500), at(4, 4000, 2400), at(5, 5000, 3200)]
  assert.equal(fallingBehind(lagging, 1000, rule), false)
})

test('steady rate: processed events/s from the first sample after the warm-up to the last', () => {
  const samples = [at(1, 1000, 100), at(3, 3000, 1000), at(5, 5000, 3000), at(7, 7000, 5000)]
  assert.equal(steadyRate(samples, 3000), 1000)
  assert.ok(Number.isNaN(steadyRate(samples.slice(0, 2), 3000)), 'one sample after the warm-up is no rate')
})

function result(over: Partial<LoadResult>): LoadResult {
  return {
    mode: 'standalone',
    offered: 5000,
    seconds: 25,
    stopped: 'time',
    acceptedRate: 5000,
    sustainedRate: 4990,
    backlogAtStop: 300,
    ingestion: percentiles([3, 4, 12]),
    probes: { probes: 10, detected: 9, alerted: 8, detection: percentiles([50]), alerting: percentiles([20]), endToEnd: percentiles([70]) },
    rssPeakMiB: 512.4,
    rssEndMiB: 480,
    loadAverage: 9.25,
    ...over,
  }
}

test('verdicts: kept up, stopped while falling behind, or ended with more than a second of input queued', () => {
  assert.equal(sustainText(result({})), 'sustained')
  assert.match(sustainText(result({ stopped: 'falling behind', seconds: 6.2, backlogAtStop: 21000 })), /not sustained.*stopped after 6 s, backlog 21000 events/)
  assert.match(sustainText(result({ backlogAtStop: 9000 })), /not sustained.*backlog 9000 events at the end/)
})

test('a table row names the undetected probes and shows no latency where there is none', () => {
  const row = sweepRow(result({}))
  assert.match(row, /^\| standalone \| 5000 \| 4990 \(5000\) \| sustained \| 4 \/ 12 \| 50 \/ 50 \| 20 \/ 20 \| 70 \/ 70 \|/)
  assert.match(row, /10 probes, 9 detected, 8 alerted \(1 not detected by the end of the run\)/)
  assert.match(row, /\| 512 \/ 480 \| 9\.3 \|$/)
  const none = percentiles([])
  const empty = sweepRow(result({ sustainedRate: Number.NaN, probes: { probes: 2, detected: 0, alerted: 0, detection: none, alerting: none, endToEnd: none } }))
  assert.match(empty, /\| - \(5000\) \|/)
  assert.match(empty, /\| - \| - \| - \| 2 probes, 0 detected/)
})

test('the RESULTS.md section: appended once, then replaced in place, sections after it kept', () => {
  const first = withSweepSection('# Results\n\ntext\n', `${RESULTS_HEADING}\n\nrun 1\n`)
  assert.equal(first, `# Results\n\ntext\n\n${RESULTS_HEADING}\n\nrun 1\n`)
  const withLater = `${first}\n## Later section\n\nkept\n`
  const second = withSweepSection(withLater, `${RESULTS_HEADING}\n\nrun 2\n`)
  assert.equal(second, `# Results\n\ntext\n\n${RESULTS_HEADING}\n\nrun 2\n\n## Later section\n\nkept\n`)
})
