/**
 * Does the alarm gating cap recall when anomalies are dense? Series of the synthetic corpus's
 * length (4000 rows of 5 minutes) with 4 to 120 labelled anomalies each, labelled NAB's way (10% of
 * the rows shared between the windows, so windows narrow as they multiply), in two KPI-like shapes:
 * diurnal traffic with short bursts (1-6 rows, 5-10 noise spreads off the hour's level), and a level
 * that shifts at every anomaly (3-8 spreads, kept); and (`segments`) excursions of 3-40 rows at 6-15
 * noise spreads on a flat level that return to it, labelled on every row of the excursion, the
 * windows of one excursion merged where they overlap as NAB's labeler merges them, the way
 * point-labelled KPI corpora are turned into NAB windows. Per density: the share of windows with an alarm
 * (window recall), alarms outside windows, NAB standard score; for NAB_CONFIG (0.5) and NAB's
 * windowedGaussian (1.0). Report only: nothing is chosen on it.
 *
 *   npx tsx bench/nab/density-check.ts [--seed N]
 */
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ALARM_LEVEL, NAB_CONFIG, type NabDetectorConfig } from './detector.js'
import { nabDir } from './nab-dir.js'
import { loadProfiles } from './profiles.js'
import { DirectCoreFeed, type RowFeed } from './row-feed.js'
import { type ScoringPlan, planFile, scoreCorpus } from './scorer.js'
import { Draw, ROWS, START, STEP_MS, shiftedLevels, windowsFor } from './synthetic-corpus.js'
import { WINDOWED_GAUSSIAN_STANDARD_THRESHOLD, WindowedGaussianFeed } from './windowed-gaussian.js'

export const DENSITIES = [4, 16, 40, 80, 120] as const
const SERIES_PER_SHAPE = 4

interface Series {
  readonly values: number[]
  /** Labelled rows: one per anomaly, or every row of an excursion (`merged`). */
  readonly anomalies: number[]
  /** Windows from every labelled row, merged where they overlap (NAB's labeler on point labels). */
  readonly merged?: boolean
}

function diurnalBursts(d: Draw, count: number): Series {
  const base = d.uniform(100, 500)
  const amplitude = base * d.uniform(0.2, 0.5)
  const noise = d.uniform(0.02, 0.05)
  const peak = d.uniform(10, 20)
  const gap = Math.floor((ROWS - 700) / count / 2)
  const anomalies = d.positions(count, 650, ROWS - 10, Math.max(8, gap))
  const level = (i: number): number => base + amplitude * Math.cos((2 * Math.PI * ((((START + i * STEP_MS) / 3_600_000) % 24) - peak)) / 24)
  const values = Array.from({ length: ROWS }, (_, i) => level(i) * (1 + noise * d.normal()))
  for (const a of anomalies) {
    const offset = d.sign() * d.uniform(5, 10) * noise
    for (let k = 0, n = d.int(1, 6); k < n && a + k < ROWS; k++) values[a + k] = values[a + k]! + offset * level(a + k)
  }
  return { values, anomalies }
}

function shiftingLevel(d: Draw, count: number): Series {
  const sd = d.uniform(1, 5)
  const anomalies = d.positions(count, 650, ROWS - 10, Math.max(8, Math.floor((ROWS - 700) / count / 2)))
  return { values: shiftedLevels(d, d.uniform(50, 150), sd, anomalies), anomalies }
}

function segments(d: Draw, count: number): Series {
  const base = d.uniform(100, 500)
  const noise = base * d.uniform(0.01, 0.03)
  const values = Array.from({ length: ROWS }, () => base + noise * d.normal())
  const labelled: number[] = []
  for (const start of d.positions(count, 650, ROWS - 50, Math.floor((ROWS - 700) / count / 1.5))) {
    const offset = d.sign() * d.uniform(6, 15) * noise
    for (let k = 0, n = d.int(3, 40); k < n && start + k < ROWS; k++) {
      values[start + k] = values[start + k]! + offset
      labelled.push(start + k)
    }
  }
  // Excursions may overlap at high densities (their gap is shorter than the longest): one label a row, in order.
  return { values, anomalies: [...new Set(labelled)].sort((a, b) => a - b), merged: true }
}

function mergedWindows(times: readonly number[], labelled: readonly number[]): [number, number][] {
  const merged: [number, number][] = []
  for (const [from, to] of windowsFor(times, labelled)) {
    const last = merged[merged.length - 1]
    if (last && from <= last[1] + STEP_MS) last[1] = Math.max(last[1], to)
    else merged.push([from, to])
  }
  return merged
}

const SHAPE_MAKERS: readonly [string, (d: Draw, n: number) => Series][] = [
  ['diurnalBursts', diurnalBursts],
  ['shiftingLevel', shiftingLevel],
  ['segments', segments],
]
export const SHAPES = SHAPE_MAKERS.map(([name]) => name)

export interface DensityRow {
  readonly density: number
  readonly detector: string
  readonly windows: number
  readonly detected: number
  readonly falseAlarms: number
  readonly standard: number
}

export async function densityCheck(seed: number, profilesFile: string, config: NabDetectorConfig = NAB_CONFIG, shapeFilter?: string): Promise<DensityRow[]> {
  const standard = loadProfiles(profilesFile).standard
  const rows: DensityRow[] = []
  for (const density of DENSITIES) {
    const plans: ScoringPlan[] = []
    const values: number[][] = []
    const times = Array.from({ length: ROWS }, (_, i) => START + i * STEP_MS)
    SHAPE_MAKERS.forEach(([name, make], k) => {
      if (shapeFilter !== undefined && name !== shapeFilter) return
      for (let n = 0; n < SERIES_PER_SHAPE; n++) {
        const s = make(new Draw(seed + 100_000 * k + 1000 * density + n), density)
        plans.push(planFile(`${name}/${name}_${density}_${n}.csv`, times, s.merged ? mergedWindows(times, s.anomalies) : windowsFor(times, s.anomalies)))
        values.push(s.values)
      }
    })
    const timestamps = times.map((t) => new Date(t).toISOString().replace('T', ' ').slice(0, 19))
    const feeds: [string, RowFeed, number][] = [
      ['NAB_CONFIG', new DirectCoreFeed(config), ALARM_LEVEL],
      ['windowedGaussian', new WindowedGaussianFeed(), WINDOWED_GAUSSIAN_STANDARD_THRESHOLD],
    ]
    for (const [detector, feed, threshold] of feeds) {
      const scores: Float64Array[] = []
      for (const [f, plan] of plans.entries()) scores.push(await feed.scoreSeries({ path: plan.name, times, timestamps, values: values[f]! }, { probation: plan.probation }))
      const result = scoreCorpus(plans, scores, standard, threshold)
      rows.push({
        density,
        detector,
        windows: result.files.reduce((s, f) => s + f.windowsCounted, 0),
        detected: result.files.reduce((s, f) => s + f.windowsDetected, 0),
        falseAlarms: result.files.reduce((s, f) => s + f.fp, 0),
        standard: result.normalised,
      })
    }
  }
  return rows
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '7' } } })
  console.log(`density check (seed ${values.seed}): ${SERIES_PER_SHAPE} series of ${ROWS} rows per shape and density`)
  console.log('| shape | anomalies per series | detector | window recall | alarms outside windows | NAB standard |')
  console.log('|---|---|---|---|---|---|')
  for (const shape of SHAPES) {
    const rows = await densityCheck(Number(values.seed), join(nabDir(), 'config/profiles.json'), NAB_CONFIG, shape)
    for (const r of rows) console.log(`| ${shape} | ${r.density} | ${r.detector} | ${(r.detected / r.windows).toFixed(2)} (${r.detected}/${r.windows}) | ${r.falseAlarms} | ${r.standard.toFixed(1)} |`)
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
