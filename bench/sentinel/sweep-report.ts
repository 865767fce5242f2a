/**
 * The pure parts of the load sweep (load-sweep.ts): what one load's timings and samples come to
 * (per-probe latencies, how many probes were detected and alerted, the processed rate over the
 * steady part, whether the app kept up), and the table rows. No I/O: unit-tested on made-up runs.
 */
import { quantileSorted } from 'simple-statistics'

/** One probe's times, epoch ms on one clock; undefined when it did not happen before the load ended. */
export interface ProbeTimes {
  readonly sentAt: number
  /** The probe's anomaly seen on the anomalies topic. */
  readonly anomalyAt?: number
  /** The first webhook delivery of the probe's alert at the local receiver. */
  readonly deliveredAt?: number
}

export interface Percentiles {
  readonly count: number
  readonly p50: number
  readonly p99: number
  readonly max: number
}

/** p50/p99/max of `values` (any order); count 0 and NaN figures when empty. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN }
  const sorted = [...values].sort((a, b) => a - b)
  return { count: sorted.length, p50: quantileSorted(sorted, 0.5), p99: quantileSorted(sorted, 0.99), max: sorted[sorted.length - 1]! }
}

export interface ProbeSummary {
  readonly probes: number
  readonly detected: number
  readonly alerted: number
  /** Sent → anomaly. */
  readonly detection: Percentiles
  /** Anomaly → first delivery (probes with both). */
  readonly alerting: Percentiles
  /** Sent → first delivery. */
  readonly endToEnd: Percentiles
}

export function summarizeProbes(probes: Iterable<ProbeTimes>): ProbeSummary {
  const detection: number[] = []
  const alerting: number[] = []
  const endToEnd: number[] = []
  let count = 0
  for (const p of probes) {
    count++
    if (p.anomalyAt !== undefined) detection.push(p.anomalyAt - p.sentAt)
    if (p.anomalyAt !== undefined && p.deliveredAt !== undefined) alerting.push(p.deliveredAt - p.anomalyAt)
    if (p.deliveredAt !== undefined) endToEnd.push(p.deliveredAt - p.sentAt)
  }
  return {
    probes: count,
    detected: detection.length,
    alerted: endToEnd.length,
    detection: percentiles(detection),
    alerting: percentiles(alerting),
    endToEnd: percentiles(endToEnd),
  }
}

/**
 * A progress sample of one load: events the client has sent so far (each request once due: with an
 * open loop, offered × elapsed) and events the topology has consumed from the telemetry topic. Their
 * difference is the backlog wherever it waits: in the client for an answer, in the API, in the log.
 */
export interface LoadSample {
  /** ms since the load started. */
  readonly at: number
  readonly sent: number
  readonly processed: number
}

export interface SustainRule {
  /** Samples before this (ms since the start) are warm-up: never judged, not in the steady rate. */
  readonly warmupMs: number
  /** Not sustained once accepted − processed exceeds this many seconds of the offered load, and grows. */
  readonly maxBacklogSeconds: number
}

/** How far back the backlog is compared to tell a growing one from the start-up's, which drains. */
export const BACKLOG_TREND_MS = 1_500

const backlog = (s: LoadSample): number => s.sent - s.processed

/**
 * Whether the app is falling behind at `offered` events/s, judged on the last of `samples` (in time
 * order): after the warm-up, a backlog (sent, not yet processed) above `maxBacklogSeconds` of
 * input that is larger than it was `BACKLOG_TREND_MS` before. Such a backlog at a constant offered
 * rate only grows; the load is stopped there rather than run on for minutes. A backlog left by a
 * slow start that is shrinking is not judged.
 */
export function fallingBehind(samples: readonly LoadSample[], offered: number, rule: SustainRule): boolean {
  const last = samples[samples.length - 1]
  if (last === undefined || last.at < rule.warmupMs || backlog(last) <= offered * rule.maxBacklogSeconds) return false
  const earlier = samples.findLast((s) => s.at <= last.at - BACKLOG_TREND_MS)
  return earlier !== undefined && backlog(last) > backlog(earlier)
}

/** Processed events/s between the first sample at or after the warm-up and the last sample; NaN when there are not two such samples. */
export function steadyRate(samples: readonly LoadSample[], warmupMs: number): number {
  const steady = samples.filter((s) => s.at >= warmupMs)
  const first = steady[0]
  const last = steady[steady.length - 1]
  if (first === undefined || last === undefined || last.at <= first.at) return Number.NaN
  return ((last.processed - first.processed) * 1000) / (last.at - first.at)
}

export interface LoadResult {
  readonly mode: 'kafka' | 'standalone'
  readonly offered: number
  /** How long the load was offered, s (shorter than asked when stopped early or out of prepared events). */
  readonly seconds: number
  readonly stopped: 'time' | 'events' | 'falling behind'
  /** Events/s answered 202 over the load. */
  readonly acceptedRate: number
  /** Processed events/s over the steady part. */
  readonly sustainedRate: number
  /** sent − processed when the load stopped. */
  readonly backlogAtStop: number
  readonly ingestion: Percentiles
  readonly probes: ProbeSummary
  readonly rssPeakMiB: number
  readonly rssEndMiB: number
  readonly loadAverage: number
}

const ms = (p: Percentiles): string => (p.count === 0 ? '-' : `${p.p50.toFixed(0)} / ${p.p99.toFixed(0)}`)

/** "sustained" or "not sustained (…)", with the backlog when it is not. */
export function sustainText(r: LoadResult): string {
  if (r.stopped === 'falling behind') return `**not sustained**: stopped after ${r.seconds.toFixed(0)} s, backlog ${r.backlogAtStop} events`
  // Ran its course but left more than a second of input queued: kept up only in part.
  if (r.backlogAtStop > r.offered) return `**not sustained**: backlog ${r.backlogAtStop} events at the end`
  return 'sustained'
}

function probesText(s: ProbeSummary): string {
  const lost = s.probes - s.detected
  return `${s.probes} probes, ${s.detected} detected, ${s.alerted} alerted${lost > 0 ? ` (${lost} not detected by the end of the run)` : ''}`
}

export const SWEEP_TABLE_HEADER = [
  '| mode | offered ev/s | sustained ev/s (accepted) | verdict | ingestion p50 / p99 ms | detection p50 / p99 ms | alerting p50 / p99 ms | end to end p50 / p99 ms | probes | RSS peak / end MiB | load avg |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
].join('\n')

export function sweepRow(r: LoadResult): string {
  const sustained = Number.isNaN(r.sustainedRate) ? '-' : Math.round(r.sustainedRate).toString()
  return `| ${r.mode} | ${r.offered} | ${sustained} (${Math.round(r.acceptedRate)}) | ${sustainText(r)} | ${ms(r.ingestion)} | ${ms(r.probes.detection)} | ${ms(r.probes.alerting)} | ${ms(r.probes.endToEnd)} | ${probesText(r.probes)} | ${r.rssPeakMiB.toFixed(0)} / ${r.rssEndMiB.toFixed(0)} | ${r.loadAverage.toFixed(1)} |`
}

export const RESULTS_HEADING = '## Load sweep (`npm run bench:sentinel -- --sweep`, issue 14 item 4)'

/** RESULTS.md with its load-sweep section (up to the next \`## \` heading) replaced by `section`, or `section` appended. */
export function withSweepSection(results: string, section: string): string {
  const at = results.indexOf(RESULTS_HEADING)
  if (at < 0) return `${results.trimEnd()}\n\n${section.trimEnd()}\n`
  const next = results.indexOf('\n## ', at + RESULTS_HEADING.length)
  const after = next < 0 ? '' : `\n${results.slice(next + 1)}`
  return `${results.slice(0, at)}${section.trimEnd()}\n${after}`
}
