/** The rebalance bench's RESULTS.md: medians over the repetitions, every run's figure beside them. */
import { median } from '../state/stats.js'
import type { RebalanceFigures } from './rebalance-timeline.js'

export interface RebalanceRunSettings {
  rate: number
  partitions: number
  warmupS: number
  afterS: number
  /** The one-minute load average before and after the runs. */
  loadAverage: [number, number]
  date: string
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
const perSecond = (rate: number): string => `${Math.round(rate)}/s`

export function rebalanceReport(runs: readonly RebalanceFigures[], settings: RebalanceRunSettings): string {
  const row = (what: string, values: number[], format: (v: number) => string): string =>
    `| ${what} | **${format(median(values))}** | ${values.map(format).join(', ')} |`
  const pauses = runs.flatMap((r) => r.pauses)
  // The member that hears of the rebalance first waits for the others to hear of it too (each at its
  // next heartbeat) before the group can assign: its pause is the longer one.
  const byLearning = runs.map((r) => [...r.pauses].sort((x, y) => x.learntAt - y.learntAt))
  const lines = [
    `# Rebalance bench: a third instance joins a group of two (${settings.date})`,
    '',
    `${runs.length} repetitions, ${settings.partitions} partitions, ${settings.rate} records/s offered, ` +
      `${settings.warmupS} s before the join and ${settings.afterS} s after the group runs again; ` +
      `load average ${settings.loadAverage[0].toFixed(1)} before, ${settings.loadAverage[1].toFixed(1)} after.`,
    '',
    '| | median | each run (existing instances: a, b per run) |',
    '|---|---:|---|',
    row(
      'pause of an existing instance: last record before it learnt of the rebalance → first after its new assignment',
      pauses.map((p) => p.pauseMs),
      seconds,
    ),
    row(
      '… of the existing instance that learnt of the rebalance first',
      byLearning.map((p) => p[0]!.pauseMs),
      seconds,
    ),
    row(
      '… of the existing instance that learnt of it last',
      byLearning.map((p) => p.at(-1)!.pauseMs),
      seconds,
    ),
    row(
      'existing instances: learnt of the rebalance → first record after',
      pauses.map((p) => p.rebalanceToResumeMs),
      seconds,
    ),
    row(
      'its longest gap without a processed record, join → end',
      pauses.map((p) => p.longestGapMs),
      seconds,
    ),
    row(
      'its longest gap in the 10 s before the join (for comparison)',
      pauses.map((p) => p.baselineGapMs),
      seconds,
    ),
    row(
      'group pause: first member learns → every member processing again',
      runs.map((r) => r.groupPauseMs),
      seconds,
    ),
    row(
      'new instance started → its first processed record',
      runs.map((r) => r.joinToNewOutputMs),
      seconds,
    ),
    row(
      'rebalance start → the new instance’s first processed record',
      runs.map((r) => r.rebalanceToNewOutputMs),
      seconds,
    ),
    row(
      'group records/s, 10 s before the join',
      runs.map((r) => r.rate.before),
      perSecond,
    ),
    row(
      'group records/s during the rebalance (start → all processing)',
      runs.map((r) => r.rate.during),
      perSecond,
    ),
    row(
      'lowest one-second window around it (the dip)',
      runs.map((r) => r.rate.dip),
      perSecond,
    ),
    row(
      'highest one-second window after it (catching up)',
      runs.map((r) => r.rate.catchUpPeak),
      perSecond,
    ),
    row(
      'group records/s, last 10 s',
      runs.map((r) => r.rate.after),
      perSecond,
    ),
    '',
  ]
  return lines.join('\n')
}
