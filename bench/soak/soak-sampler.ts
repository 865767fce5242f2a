/**
 * One sample of the soak, taken each minute: per instance its RSS (from /proc) and event-loop delay
 * (prom-client's default metrics, nodejs_eventloop_lag_p99/max_seconds: a monitorEventLoopDelay
 * histogram that prom-client resets at each scrape, so each figure covers the interval since the
 * previous sample); over all instances the commit time (sentinel_streams_commit_seconds, the
 * difference of the histogram since the previous sample); the group's consumer lag from the admin
 * API (committed offsets against end offsets: the input topic, and every topic the group commits,
 * repartition topics included); the input rate the load achieved; error-level log lines.
 */
import type { Admin } from 'kafkajs'
import { lag, positions } from '../../test/chaos/progress.js'
import { processRssBytes } from './process-rss.js'
import { addHistograms, gauge, histogram, histogramSince, quantile, type Histogram } from './prometheus-text.js'
import { slotErrors, type SentinelFleet } from './sentinel-fleet.js'
import type { TelemetryLoad } from './telemetry-load.js'

export interface InstanceSample {
  pid: number | undefined
  rssMb: number | undefined
  loopP99Ms: number | undefined
  loopMaxMs: number | undefined
}

export interface SoakSample {
  /** Minutes since the load started. */
  minute: number
  achievedRate: number
  inputLag: number | undefined
  /** Over every topic the group has committed offsets for (input and repartition topics). */
  totalLag: number | undefined
  commits: number
  commitP99Ms: number | undefined
  commitMeanMs: number | undefined
  errorLines: number
  /** Planned restarts (instance stopped and started again) in the interval. */
  restarts: number
  /** Instances found exited on their own (and started again) in the interval. */
  crashes: number
  instances: InstanceSample[]
}

const COMMIT_METRIC = 'sentinel_streams_commit_seconds'
const ms = (seconds: number | undefined): number | undefined => (seconds === undefined ? undefined : seconds * 1000)

async function scrape(port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })
    return response.ok ? await response.text() : undefined
  } catch {
    return undefined // restarting, or too busy to answer in time: an empty cell, not a stop
  }
}

async function groupLag(admin: Admin, groupId: string): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId })
  let total = 0
  for (const { topic, partitions } of committed) {
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]))
    for (const p of partitions) total += Math.max(0, (ends.get(p.partition) ?? 0) - Math.max(0, Number(p.offset)))
  }
  return total
}

export class SoakSampler {
  private readonly startedAt = Date.now()
  private lastAt = this.startedAt
  private lastAcked = 0
  private lastErrors = 0
  private lastRestarts = 0
  private lastCrashes = 0
  /** Each slot's commit histogram at the previous sample. */
  private readonly lastCommits = new Map<number, Histogram>()
  /** Every commit of the run so far, all instances: the whole run's quantiles. */
  runCommits: Histogram | undefined

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly inputTopic: string,
    private readonly fleet: SentinelFleet,
    private readonly load: TelemetryLoad,
  ) {}

  async sample(): Promise<SoakSample> {
    const now = Date.now()
    const acked = this.load.acked
    const texts = await Promise.all(this.fleet.slots.map((s) => scrape(s.metricsPort)))
    const instances = this.fleet.slots.map((slot, i): InstanceSample => {
      const pid = slot.instance.process.exitCode === null ? slot.instance.process.pid : undefined
      const rss = pid === undefined ? undefined : processRssBytes(pid)
      const text = texts[i]
      return {
        pid,
        rssMb: rss === undefined ? undefined : rss / 2 ** 20,
        loopP99Ms: text === undefined ? undefined : ms(gauge(text, 'nodejs_eventloop_lag_p99_seconds')),
        loopMaxMs: text === undefined ? undefined : ms(gauge(text, 'nodejs_eventloop_lag_max_seconds')),
      }
    })
    const commitDeltas: Histogram[] = []
    this.fleet.slots.forEach((slot, i) => {
      const h = texts[i] === undefined ? undefined : histogram(texts[i], COMMIT_METRIC)
      if (!h) return
      commitDeltas.push(histogramSince(h, this.lastCommits.get(slot.index)))
      this.lastCommits.set(slot.index, h)
    })
    const commits = addHistograms(commitDeltas)
    if (commits) this.runCommits = addHistograms(this.runCommits ? [this.runCommits, commits] : [commits])
    const [input, total] = await Promise.all([
      positions(this.admin, this.groupId, this.inputTopic).then(lag, () => undefined),
      groupLag(this.admin, this.groupId).catch(() => undefined),
    ])
    const errors = this.fleet.slots.reduce((n, s) => n + slotErrors(s).length, 0)
    const restarts = this.fleet.slots.reduce((n, s) => n + s.restarts, 0)
    const crashes = this.fleet.slots.reduce((n, s) => n + s.crashes, 0)
    const sample: SoakSample = {
      minute: (now - this.startedAt) / 60_000,
      achievedRate: (acked - this.lastAcked) / ((now - this.lastAt) / 1000),
      inputLag: input,
      totalLag: total,
      commits: commits?.count ?? 0,
      commitP99Ms: commits === undefined ? undefined : ms(quantile(commits, 0.99)),
      commitMeanMs: commits === undefined || commits.count === 0 ? undefined : (commits.sum / commits.count) * 1000,
      errorLines: errors - this.lastErrors,
      restarts: restarts - this.lastRestarts,
      crashes: crashes - this.lastCrashes,
      instances,
    }
    this.lastAt = now
    this.lastAcked = acked
    this.lastErrors = errors
    this.lastRestarts = restarts
    this.lastCrashes = crashes
    return sample
  }
}
