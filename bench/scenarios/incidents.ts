/**
 * The incident family: what can go wrong in LLM traffic, each with a range of magnitudes and a
 * position in the run, injected into the calls of normal traffic. Each incident names the entity a
 * detector is expected to name (a model, an application or a user) and every entity its calls touched.
 */
import { SCENARIO_APPS, SCENARIO_MODELS, type ScenarioUser } from './population.js'
import type { ScenarioRandom } from './scenario-random.js'
import { type Call, sampleCall } from './traffic.js'

export const SCENARIO_INCIDENT_KINDS = [
  'latency-spike',
  'latency-drift',
  'token-surge',
  'cost-runaway',
  'error-burst',
  'model-outage',
  'idle-user-burst',
  'active-user-burst',
] as const
export type ScenarioIncidentKind = (typeof SCENARIO_INCIDENT_KINDS)[number]

export interface EntityRef {
  readonly type: 'application' | 'model' | 'user'
  readonly id: string
}

export interface ScenarioIncident {
  readonly kind: ScenarioIncidentKind
  readonly entity: EntityRef
  readonly start: number
  readonly end: number
  readonly magnitude: number
  readonly description: string
  /** Entities whose telemetry the incident changed (filled in by the injection). */
  readonly affected: EntityRef[]
  /**
   * Calls the incident actually changed or added (a failure it caused, a surged call, a burst's
   * request): 0 when its entity had no call in its span, so no detector can see it.
   */
  readonly evidence: number
}

const MIN = 60_000

interface Placement {
  readonly kind: ScenarioIncidentKind
  readonly start: number
  readonly durationMs: number
  readonly magnitude: number
}

/** Magnitudes each kind is drawn from, and how long it lasts. */
const SHAPES: Record<ScenarioIncidentKind, { magnitudes: readonly number[]; durationMin: readonly number[] }> = {
  'latency-spike': { magnitudes: [2.5, 4, 6], durationMin: [5] },
  // Relative rise per minute, for an hour.
  'latency-drift': { magnitudes: [0.01, 0.02], durationMin: [60] },
  'token-surge': { magnitudes: [3, 5, 8], durationMin: [5, 10] },
  'cost-runaway': { magnitudes: [10, 20], durationMin: [10] },
  // Share of failed calls.
  'error-burst': { magnitudes: [0.3, 0.5], durationMin: [3, 5] },
  // Share of calls timing out.
  'model-outage': { magnitudes: [0.8, 1], durationMin: [3, 5] },
  // Requests in the burst (over 2-3 minutes).
  'idle-user-burst': { magnitudes: [40, 60], durationMin: [2, 3] },
  'active-user-burst': { magnitudes: [40, 60], durationMin: [2, 3] },
}

export function placeIncident(random: ScenarioRandom, kind: ScenarioIncidentKind, runStart: number, runMs: number): Placement {
  const shape = SHAPES[kind]
  const durationMs = random.pick(shape.durationMin) * MIN
  // Positions: from 40 minutes in (detectors need some history) to 10 minutes before the end.
  const earliest = runStart + 40 * MIN
  const latest = runStart + runMs - durationMs - 10 * MIN
  return { kind, start: Math.round(random.uniform(earliest, Math.max(earliest, latest))), durationMs, magnitude: random.pick(shape.magnitudes) }
}

const within = (call: Call, start: number, end: number): boolean => call.start >= start && call.start < end

function touched(calls: readonly Call[], entity: EntityRef): EntityRef[] {
  const seen = new Map<string, EntityRef>([[`${entity.type}:${entity.id}`, entity]])
  for (const c of calls) {
    for (const e of [{ type: 'application', id: c.app }, { type: 'model', id: c.model }, { type: 'user', id: c.user }] as const) seen.set(`${e.type}:${e.id}`, e)
  }
  return [...seen.values()]
}

export interface InjectionContext {
  readonly random: ScenarioRandom
  readonly users: readonly ScenarioUser[]
  /** Entities already used by another incident of the run: each incident gets its own. */
  readonly taken: Set<string>
}

function freeEntity<T extends string>(context: InjectionContext, type: EntityRef['type'], ids: readonly T[]): T | null {
  const free = ids.filter((id) => !context.taken.has(`${type}:${id}`))
  if (free.length === 0) return null
  const id = context.random.pick(free)
  context.taken.add(`${type}:${id}`)
  return id
}

/** The calls matching `match`, after `change` (which returns the call itself to leave it as it was). */
function rewrite(calls: Call[], match: (c: Call) => boolean, change: (c: Call) => Call): Call[] {
  const changed: Call[] = []
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i]!
    if (!match(c)) continue
    calls[i] = change(c)
    changed.push(calls[i]!)
  }
  return changed
}

/** Calls of `after` that differ from the call they replaced (by id) or are new. */
function evidenceOf(before: ReadonlyMap<string, Call>, after: readonly Call[]): number {
  return after.filter((c) => before.get(c.id) !== c).length
}

/** Injects one incident into `calls` (in place); null when no entity is free for it. */
export function injectIncident(calls: Call[], placement: Placement, context: InjectionContext): ScenarioIncident | null {
  const { random } = context
  const { kind, start, magnitude } = placement
  const end = start + placement.durationMs
  const models = SCENARIO_MODELS.map((m) => m.id)
  const apps = SCENARIO_APPS.map((a) => a.id)
  // The calls as they were, to count which ones the incident changed.
  const original = new Map(calls.filter((c) => within(c, start, end)).map((c) => [c.id, c]))
  const make = (entity: EntityRef, description: string, changed: readonly Call[]): ScenarioIncident => ({ kind, entity, start, end, magnitude, description, affected: touched(changed, entity), evidence: evidenceOf(original, changed) })
  switch (kind) {
    case 'latency-spike':
    case 'latency-drift':
    case 'model-outage': {
      const model = freeEntity(context, 'model', models)
      if (model === null) return null
      const changed = rewrite(calls, (c) => c.model === model && within(c, start, end), (c) => {
        if (kind === 'latency-spike') return { ...c, latencyMs: Math.round(c.latencyMs * magnitude) }
        if (kind === 'latency-drift') return { ...c, latencyMs: Math.round(c.latencyMs * (1 + (magnitude * (c.start - start)) / MIN)) }
        return random.chance(magnitude) ? { ...c, status: 'timeout', latencyMs: 30_000, completionTokens: 0 } : c
      })
      const what = kind === 'latency-spike' ? `latency x${magnitude}` : kind === 'latency-drift' ? `latency +${magnitude * 100}%/min` : `${magnitude * 100}% of calls time out`
      return make({ type: 'model', id: model }, `${model}: ${what} for ${placement.durationMs / MIN} min`, changed)
    }
    case 'token-surge':
    case 'error-burst': {
      const app = freeEntity(context, 'application', apps)
      if (app === null) return null
      const changed = rewrite(calls, (c) => c.app === app && within(c, start, end), (c) => {
        if (kind === 'token-surge') return { ...c, promptTokens: Math.round(c.promptTokens * magnitude), promptChars: Math.round(c.promptChars * magnitude), completionTokens: Math.round(c.completionTokens * magnitude), latencyMs: Math.round(c.latencyMs * Math.sqrt(magnitude)) }
        return c.status === 'success' && random.chance(magnitude) ? { ...c, status: 'error', completionTokens: 0, latencyMs: Math.round(c.latencyMs * 0.2) } : c
      })
      const what = kind === 'token-surge' ? `tokens x${magnitude}` : `${magnitude * 100}% errors`
      return make({ type: 'application', id: app }, `${app}: ${what} for ${placement.durationMs / MIN} min`, changed)
    }
    case 'cost-runaway':
      return costRunaway(calls, placement, context, make)
    case 'idle-user-burst':
    case 'active-user-burst':
      return requestBurst(calls, placement, context, make)
  }
}

type Make = (entity: EntityRef, description: string, changed: readonly Call[]) => ScenarioIncident

/** Activity of each user (calls) in [from, to). */
function activity(calls: readonly Call[], from: number, to: number): Map<string, number> {
  const counts = new Map<string, number>()
  for (const c of calls) if (within(c, from, to)) counts.set(c.user, (counts.get(c.user) ?? 0) + 1)
  return counts
}

/**
 * One user's calls carry `magnitude` times their tokens for the span (a runaway agent loop resending
 * a growing context): the user's own calls in the span and an agent loop at about one call a minute.
 * The user is one of the moderately active session users (not new, not one of the heaviest).
 */
function costRunaway(calls: Call[], placement: Placement, context: InjectionContext, make: Make): ScenarioIncident | null {
  const { random } = context
  const start = placement.start
  const end = start + placement.durationMs
  const before = activity(calls, start - 60 * MIN, start)
  const candidates = context.users.filter((u) => u.steadyIntervalS === null && (before.get(u.id) ?? 0) >= 1 && !context.taken.has(`user:${u.id}`))
  if (candidates.length === 0) return null
  const user = random.pick(candidates)
  context.taken.add(`user:${user.id}`)
  const scale = (c: Call): Call => ({ ...c, promptTokens: Math.round(c.promptTokens * placement.magnitude), completionTokens: Math.round(c.completionTokens * placement.magnitude), promptChars: Math.round(c.promptChars * placement.magnitude), latencyMs: Math.round(c.latencyMs * 2) })
  const changed = rewrite(calls, (c) => c.user === user.id && within(c, start, end), scale)
  const session = random.uuid()
  for (let t = start; t < end; t += random.uniform(40, 80) * 1000) {
    const call = scale(sampleCall(random, Math.round(t), user, session))
    calls.push(call)
    changed.push(call)
  }
  return make({ type: 'user', id: user.id }, `${user.id}: tokens x${placement.magnitude} for ${placement.durationMs / MIN} min`, changed)
}

/**
 * `magnitude` requests with long prompts within the span from one user: a user idle for the hour
 * before (no calls), or one of the most active users in the middle of their activity.
 */
function requestBurst(calls: Call[], placement: Placement, context: InjectionContext, make: Make): ScenarioIncident | null {
  const { random } = context
  const start = placement.start
  const end = start + placement.durationMs
  const before = activity(calls, start - 60 * MIN, end + 10 * MIN)
  const free = context.users.filter((u) => !context.taken.has(`user:${u.id}`))
  let candidates: ScenarioUser[]
  if (placement.kind === 'idle-user-burst') {
    candidates = free.filter((u) => u.steadyIntervalS === null && (before.get(u.id) ?? 0) === 0)
  } else {
    const busiest = [...free].sort((a, b) => (before.get(b.id) ?? 0) - (before.get(a.id) ?? 0))
    candidates = busiest.slice(0, 5).filter((u) => (before.get(u.id) ?? 0) >= 20)
  }
  if (candidates.length === 0) return null
  const user = random.pick(candidates)
  context.taken.add(`user:${user.id}`)
  const session = random.uuid()
  const changed: Call[] = []
  for (let i = 0; i < placement.magnitude; i++) {
    const at = Math.round(start + (placement.durationMs * (i + random.next())) / placement.magnitude)
    const call = sampleCall(random, at, user, session)
    // Long prompts: a jailbreak script pastes a long preamble before each try.
    const long = { ...call, promptTokens: call.promptTokens * 4 + 1500, promptChars: call.promptChars * 4 + 6000 }
    calls.push(long)
    changed.push(long)
  }
  const who = placement.kind === 'idle-user-burst' ? 'idle user' : 'active user'
  return make({ type: 'user', id: user.id }, `${who} ${user.id}: ${placement.magnitude} long-prompt requests in ${placement.durationMs / MIN} min`, changed)
}
