/**
 * One scenario from a seed: 2 hours of traffic (world.ts, calls.ts) with the six incidents
 * (incidents.ts), as time-ordered TelemetryEvents (telemetry.ts).
 */
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import { baseCalls } from './calls.js'
import { type Incident, injectIncidents } from './incidents.js'
import { Rng } from './rng.js'
import { callEvents } from './telemetry.js'
import { makeUsers } from './world.js'

export const RUN_MS = 2 * 3_600_000

export interface LlmScenario {
  readonly seed: number
  readonly start: number
  readonly incidents: readonly Incident[]
  readonly events: readonly TelemetryEvent[]
  readonly calls: number
}

export function buildScenario(seed: number): LlmScenario {
  const rng = new Rng(seed)
  // A weekday morning, a different day per seed, on whole minutes.
  const start = Date.UTC(2026, 2, 2, 8, 0) + (seed % 28) * 86_400_000
  const users = makeUsers(rng)
  const calls = baseCalls(rng, users, start, RUN_MS)
  const incidents = injectIncidents(rng, users, calls, start, RUN_MS)
  calls.sort((a, b) => a.t - b.t)
  const events = calls.flatMap((c) => callEvents(rng, c)).filter((e) => Date.parse(e.timestamp) < start + RUN_MS)
  events.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp))
  return { seed, start, incidents, events, calls: calls.length }
}
