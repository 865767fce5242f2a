/**
 * One scenario of the family, entirely from its seed: a traffic shape, a population (few or many
 * users), two hours of calls and three incidents of the kinds given, at random entities, magnitudes
 * and positions.
 */
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import { type ScenarioIncident, type ScenarioIncidentKind, injectIncident, placeIncident } from './incidents.js'
import { scenarioUsers } from './population.js'
import { ScenarioRandom } from './scenario-random.js'
import { telemetryOf } from './seed-events.js'
import { TRAFFIC_SHAPES, type TrafficShape, normalTraffic } from './traffic.js'

export const RUN_START = Date.parse('2026-03-02T08:00:00Z')
export const RUN_MS = 2 * 3_600_000

export interface Scenario {
  readonly seed: number
  readonly shape: TrafficShape
  readonly users: number
  readonly incidents: readonly ScenarioIncident[]
  readonly events: readonly TelemetryEvent[]
}

const POPULATIONS = [
  { users: 40, steadyUsers: 2, sessionCallsPerMinute: 8 },
  { users: 200, steadyUsers: 5, sessionCallsPerMinute: 20 },
] as const

export function buildScenario(seed: number, kinds: readonly ScenarioIncidentKind[]): Scenario {
  const random = new ScenarioRandom(seed)
  const shape = random.pick(TRAFFIC_SHAPES)
  const population = random.pick(POPULATIONS)
  const users = scenarioUsers(random, population)
  const calls = normalTraffic(random, users, { startMs: RUN_START, durationMs: RUN_MS, shape, sessionCallsPerMinute: population.sessionCallsPerMinute })
  const taken = new Set<string>()
  const incidents: ScenarioIncident[] = []
  for (const kind of kinds) {
    const incident = injectIncident(calls, placeIncident(random, kind, RUN_START, RUN_MS), { random, users, taken })
    if (incident !== null) incidents.push(incident)
  }
  return { seed, shape, users: population.users, incidents, events: telemetryOf(calls, random) }
}
