/**
 * Normal traffic of a scenario, as calls (one request and one outcome each): users open sessions
 * at a rate set by their weight and the traffic shape, call a few times with think times between;
 * steady users call at a near-constant pace all along. 1% of calls fail.
 */
import { SCENARIO_APPS, SCENARIO_MODELS, type ScenarioUser } from './population.js'
import type { ScenarioRandom } from './scenario-random.js'

export const TRAFFIC_SHAPES = ['steady', 'diurnal', 'bursty'] as const
export type TrafficShape = (typeof TRAFFIC_SHAPES)[number]

export interface Call {
  readonly id: string
  readonly start: number
  readonly user: string
  readonly app: string
  readonly model: string
  readonly session: string
  readonly promptTokens: number
  readonly completionTokens: number
  readonly latencyMs: number
  readonly status: 'success' | 'error' | 'timeout'
  /** Length of the prompt text sent (long prompts are a jailbreak signature). */
  readonly promptChars: number
}

export interface TrafficOptions {
  readonly startMs: number
  readonly durationMs: number
  readonly shape: TrafficShape
  /** Calls per minute of the session users together at shape factor 1. */
  readonly sessionCallsPerMinute: number
}

const MEAN_SESSION_CALLS = 4
const THINK_TIME_S = 40
export const ERROR_RATE = 0.01

/** Traffic multiplier at `t` minutes into the run: the busy periods of a bursty run are drawn once. */
function shapeFactor(shape: TrafficShape, bursts: readonly { at: number; length: number; height: number }[], durationMin: number): (minute: number) => number {
  switch (shape) {
    case 'steady':
      return () => 1
    case 'diurnal':
      // A compressed day: one trough and one peak over the run, 0.5x to 1.5x.
      return (m) => 1 - 0.5 * Math.cos((2 * Math.PI * m) / durationMin)
    case 'bursty':
      return (m) => {
        let f = 1
        for (const b of bursts) {
          const x = (m - b.at) / b.length
          if (x >= 0 && x <= 1) f += (b.height - 1) * Math.sin(Math.PI * x)
        }
        return f
      }
  }
}

export function sampleCall(random: ScenarioRandom, at: number, user: ScenarioUser, session: string): Call {
  const app = SCENARIO_APPS[user.app]!
  const model = SCENARIO_MODELS[random.weighted(app.modelShares)]!
  const promptTokens = Math.max(5, Math.round(random.lognormal(app.promptMedian, app.promptSigma)))
  const completionTokens = Math.max(1, Math.round(random.lognormal(app.completionMedian, app.completionSigma)))
  // Latency grows with the completion (generation) and a little with the prompt (prefill).
  const size = Math.pow(completionTokens / app.completionMedian, 0.6) * Math.pow(promptTokens / app.promptMedian, 0.1)
  const latencyMs = Math.max(40, random.lognormal(model.medianLatencyMs * size, model.latencySigma * 0.6))
  const failed = random.chance(ERROR_RATE)
  const timeout = failed && random.chance(0.2)
  return {
    id: random.uuid(),
    start: at,
    user: user.id,
    app: app.id,
    model: model.id,
    session,
    promptTokens,
    completionTokens: failed ? 0 : completionTokens,
    latencyMs: timeout ? 30_000 : failed ? Math.round(latencyMs * 0.2) : Math.round(latencyMs),
    status: timeout ? 'timeout' : failed ? 'error' : 'success',
    promptChars: Math.round(promptTokens * random.uniform(3.6, 4.4)),
  }
}

export function normalTraffic(random: ScenarioRandom, users: readonly ScenarioUser[], options: TrafficOptions): Call[] {
  const durationMin = options.durationMs / 60_000
  const bursts = Array.from({ length: 3 }, () => ({ at: random.uniform(0, durationMin - 10), length: random.uniform(6, 15), height: random.uniform(1.5, 2) }))
  const factor = shapeFactor(options.shape, bursts, durationMin)
  const peak = options.shape === 'steady' ? 1 : 2
  const sessionUsers = users.filter((u) => u.steadyIntervalS === null)
  const totalWeight = sessionUsers.reduce((s, u) => s + u.weight, 0)
  const calls: Call[] = []
  const end = options.startMs + options.durationMs
  for (const user of users) {
    if (user.steadyIntervalS !== null) {
      const interval = user.steadyIntervalS
      let t = options.startMs + random.uniform(0, interval * 1000)
      const session = random.uuid()
      while (t < end) {
        calls.push(sampleCall(random, Math.round(t), user, session))
        t += random.lognormal(interval, 0.25) * 1000
      }
      continue
    }
    // Session starts: a Poisson process thinned by the shape (rate at peak, kept with factor / peak).
    const sessionsPerMin = ((options.sessionCallsPerMinute / MEAN_SESSION_CALLS) * user.weight) / totalWeight
    let t = options.startMs + random.exponential(1 / (sessionsPerMin * peak)) * 60_000
    while (t < end) {
      if (random.chance(factor((t - options.startMs) / 60_000) / peak)) {
        const session = random.uuid()
        let at = t
        do {
          calls.push(sampleCall(random, Math.round(at), user, session))
          at += (5 + random.exponential(THINK_TIME_S)) * 1000
        } while (at < end && random.chance(1 - 1 / MEAN_SESSION_CALLS))
      }
      t += random.exponential(1 / (sessionsPerMin * peak)) * 60_000
    }
  }
  return calls
}
