/**
 * `npm run eval:llm`: the independent LLM incident scenario (README.md) through the whole
 * LLM-Sentinel app in standalone mode, its telemetry POSTed to the REST API's ingest route. One
 * fresh app per seed; scored from the anomalies and alerts it emitted.
 *
 *   npm run eval:llm [-- --seeds 1..5] [--detectors file.yaml] [--alert-rules file.yaml] [--list]
 *
 * Evaluation only: the detector defaults are never tuned on it. Last line:
 * `LLM_SCENARIO seeds=<n> found=<f>/<n> recall=<r> ttd_p50_s=<x> false_alarms=<k> false_alarms_per_hour=<y> false_blocks=<b>`
 */
import { parseArgs } from 'node:util'
import { runSentinelApp } from '../../apps/sentinel/demo/app-run.js'
import { INCIDENT_KINDS } from './incidents.js'
import { RUN_MS, buildScenario } from './scenario.js'
import { type RunScore, anomalyEntity, scoreRun } from './score.js'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1..5' },
    detectors: { type: 'string' },
    'alert-rules': { type: 'string' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})
const usage = 'usage: npm run eval:llm -- [--seeds 1..5 | 3,7,9] [--detectors file.yaml] [--alert-rules file.yaml] [--list]'
if (values.help) {
  console.log(usage)
  process.exit(0)
}

function parseSeeds(text: string): number[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(text)
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])]
    if (to >= from) return Array.from({ length: to - from + 1 }, (_, i) => from + i)
  } else if (/^\d+(,\d+)*$/.test(text)) return text.split(',').map(Number)
  console.error(`--seeds: expected a range like 1..5 or a list like 3,7,9, got '${text}'\n${usage}`)
  process.exit(2)
}

const seeds = parseSeeds(values.seeds)
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19)
const median = (xs: readonly number[]): number | null => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

const scores: RunScore[] = []
const started = Date.now()
for (const seed of seeds) {
  const scenario = buildScenario(seed)
  const run = await runSentinelApp({
    events: scenario.events,
    ingest: 'http',
    applicationId: `llm-scenario-${seed}`,
    ...(values.detectors ? { detectorsFile: values.detectors } : {}),
    ...(values['alert-rules'] ? { alertRulesFile: values['alert-rules'] } : {}),
  })
  if (run.rejected > 0) console.warn(`seed ${seed}: the API refused ${run.rejected} events`)
  const score = scoreRun(scenario.incidents, run.anomalies, run.alerts, scenario.events)
  scores.push(score)
  console.log(`seed ${seed}: ${scenario.calls} calls, ${run.events} events over HTTP, ${score.anomalies} anomalies, ${run.alerts.length} alerts`)
  for (const r of score.incidents) {
    const verdict = r.found ? `found in ${r.ttdS} s by ${r.firstDetector}${r.alerted ? ', alerted' : ', not alerted'}` : 'MISSED'
    console.log(`  ${r.incident.kind.padEnd(18)} ${clock(r.incident.start)}  ${verdict}  (${r.incident.description})`)
  }
  for (const a of score.falseAlarms) {
    if (values.list || score.falseAlarms.length <= 5) console.log(`  false alarm: ${a.detector_id} ${a.severity} ${anomalyEntity(a)} at ${clock(Date.parse(a.timestamp))}: ${a.description}`)
  }
  for (const b of score.falseBlocks) console.log(`  FALSE SHIELD BLOCK: ${b.rule_id} ${anomalyEntity(b.anomaly)} at ${clock(Date.parse(b.anomaly.timestamp))} (${b.anomaly.detector_id})`)
}

const all = scores.flatMap((s) => s.incidents)
console.log(`\n${seeds.length} seeds (${seeds.join(',')}), ${all.length} incidents, ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log('| incident | found | alerted | ttd p50 s | first detectors |')
console.log('|---|---|---|---|---|')
for (const kind of INCIDENT_KINDS) {
  const rs = all.filter((r) => r.incident.kind === kind)
  const found = rs.filter((r) => r.found)
  const detectors = new Map<string, number>()
  for (const r of found) detectors.set(r.firstDetector ?? '', (detectors.get(r.firstDetector ?? '') ?? 0) + 1)
  const ttd = median(found.map((r) => r.ttdS ?? 0))
  console.log(`| ${kind} | ${found.length}/${rs.length} | ${rs.filter((r) => r.alerted).length}/${rs.length} | ${ttd ?? '-'} | ${[...detectors].map(([d, n]) => `${d} ${n}`).join(', ')} |`)
}
const falseAlarms = scores.flatMap((s) => s.falseAlarms)
const byDetector = new Map<string, number>()
for (const a of falseAlarms) byDetector.set(a.detector_id, (byDetector.get(a.detector_id) ?? 0) + 1)
const hours = (seeds.length * RUN_MS) / 3_600_000
const keyWindows = scores.reduce((s, x) => s + x.keyWindows, 0)
const falseBlocks = scores.reduce((s, x) => s + x.falseBlocks.length, 0)
console.log(
  `false alarms: ${falseAlarms.length} (${[...byDetector].map(([d, n]) => `${d} ${n}`).join(', ') || 'none'}) = ${((falseAlarms.length / keyWindows) * 10_000).toFixed(2)} per 10K key-windows; Shield blocks ${scores.reduce((s, x) => s + x.blocks, 0)}, false ${falseBlocks}`,
)
const found = all.filter((r) => r.found)
console.log(
  `LLM_SCENARIO seeds=${seeds.length} found=${found.length}/${all.length} recall=${(found.length / all.length).toFixed(2)} ttd_p50_s=${median(found.map((r) => r.ttdS ?? 0)) ?? 'NaN'} false_alarms=${falseAlarms.length} false_alarms_per_hour=${(falseAlarms.length / hours).toFixed(2)} false_blocks=${falseBlocks}`,
)
