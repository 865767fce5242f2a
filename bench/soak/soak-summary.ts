/**
 * The soak's figures in a few lines of Markdown (summary.md beside the CSV and the plot): what the
 * issue asks to report — RSS at the start and the end, the largest lag, commit p99 — with the
 * achieved rate beside the target, so a run that could not offer the load says so.
 */
import { median } from 'simple-statistics'
import { quantile, type Histogram } from './prometheus-text.js'
import type { SoakSample } from './soak-sampler.js'

export interface SoakRunFacts {
  targetRate: number
  minutes: number
  instances: number
  /** Brokers of the cluster; 3 unless the run said otherwise. */
  brokers?: number
  restartEveryMin: number
  guarantee: string
  /** Records the load gave up while more than a second behind its schedule. */
  skipped: number
  failedSends: number
  machine: string
  /** The arguments the soak ran with. */
  command: string
  /** Every commit of the run, all instances. */
  commits: Histogram | undefined
}

const defined = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined && Number.isFinite(x))
const fmt = (x: number | undefined, digits = 0): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits))
const max = (xs: number[]): number | undefined => (xs.length === 0 ? undefined : Math.max(...xs))

export function soakSummary(samples: readonly SoakSample[], run: SoakRunFacts): string {
  const rates = samples.map((s) => s.achievedRate)
  const lines = [
    `# Soak summary`,
    '',
    `${run.instances} instances of LLM-Sentinel on ${run.brokers === 1 ? '1 broker' : `${run.brokers ?? 3} brokers`}, ${run.guarantee}, one instance restarted every ${run.restartEveryMin} min, ` +
      `${samples.length} samples over ${fmt(samples.at(-1)?.minute, 1)} of ${run.minutes} min; ${run.machine}.`,
    '',
    `\`${run.command}\``,
    '',
    '| figure | value |',
    '|---|---|',
    `| input rate, target | ${run.targetRate} events/s |`,
    `| input rate, achieved (median of samples; min, max) | ${fmt(rates.length ? median(rates) : undefined)} (${fmt(Math.min(...rates))}, ${fmt(Math.max(...rates))}) events/s |`,
    `| records the load gave up (more than 1 s behind) / failed sends | ${run.skipped} / ${run.failedSends} |`,
  ]
  for (let i = 0; i < run.instances; i++) {
    const rss = samples.map((s) => s.instances[i]?.rssMb)
    const got = defined(rss)
    lines.push(`| instance ${i + 1} RSS first sample → last sample (max) | ${fmt(got[0])} → ${fmt(got.at(-1))} (${fmt(max(got))}) MiB |`)
  }
  const commitP99Seconds = run.commits ? quantile(run.commits, 0.99) : undefined
  const loopP99 = defined(samples.flatMap((s) => s.instances.map((i) => i.loopP99Ms)))
  lines.push(
    `| event-loop delay p99, median of instance-minutes (max) | ${fmt(loopP99.length ? median(loopP99) : undefined, 1)} (${fmt(max(loopP99), 1)}) ms |`,
    `| consumer lag, input topic: max, last sample | ${fmt(max(defined(samples.map((s) => s.inputLag))))}, ${fmt(samples.at(-1)?.inputLag)} records |`,
    `| consumer lag, all topics of the group: max, last sample | ${fmt(max(defined(samples.map((s) => s.totalLag))))}, ${fmt(samples.at(-1)?.totalLag)} records |`,
    `| commit time p99, whole run (per-minute max) | ${fmt(commitP99Seconds === undefined ? undefined : commitP99Seconds * 1000)} ms (${fmt(max(defined(samples.map((s) => s.commitP99Ms))))} ms); ${run.commits?.count ?? 0} commits |`,
    `| lines logged at error level, all instances | ${samples.reduce((n, s) => n + s.errorLines, 0)} |`,
    '',
  )
  return lines.join('\n')
}
