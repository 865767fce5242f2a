/**
 * NAB evaluation: streams every series of a NAB-like corpus row by row through one detector
 * configuration (no per-file tuning), scores it as NAB does under the three profiles, writes
 * REPORT.md and REPORT.json, and prints as its last line
 * `NAB standard=<x> low_fp=<y> low_fn=<z> threshold=<fixed|swept>`.
 *
 *   tsx bench/nab/evaluate.ts [--data DIR] [--windows FILE] [--profiles FILE]
 *                             [--threshold 0.5|sweep] [--out DIR | --update-report] [--quick]
 *                             [--loco] [--feed driver|direct]
 *
 * The report goes to bench/nab/out/ (ignored by git) unless `--out DIR` names another folder or
 * `--update-report` asks for the committed bench/nab/REPORT.{md,json} (NAB, default threshold only).
 *
 * --loco adds leave-one-category-out over the declared grid (detector.ts LOCO_GRID, loco.ts).
 * --quick skips the sensitivity table (the neighbouring configurations, about 20 s on NAB).
 * --feed: how rows reach the detectors: `driver` (default) through the TopologyTestDriver, a
 * processor over a logged state store (driver-feed.ts); `direct` calls the cores (row-feed.ts). Both
 * give the same scores (test/unit/bench/nab/driver-feed.test.ts), so the sensitivity runs, 14 more passes
 * over the corpus, use the direct feed.
 */
import { mkdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type NabCorpus, loadCorpus } from './corpus.js'
import { ALARM_LEVEL, LOCO_GRID, NAB_CONFIG, type NabDetectorConfig, TUNING_NOTE, neighbours } from './detector.js'
import { type LocoResult, leaveOneCategoryOut } from './loco.js'
import { loadProfiles, PROFILE_NAMES } from './profiles.js'
import { type EvaluationResult, type SensitivityRow, writeReport } from './report.js'
import { DriverFeed } from './driver-feed.js'
import { DirectCoreFeed, type RowFeed } from './row-feed.js'
import { nabDir } from './nab-dir.js'
import { type ScoringPlan, planFile, scoreCorpus } from './scorer.js'

const here = dirname(fileURLToPath(import.meta.url))
/** Where runs write their reports unless told otherwise: ignored by git, so a run cannot overwrite the committed report. */
export const SCRATCH_REPORT_DIR = join(here, 'out')

/** The detector's own alarm level: every component scores 0.5 exactly at its threshold. */
export const FIXED_THRESHOLD = ALARM_LEVEL

export interface EvaluateOptions {
  readonly data: string
  readonly windows: string
  readonly profiles: string
  readonly threshold: number | 'sweep'
  readonly config: NabDetectorConfig
  /** How rows reach a detector configuration. */
  readonly feedFor: (config: NabDetectorConfig) => RowFeed
  /** The feed of the sensitivity runs (default: feedFor). */
  readonly sensitivityFeedFor?: (config: NabDetectorConfig) => RowFeed
  /** Also score each neighbouring configuration (one knob one step away). */
  readonly sensitivity: boolean
  /** Also run leave-one-category-out over this grid (it must hold `config`), with the direct feed. */
  readonly locoGrid?: readonly NabDetectorConfig[]
}

/** Per-row scores of one configuration on every file, computed once per run (LOCO and sensitivity share them). */
class ScoreCache {
  private readonly cache = new Map<string, Float64Array[]>()
  constructor(
    private readonly corpus: NabCorpus,
    private readonly plans: readonly ScoringPlan[],
    private readonly feedFor: (config: NabDetectorConfig) => RowFeed,
  ) {}

  async scores(config: NabDetectorConfig): Promise<Float64Array[]> {
    const key = JSON.stringify(config)
    const hit = this.cache.get(key)
    if (hit) return hit
    const computed = await scoreAll(this.feedFor(config), this.corpus, this.plans)
    this.cache.set(key, computed)
    return computed
  }
}

/** Paths in the report relative to where it was run from, so a committed report names no machine. */
function shown(path: string): string {
  return relative(process.cwd(), path) || '.'
}

async function scoreAll(feed: RowFeed, corpus: NabCorpus, plans: readonly ScoringPlan[]): Promise<Float64Array[]> {
  const scores: Float64Array[] = []
  for (const [f, series] of corpus.series.entries()) scores.push(await feed.scoreSeries(series, { probation: plans[f]!.probation }))
  return scores
}

export async function evaluate(opts: EvaluateOptions): Promise<EvaluationResult> {
  const started = performance.now()
  const corpus = loadCorpus(opts.data, opts.windows)
  const profiles = loadProfiles(opts.profiles)
  const plans = corpus.series.map((s) => planFile(s.path, s.times, corpus.windows.get(s.path)!))
  const loaded = performance.now()
  const feed = opts.feedFor(opts.config)
  const scores = await scoreAll(feed, corpus, plans)
  const detected = performance.now()
  const fixedAt = opts.threshold === 'sweep' ? FIXED_THRESHOLD : opts.threshold
  const fixed = PROFILE_NAMES.map((p) => scoreCorpus(plans, scores, profiles[p], fixedAt))
  const swept = PROFILE_NAMES.map((p) => scoreCorpus(plans, scores, profiles[p], 'sweep'))
  const scored = performance.now()
  const cache = new ScoreCache(corpus, plans, opts.sensitivityFeedFor ?? opts.feedFor)
  const sensitivity: SensitivityRow[] = []
  if (opts.sensitivity) {
    for (const n of neighbours(opts.config)) {
      const s = await cache.scores(n.config)
      const [std, lowFp, lowFn] = PROFILE_NAMES.map((p) => scoreCorpus(plans, s, profiles[p], opts.threshold === 'sweep' ? 'sweep' : fixedAt).normalised)
      sensitivity.push({ change: n.change, standard: std!, lowFp: lowFp!, lowFn: lowFn! })
    }
  }
  const sensitivityDone = performance.now()
  let loco: LocoResult | undefined
  if (opts.locoGrid) {
    const inSample = opts.locoGrid.findIndex((c) => JSON.stringify(c) === JSON.stringify(opts.config))
    if (inSample < 0) throw new Error('the LOCO grid must hold the evaluated configuration')
    const gridScores: Float64Array[][] = []
    for (const [g, c] of opts.locoGrid.entries()) gridScores.push(g === inSample ? scores : await cache.scores(c))
    loco = leaveOneCategoryOut(plans, opts.locoGrid, gridScores, profiles.standard, fixedAt, inSample)
  }
  return {
    ...(loco ? { loco } : {}),
    corpus: { data: shown(opts.data), windows: shown(opts.windows), files: plans.length, rows: plans.reduce((n, p) => n + p.rows, 0), windowsTotal: plans.reduce((n, p) => n + p.windows.length, 0), unlisted: corpus.unlisted },
    feed: feed.name,
    config: opts.config,
    tuning: TUNING_NOTE,
    mode: opts.threshold === 'sweep' ? 'swept' : 'fixed',
    headline: opts.threshold === 'sweep' ? swept : fixed,
    fixed,
    swept,
    sensitivity,
    timing: { loadMs: loaded - started, detectMs: detected - loaded, scoreMs: scored - detected, sensitivityMs: sensitivityDone - scored, locoMs: performance.now() - sensitivityDone },
  }
}

/**
 * Where the report goes: `--out DIR`; with `--update-report`, the committed bench/nab/REPORT.*
 * (only for NAB itself, the corpus that report describes, and only with the default threshold);
 * otherwise the ignored scratch folder.
 */
function reportDir(values: { out?: string | undefined; 'update-report': boolean; data?: string | undefined; windows?: string | undefined; threshold?: string | undefined }): string {
  if (!values['update-report']) return resolve(values.out ?? SCRATCH_REPORT_DIR)
  if (values.out !== undefined) throw new Error('--update-report writes the committed report in bench/nab; it cannot be combined with --out')
  if (values.data !== undefined || values.windows !== undefined) throw new Error('--update-report is for the NAB corpus the committed report describes; drop --data/--windows or use --out')
  if (values.threshold !== undefined) throw new Error('--update-report records the fixed-threshold run; drop --threshold or use --out')
  return here
}

async function main(): Promise<void> {
  const nab = nabDir()
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      windows: { type: 'string' },
      profiles: { type: 'string', default: join(nab, 'config/profiles.json') },
      threshold: { type: 'string' },
      out: { type: 'string' },
      'update-report': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      loco: { type: 'boolean', default: false },
      feed: { type: 'string', default: 'driver' },
    },
  })
  const out = reportDir(values)
  if (values.feed !== 'driver' && values.feed !== 'direct') throw new Error(`--feed must be "driver" or "direct", got ${values.feed}`)
  const direct = (config: NabDetectorConfig): RowFeed => new DirectCoreFeed(config)
  const threshold = values.threshold === undefined ? FIXED_THRESHOLD : values.threshold === 'sweep' ? 'sweep' : Number(values.threshold)
  if (threshold !== 'sweep' && !(threshold >= 0 && threshold <= 1)) throw new Error(`--threshold must be a number in [0, 1] or "sweep", got ${values.threshold}`)
  mkdirSync(out, { recursive: true })
  const result = await evaluate({
    data: resolve(values.data ?? join(nab, 'data')),
    windows: resolve(values.windows ?? join(nab, 'labels/combined_windows.json')),
    profiles: resolve(values.profiles),
    threshold,
    config: NAB_CONFIG,
    feedFor: values.feed === 'driver' ? (config) => new DriverFeed(config) : direct,
    sensitivityFeedFor: direct,
    sensitivity: !values.quick,
    ...(values.loco ? { locoGrid: LOCO_GRID } : {}),
  })
  const files = writeReport(result, out)
  const [std, lowFp, lowFn] = result.headline.map((c) => c.normalised.toFixed(2))
  console.log(`report: ${files.join(', ')}`)
  console.log(`corpus: ${result.corpus.files} files, ${result.corpus.rows} rows, ${result.corpus.windowsTotal} windows; detectors ${(result.timing.detectMs / 1000).toFixed(1)} s, sensitivity ${(result.timing.sensitivityMs / 1000).toFixed(1)} s`)
  if (result.loco) {
    const l = result.loco
    console.log(`leave-one-category-out (standard, fixed threshold): ${l.categories.map((c) => `${c.category} ${Number.isNaN(c.normalised) ? `raw ${c.raw.toFixed(2)}` : c.normalised.toFixed(2)}`).join(', ')}`)
    console.log(`LOCO mean=${l.mean.toFixed(2)} pooled=${l.pooled.toFixed(2)} (in-sample standard ${std})`)
  }
  console.log(`NAB standard=${std} low_fp=${lowFp} low_fn=${lowFn} threshold=${result.mode}`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
