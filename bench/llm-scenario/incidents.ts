/**
 * The six incidents of one scenario, each on an entity, position and magnitude drawn from the seed
 * (magnitudes within a band around the nominal one), applied to the ordinary calls:
 *
 * | kind | entity | nominal | band | duration |
 * |---|---|---|---|---|
 * | latency-spike | a model | latency x4 | x3.5-4.5 | 5 min |
 * | error-burst | an application | 30% of calls fail | 25-35% | 3 min |
 * | token-surge | another application | tokens per call x5 | x4-6 | 5-10 min |
 * | cost-runaway | a moderately active person | an agent loop, tokens x20 | x15-25 | 10 min |
 * | long-prompt-burst | a user active in the 10 min before | 60 requests, prompts x10 | x8-12 | 2-3 min |
 * | latency-drift | another model | +1%/min | +0.8-1.2%/min | 60 min |
 *
 * Incidents start from 45 minutes into the run (the drift from 40, so its hour fits), leaving the
 * detectors a warm-up a deployment would have had.
 */
import { type Call, failCall, latencyOf, makeCall } from './calls.js'
import type { Rng } from './rng.js'
import { APPLICATIONS, MODELS, type User } from './world.js'

export const INCIDENT_KINDS = ['latency-spike', 'error-burst', 'token-surge', 'cost-runaway', 'long-prompt-burst', 'latency-drift'] as const
export type IncidentKind = (typeof INCIDENT_KINDS)[number]

export interface EntityRef {
  readonly type: 'model' | 'application' | 'user'
  readonly id: string
}

export interface Incident {
  readonly kind: IncidentKind
  readonly entity: EntityRef
  readonly start: number
  readonly end: number
  readonly description: string
  /** `type:id` of every entity whose calls the incident changed (anomalies on them are consequences). */
  readonly touched: ReadonlySet<string>
}

const MIN = 60_000

export const entityKey = (e: EntityRef): string => `${e.type}:${e.id}`

function touchedBy(calls: Iterable<Call>): Set<string> {
  const out = new Set<string>()
  for (const c of calls) {
    out.add(`application:${c.app.id}`)
    out.add(`model:${c.model.name}`)
    out.add(`user:${c.user.id}`)
  }
  return out
}

/** Draws the six incidents and applies them to `calls` (changed in place, new calls appended). */
export function injectIncidents(rng: Rng, users: readonly User[], calls: Call[], runStart: number, runMs: number): Incident[] {
  const runEnd = runStart + runMs
  const startBetween = (durationMs: number, fromMin = 45): number => runStart + Math.round(rng.between(fromMin * MIN, runMs - durationMs - 5 * MIN) / 1000) * 1000
  const inSpan = (c: Call, s: number, e: number): boolean => c.t >= s && c.t < e
  const incidents: Incident[] = []

  // Latency spike on one model.
  const spikeModel = rng.pick(MODELS)
  {
    const factor = rng.between(3.5, 4.5)
    const s = startBetween(5 * MIN)
    const e = s + 5 * MIN
    const hit = calls.filter((c) => c.model === spikeModel && c.status === 'success' && inSpan(c, s, e))
    for (const c of hit) c.latencyMs *= factor
    incidents.push({ kind: 'latency-spike', entity: { type: 'model', id: spikeModel.name }, start: s, end: e, description: `latency x${factor.toFixed(2)} on ${spikeModel.name} for 5 min`, touched: touchedBy(hit) })
  }

  // Slow latency drift on another model.
  {
    const model = rng.pick(MODELS.filter((m) => m !== spikeModel))
    const perMin = rng.between(0.008, 0.012)
    const s = runStart + Math.round(rng.between(40 * MIN, 55 * MIN) / 1000) * 1000
    const e = Math.min(s + 60 * MIN, runEnd)
    const hit = calls.filter((c) => c.model === model && c.status === 'success' && inSpan(c, s, e))
    for (const c of hit) c.latencyMs *= 1 + (perMin * (c.t - s)) / MIN
    incidents.push({ kind: 'latency-drift', entity: { type: 'model', id: model.name }, start: s, end: e, description: `latency +${(perMin * 100).toFixed(2)}%/min on ${model.name} for 60 min`, touched: touchedBy(hit) })
  }

  // Error burst in one application, token surge in another.
  const errorApp = rng.pick(APPLICATIONS)
  {
    const share = rng.between(0.25, 0.35)
    const s = startBetween(3 * MIN)
    const e = s + 3 * MIN
    const hit = calls.filter((c) => c.app === errorApp && inSpan(c, s, e))
    for (const c of hit) if (c.status === 'success' && rng.uniform() < share) failCall(rng, c, 'error')
    incidents.push({ kind: 'error-burst', entity: { type: 'application', id: errorApp.id }, start: s, end: e, description: `${(share * 100).toFixed(0)}% of ${errorApp.id}'s calls fail for 3 min`, touched: touchedBy(hit) })
  }
  {
    const app = rng.pick(APPLICATIONS.filter((a) => a !== errorApp))
    const factor = rng.between(4, 6)
    const minutes = rng.int(5, 10)
    const s = startBetween(minutes * MIN)
    const e = s + minutes * MIN
    const hit = calls.filter((c) => c.app === app && inSpan(c, s, e))
    for (const c of hit) {
      c.promptTokens = Math.round(c.promptTokens * factor)
      if (c.status !== 'success') continue
      c.completionTokens = Math.round(c.completionTokens * factor)
      c.latencyMs = latencyOf(rng, c)
    }
    incidents.push({ kind: 'token-surge', entity: { type: 'application', id: app.id }, start: s, end: e, description: `tokens per call x${factor.toFixed(2)} in ${app.id} for ${minutes} min`, touched: touchedBy(hit) })
  }

  // Cost runaway: a moderately active person's agent loops on huge contexts for 10 minutes.
  const persons = users.filter((u) => u.steadyIntervalS === 0)
  const moderate = persons.filter((u) => u.sessionsPerHour >= 0.5 && u.sessionsPerHour <= 4)
  const runawayUser = rng.pick(moderate.length > 0 ? moderate : persons)
  {
    const factor = rng.between(15, 25)
    const s = startBetween(10 * MIN)
    const e = s + 10 * MIN
    const session = `s-${runawayUser.id}-agent`
    const added: Call[] = []
    for (let t = s + rng.between(0, 20_000); t < e; t += rng.between(15_000, 30_000)) added.push(makeCall(rng, t, runawayUser, session))
    const hit = [...calls.filter((c) => c.user === runawayUser && inSpan(c, s, e)), ...added]
    for (const c of hit) {
      c.promptTokens = Math.round(c.promptTokens * factor)
      if (c.status !== 'success') continue
      c.completionTokens = Math.round(c.completionTokens * factor)
      c.latencyMs = latencyOf(rng, c)
    }
    calls.push(...added)
    incidents.push({ kind: 'cost-runaway', entity: { type: 'user', id: runawayUser.id }, start: s, end: e, description: `${runawayUser.id} (${runawayUser.app.id}): agent loop, tokens x${factor.toFixed(1)} for 10 min (${added.length} calls added)`, touched: touchedBy(hit) })
  }

  // Long-prompt burst from a user who was already active (3+ calls in the 10 minutes before).
  {
    for (let attempt = 0; ; attempt++) {
      const durationMs = Math.round(rng.between(2, 3) * MIN)
      const s = startBetween(durationMs)
      const before = new Map<User, Call>()
      const counts = new Map<User, number>()
      for (const c of calls) {
        if (c.user === runawayUser || c.t < s - 10 * MIN || c.t >= s) continue
        counts.set(c.user, (counts.get(c.user) ?? 0) + 1)
        const last = before.get(c.user)
        if (last === undefined || last.t < c.t) before.set(c.user, c)
      }
      const active = [...counts].filter(([, n]) => n >= 3).map(([u]) => u)
      if (active.length === 0 && attempt < 50) continue
      const user = active.length > 0 ? rng.pick(active) : rng.pick(users.filter((u) => u !== runawayUser))
      const session = before.get(user)?.session ?? `s-${user.id}-burst`
      const factor = rng.between(8, 12)
      const added: Call[] = []
      for (let i = 0; i < 60; i++) {
        const c = makeCall(rng, s + (durationMs * i) / 60 + rng.between(0, 1000), user, session)
        c.promptTokens = Math.round(c.promptTokens * factor)
        added.push(c)
      }
      calls.push(...added)
      incidents.push({
        kind: 'long-prompt-burst',
        entity: { type: 'user', id: user.id },
        start: s,
        end: s + durationMs,
        description: `60 requests with prompts x${factor.toFixed(1)} in ${(durationMs / MIN).toFixed(1)} min from ${user.id} (${user.steadyIntervalS > 0 ? 'steady integration' : `${user.sessionsPerHour.toFixed(1)} sessions/h`}, ${counts.get(user) ?? 0} calls in the 10 min before)`,
        touched: touchedBy(added),
      })
      break
    }
  }
  return incidents
}
