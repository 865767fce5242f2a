/**
 * Who calls which model in a scenario: 4 models with their own latency and price, 3 applications
 * with their own prompt sizes and model mix, and users whose activity is heavy-tailed (Pareto), with
 * a few very heavy steady users (integrations calling around the clock). Independent of
 * apps/sentinel/generator: other figures, other distributions, other names.
 */
import type { ScenarioRandom } from './scenario-random.js'

export interface ScenarioModel {
  readonly id: string
  /** Median latency of a call of median size, ms (latencies are log-normal around it). */
  readonly medianLatencyMs: number
  readonly latencySigma: number
  /** USD per 1k prompt / completion tokens. */
  readonly promptPrice: number
  readonly completionPrice: number
}

export interface ScenarioApp {
  readonly id: string
  readonly tenant: string
  readonly modelShares: readonly number[]
  readonly promptMedian: number
  readonly promptSigma: number
  readonly completionMedian: number
  readonly completionSigma: number
}

export interface ScenarioUser {
  readonly id: string
  readonly app: number
  /** Relative session rate (heavy-tailed). */
  readonly weight: number
  /** A steady user calls every `steadyIntervalS` (median) all along instead of in sessions. */
  readonly steadyIntervalS: number | null
}

export const SCENARIO_MODELS: readonly ScenarioModel[] = [
  { id: 'orca-large', medianLatencyMs: 2400, latencySigma: 0.45, promptPrice: 0.005, completionPrice: 0.015 },
  { id: 'orca-small', medianLatencyMs: 700, latencySigma: 0.4, promptPrice: 0.0002, completionPrice: 0.0008 },
  { id: 'heron-pro', medianLatencyMs: 1800, latencySigma: 0.5, promptPrice: 0.003, completionPrice: 0.012 },
  { id: 'wren-8b', medianLatencyMs: 450, latencySigma: 0.35, promptPrice: 0.0001, completionPrice: 0.0001 },
]

export const SCENARIO_APPS: readonly ScenarioApp[] = [
  { id: 'helpdesk-bot', tenant: 'northwind', modelShares: [0.2, 0.5, 0, 0.3], promptMedian: 500, promptSigma: 0.5, completionMedian: 160, completionSigma: 0.5 },
  { id: 'dev-copilot', tenant: 'contoso', modelShares: [0.45, 0, 0.55, 0], promptMedian: 2200, promptSigma: 0.6, completionMedian: 300, completionSigma: 0.6 },
  { id: 'doc-search', tenant: 'northwind', modelShares: [0, 0.4, 0.2, 0.4], promptMedian: 3000, promptSigma: 0.35, completionMedian: 220, completionSigma: 0.45 },
]

/** Share of users of each application. */
const APP_USER_SHARE = [0.5, 0.2, 0.3]

export interface PopulationOptions {
  readonly users: number
  /** How many of them are very heavy steady users. */
  readonly steadyUsers: number
}

export function scenarioUsers(random: ScenarioRandom, options: PopulationOptions): ScenarioUser[] {
  const users: ScenarioUser[] = []
  for (let i = 0; i < options.users; i++) {
    const steady = i < options.steadyUsers
    users.push({
      id: `usr-${String(i).padStart(4, '0')}`,
      app: random.weighted(APP_USER_SHARE),
      // alpha 1.3: the busiest of 200 users is active ~30x the median one.
      weight: Math.min(random.pareto(1.3), 60),
      steadyIntervalS: steady ? random.uniform(12, 40) : null,
    })
  }
  return users
}
