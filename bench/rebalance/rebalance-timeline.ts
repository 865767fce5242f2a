/**
 * What one repetition of the rebalance bench measured, from the processing timeline alone: every
 * output record says which instance processed its input and when (`count-topology.ts` with
 * STAMP_INSTANCE), and the instances' logs say when each learnt of the rebalance and got its new
 * assignment. Pure, so the definitions are tested apart from Kafka.
 */

/** One processed record: which instance, at what wall-clock time (epoch ms). */
export interface Processed {
  instance: string
  at: number
}

export interface RebalanceMarks {
  /** When the new instance was started. */
  joinAt: number
  /** The end of the measured span: when the load stopped. */
  endAt: number
  /** The instances running before the join; the new one is `newInstance`. */
  existing: string[]
  newInstance: string
  /** Per existing instance: when it learnt of the rebalance (its `rebalancing` state change). */
  rebalanceStartAt: Record<string, number>
  /** Per instance (the new one too): when it received its assignment of the rebalance. */
  assignedAt: Record<string, number>
}

export interface InstancePause {
  instance: string
  /**
   * The rebalance's pause: from its last processed record before it learnt of the rebalance to its
   * first after its new assignment. (It keeps processing until its heartbeat or fetch hears of the
   * rebalance, then stops every task until the whole group has rejoined.)
   */
  pauseMs: number
  /** When it learnt of the rebalance (its `rebalancing` state change). */
  learntAt: number
  /** The longest stretch without a processed record from this instance, joinAt..endAt. */
  longestGapMs: number
  gapFrom: number
  gapTo: number
  /** The same before the join (the BASELINE_MS before it): how long its gaps are anyway. */
  baselineGapMs: number
  /** From learning of the rebalance to its first processed record after the new assignment. */
  rebalanceToResumeMs: number
}

export interface RebalanceFigures {
  pauses: InstancePause[]
  /** From the first existing instance learning of the rebalance to every instance processing again. */
  groupPauseMs: number
  /** From starting the new instance to its first processed record. */
  joinToNewOutputMs: number
  /** From the first existing instance learning of the rebalance to the new instance's first record. */
  rebalanceToNewOutputMs: number
  /** The whole group's processed records/s. */
  rate: {
    /** The BASELINE_MS before the join. */
    before: number
    /** From the rebalance's start to every instance processing again. */
    during: number
    /** The lowest one-second window from the rebalance's start to 2 s after every instance resumed. */
    dip: number
    /** The highest one-second window after it: the backlog being worked off. */
    catchUpPeak: number
    /** The last BASELINE_MS before the load stopped. */
    after: number
  }
}

export const BASELINE_MS = 10_000

/** The longest interval between consecutive times (sorted) within [from, to), edges included as bounds. */
export function longestGap(times: readonly number[], from: number, to: number): { ms: number; from: number; to: number } {
  let best = { ms: 0, from, to: from }
  let previous = from
  for (const t of times) {
    if (t < from) continue
    if (t >= to) break
    if (t - previous > best.ms) best = { ms: t - previous, from: previous, to: t }
    previous = t
  }
  if (to - previous > best.ms) best = { ms: to - previous, from: previous, to }
  return best
}

const countIn = (times: readonly number[], from: number, to: number): number => times.filter((t) => t >= from && t < to).length
const perSecond = (count: number, ms: number): number => (ms > 0 ? (count * 1000) / ms : 0)

/** Records/s of each whole second from `from` while the window starts before `to`. */
export function secondRates(times: readonly number[], from: number, to: number): number[] {
  const rates: number[] = []
  for (let start = from; start < to; start += 1000) rates.push(countIn(times, start, start + 1000))
  return rates
}

export function rebalanceFigures(processed: readonly Processed[], marks: RebalanceMarks): RebalanceFigures {
  const byInstance = new Map<string, number[]>()
  for (const p of processed) {
    const times = byInstance.get(p.instance)
    if (times) times.push(p.at)
    else byInstance.set(p.instance, [p.at])
  }
  for (const times of byInstance.values()) times.sort((a, b) => a - b)
  const timesOf = (instance: string): number[] => byInstance.get(instance) ?? []
  const all = processed.map((p) => p.at).sort((a, b) => a - b)
  const firstAtOrAfter = (instance: string, since: number): number => {
    const t = timesOf(instance).find((at) => at >= since)
    if (t === undefined) throw new Error(`instance ${instance} processed nothing after ${new Date(since).toISOString()}`)
    return t
  }
  const mark = (of: Record<string, number>, instance: string, what: string): number => {
    const t = of[instance]
    if (t === undefined) throw new Error(`no ${what} of instance ${instance} after the join`)
    return t
  }

  const pauses = marks.existing.map((instance): InstancePause => {
    const gap = longestGap(timesOf(instance), marks.joinAt, marks.endAt)
    const resumedAt = firstAtOrAfter(instance, mark(marks.assignedAt, instance, 'assignment'))
    const learntAt = mark(marks.rebalanceStartAt, instance, 'rebalance start')
    const lastBefore = timesOf(instance).findLast((at) => at <= learntAt) ?? learntAt
    return {
      instance,
      pauseMs: resumedAt - lastBefore,
      learntAt,
      longestGapMs: gap.ms,
      gapFrom: gap.from,
      gapTo: gap.to,
      baselineGapMs: longestGap(timesOf(instance), marks.joinAt - BASELINE_MS, marks.joinAt).ms,
      rebalanceToResumeMs: resumedAt - learntAt,
    }
  })
  const rebalanceStart = Math.min(...marks.existing.map((i) => mark(marks.rebalanceStartAt, i, 'rebalance start')))
  const newOutputAt = firstAtOrAfter(marks.newInstance, marks.joinAt)
  const everyoneResumedAt = Math.max(newOutputAt, ...marks.existing.map((i) => firstAtOrAfter(i, mark(marks.assignedAt, i, 'assignment'))))
  const aroundRebalance = secondRates(all, rebalanceStart, everyoneResumedAt + 2_000)
  const afterResume = secondRates(all, everyoneResumedAt, marks.endAt - 1_000)
  return {
    pauses,
    groupPauseMs: everyoneResumedAt - rebalanceStart,
    joinToNewOutputMs: newOutputAt - marks.joinAt,
    rebalanceToNewOutputMs: newOutputAt - rebalanceStart,
    rate: {
      before: perSecond(countIn(all, marks.joinAt - BASELINE_MS, marks.joinAt), BASELINE_MS),
      during: perSecond(countIn(all, rebalanceStart, everyoneResumedAt), everyoneResumedAt - rebalanceStart),
      dip: Math.min(...aroundRebalance),
      catchUpPeak: afterResume.length > 0 ? Math.max(...afterResume) : 0,
      after: perSecond(countIn(all, marks.endAt - BASELINE_MS, marks.endAt), BASELINE_MS),
    },
  }
}

/** Records processed per instance per `bucketMs`, from `from` to `to`: the timeline's CSV rows. */
export function bucketCounts(processed: readonly Processed[], instances: readonly string[], from: number, to: number, bucketMs: number): number[][] {
  const rows: number[][] = []
  for (let start = from; start < to; start += bucketMs) rows.push([start - from, ...instances.map(() => 0)])
  for (const p of processed) {
    if (p.at < from || p.at >= to) continue
    const column = instances.indexOf(p.instance)
    if (column >= 0) rows[Math.floor((p.at - from) / bucketMs)]![column + 1]!++
  }
  return rows
}
