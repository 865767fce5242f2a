/**
 * The LLM incident scenario family through Sentinel's detection topology on the TopologyTestDriver.
 *
 *   npm run eval:scenarios -- [--seeds eval|tune|fresh|holdout3|holdout4|holdout5|holdout6] [--scenarios N] [--detectors FILE] [--rules FILE] [--list]
 *
 * --seeds: `eval` (default) runs the held-out evaluation seeds 1..N; `tune` runs seeds 10001..10000+N,
 * the only ones detector tuning may look at; `fresh` runs seeds 201..200+N, a second held-out range
 * added after seeds 1..40 had been looked at once (run it only to report final figures); `holdout3`
 * runs seeds 401..400+N, a third held-out range added when 1..40 and 201..240 had both been looked at
 * (first run once, for the binomial-burst and std-bound changes); `holdout4` runs seeds 601..600+N,
 * a fourth range added after holdout3 had been used to find a bug (the session profiles' degenerate
 * population reference, seed 402); `holdout5` runs seeds 701..700+N, a fifth range added when
 * holdout4 had been run by several rounds (h11s: tuned on the tune seeds only, holdout5 run once at
 * the end); `holdout6` runs seeds 801..800+N, a sixth range added when holdout4 had been used to
 * find why cost runaways of young users were missed (the outlier streak learning the runaway's calls
 * just under its bound; first run once, after that fix). --list prints every incident with
 * its outcome and every false alarm. Last line:
 * `SCENARIOS recall=<r> precision=<p> ttd_p50_s=<x> false_alarms_per_hour=<y>`.
 */
import { parseArgs } from 'node:util'
import { loadAlertRulesConfig, DEFAULT_ALERT_RULES_PATH } from '../../apps/sentinel/alerting/alert-rules-config.js'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../../apps/sentinel/detectors-config.js'
import { runOnTestDriver } from '../../apps/sentinel/demo/driver-run.js'
import { SCENARIO_INCIDENT_KINDS } from './incidents.js'
import { type ScenarioRun, formatReport } from './report.js'
import { RUN_MS, buildScenario } from './scenario.js'
import { scoreScenario } from './scoring.js'

export const TUNE_SEED_BASE = 10_000
export const FRESH_SEED_BASE = 200
export const HOLDOUT3_SEED_BASE = 400
export const HOLDOUT4_SEED_BASE = 600
export const HOLDOUT5_SEED_BASE = 700
export const HOLDOUT6_SEED_BASE = 800
const SEED_BASES: Record<string, number> = { eval: 0, tune: TUNE_SEED_BASE, fresh: FRESH_SEED_BASE, holdout3: HOLDOUT3_SEED_BASE, holdout4: HOLDOUT4_SEED_BASE, holdout5: HOLDOUT5_SEED_BASE, holdout6: HOLDOUT6_SEED_BASE }

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: 'eval' },
    scenarios: { type: 'string', default: '40' },
    detectors: { type: 'string' },
    rules: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
})

const base = SEED_BASES[values.seeds]
if (base === undefined) throw new Error(`--seeds must be one of ${Object.keys(SEED_BASES).join(', ')}, got ${values.seeds}`)
const count = Number(values.scenarios)
if (!Number.isInteger(count) || count < 1) throw new Error(`--scenarios must be a positive integer, got ${values.scenarios}`)
const detectors = loadDetectorsConfig(values.detectors ?? DEFAULT_DETECTORS_PATH)
const rules = loadAlertRulesConfig(values.rules ?? DEFAULT_ALERT_RULES_PATH, { knownDetectorIds: detectors.detectors.map((d) => d.id) }).rules
const kinds = SCENARIO_INCIDENT_KINDS

const runs: ScenarioRun[] = []
const began = Date.now()
for (let i = 0; i < count; i++) {
  const seed = base + i + 1
  // Three kinds per scenario, rotating, so every kind gets about the same number of incidents.
  const scenario = buildScenario(seed, [0, 1, 2].map((j) => kinds[(3 * i + j) % kinds.length]!))
  const { anomalies } = await runOnTestDriver({ detectors, events: scenario.events, batchSize: 1000 })
  const score = scoreScenario(scenario.incidents, anomalies, scenario.events, rules)
  runs.push({ scenario: { seed, shape: scenario.shape, users: scenario.users, events: scenario.events.length }, score })
  process.stderr.write(`scenario ${seed} (${scenario.shape}, ${scenario.users} users, ${scenario.events.length} events): ${score.outcomes.filter((o) => o.detected).length}/${score.outcomes.length} detected, ${score.falseAlarms.length} false alarms [${((Date.now() - began) / 1000).toFixed(0)} s]\n`)
}
process.stdout.write(`${formatReport(runs, { seeds: values.seeds, hours: (count * RUN_MS) / 3_600_000, list: values.list ?? false, detectorsSource: detectors.source })}\n`)
