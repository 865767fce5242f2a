/**
 * The ordinary traffic as calls (one LLM call each, before it becomes telemetry): persons open
 * sessions (Poisson in time, a few to a few dozen calls with log-normal think times), steady
 * integrations call at jittered intervals all along. Latencies are log-normal around the model's
 * first-token time plus generation time; 1% of calls fail (4 in 5 as errors, 1 in 5 as 30 s timeouts).
 */
import type { Rng } from './rng.js'
import { type Application, type Model, MODELS, type User } from './world.js'

export type CallStatus = 'success' | 'error' | 'timeout'

export interface Call {
  /** Request time, ms since the epoch. */
  t: number
  readonly user: User
  readonly app: Application
  readonly model: Model
  readonly session: string
  promptTokens: number
  completionTokens: number
  latencyMs: number
  status: CallStatus
}

export const ERROR_RATE = 0.01
export const TIMEOUT_MS = 30_000

export function makeCall(rng: Rng, t: number, user: User, session: string, model: Model = MODELS[rng.weighted(user.app.modelMix)] as Model): Call {
  const app = user.app
  const promptTokens = Math.max(5, Math.round(rng.lognormal(app.promptMedian, app.promptSigma)))
  const completionTokens = Math.max(1, Math.min(app.maxTokens, Math.round(rng.lognormal(app.completionMedian, app.completionSigma))))
  const call: Call = { t, user, app, model, session, promptTokens, completionTokens, latencyMs: 0, status: 'success' }
  call.latencyMs = latencyOf(rng, call)
  const u = rng.uniform()
  if (u < ERROR_RATE * 0.8) failCall(rng, call, 'error')
  else if (u < ERROR_RATE) failCall(rng, call, 'timeout')
  return call
}

/** Latency of a successful call of this size on its model. */
export function latencyOf(rng: Rng, call: Call): number {
  return (call.model.firstTokenMs + call.completionTokens * call.model.perTokenMs) * Math.exp(call.model.sigma * rng.normal())
}

export function failCall(rng: Rng, call: Call, status: 'error' | 'timeout'): void {
  call.status = status
  call.completionTokens = 0
  call.latencyMs = status === 'timeout' ? TIMEOUT_MS : rng.lognormal(250, 0.5)
}

export function baseCalls(rng: Rng, users: readonly User[], start: number, durationMs: number): Call[] {
  const calls: Call[] = []
  const end = start + durationMs
  for (const user of users) {
    if (user.steadyIntervalS > 0) {
      const session = `s-${user.id}-steady`
      for (let t = start + rng.uniform() * user.steadyIntervalS * 1000; t < end; t += user.steadyIntervalS * 1000 * rng.between(0.6, 1.4)) {
        calls.push(makeCall(rng, t, user, session))
      }
      continue
    }
    let n = 0
    for (let t = start + rng.exponential(3_600_000 / user.sessionsPerHour); t < end; t += rng.exponential(3_600_000 / user.sessionsPerHour)) {
      const session = `s-${user.id}-${n++}`
      const length = 1 + Math.floor(rng.exponential(6))
      let at = t
      for (let i = 0; i < length && at < end; i++) {
        calls.push(makeCall(rng, at, user, session))
        at += rng.lognormal(25_000, 0.8)
      }
      t = Math.max(t, at)
    }
  }
  return calls
}
