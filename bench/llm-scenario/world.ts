/**
 * Who calls what: 3 applications, 4 models with their own latency and prices, 200 users whose
 * activity is heavy-tailed (Pareto session rates) plus a few heavy steady integrations calling all
 * along. Values are this scenario's own, chosen to look like a small production deployment; none
 * is taken from the project's generator or detector defaults.
 */
import type { Rng } from './rng.js'

export interface Model {
  readonly name: string
  /** Time to first token, ms (median). */
  readonly firstTokenMs: number
  /** Generation time per completion token, ms. */
  readonly perTokenMs: number
  /** Log-space spread of latency. */
  readonly sigma: number
  /** USD per 1K prompt and per 1K completion tokens. */
  readonly promptPrice: number
  readonly completionPrice: number
}

export interface Application {
  readonly id: string
  readonly tenant: string
  /** Weights over MODELS, in order. */
  readonly modelMix: readonly number[]
  readonly promptMedian: number
  readonly promptSigma: number
  readonly completionMedian: number
  readonly completionSigma: number
  readonly maxTokens: number
}

export interface User {
  readonly id: string
  readonly app: Application
  /** Sessions an hour (0 for a steady integration). */
  readonly sessionsPerHour: number
  /** A steady integration's mean seconds between calls (0 for a person). */
  readonly steadyIntervalS: number
}

export const MODELS: readonly Model[] = [
  { name: 'atlas-8b', firstTokenMs: 180, perTokenMs: 6, sigma: 0.3, promptPrice: 0.0002, completionPrice: 0.0006 },
  { name: 'borealis-70b', firstTokenMs: 420, perTokenMs: 18, sigma: 0.4, promptPrice: 0.0025, completionPrice: 0.01 },
  { name: 'cirrus-pro', firstTokenMs: 650, perTokenMs: 25, sigma: 0.45, promptPrice: 0.005, completionPrice: 0.015 },
  { name: 'delta-mini', firstTokenMs: 120, perTokenMs: 4, sigma: 0.25, promptPrice: 0.00015, completionPrice: 0.0004 },
]

export const APPLICATIONS: readonly Application[] = [
  { id: 'helpdesk-chat', tenant: 'northwind', modelMix: [0.5, 0.2, 0.05, 0.25], promptMedian: 350, promptSigma: 0.6, completionMedian: 180, completionSigma: 0.5, maxTokens: 1024 },
  { id: 'contract-review', tenant: 'northwind', modelMix: [0.05, 0.45, 0.45, 0.05], promptMedian: 2200, promptSigma: 0.5, completionMedian: 450, completionSigma: 0.45, maxTokens: 2048 },
  { id: 'search-assist', tenant: 'fabrikam', modelMix: [0.3, 0.1, 0.0, 0.6], promptMedian: 600, promptSigma: 0.7, completionMedian: 90, completionSigma: 0.6, maxTokens: 512 },
]

/** Share of users per application. */
const APP_SHARE = [0.5, 0.2, 0.3]

export const USER_COUNT = 200
/** Heavy steady users: integrations calling every few seconds for the whole run. */
export const STEADY_USERS = 6

export function makeUsers(rng: Rng): User[] {
  const users: User[] = []
  for (let i = 0; i < USER_COUNT; i++) {
    const app = APPLICATIONS[rng.weighted(APP_SHARE)] as Application
    const id = `u${String(1000 + i)}-${rng.uuid().slice(0, 6)}`
    if (i < STEADY_USERS) {
      users.push({ id, app, sessionsPerHour: 0, steadyIntervalS: rng.between(6, 25) })
    } else {
      // Pareto(alpha 1.2) session rates: most users open a session every few hours, a few many an hour.
      users.push({ id, app, sessionsPerHour: Math.min(rng.pareto(0.3, 1.2), 15), steadyIntervalS: 0 })
    }
  }
  return users
}
