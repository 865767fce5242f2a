/**
 * Failure bursts judged by how unlikely they are, not by a fixed rate: k failures among the n
 * calls of a window against the entity's long-run failure rate. 3 failures in 4 calls of an
 * application that fails 1% of the time is a burst (p ~ 4e-6); 3 in 300 is not (p ~ 0.58). A
 * ratio threshold needs a minimum volume to avoid firing on 1 of 2 and so never sees a quiet
 * entity's burst; a count threshold is too low for a busy entity and too high for a quiet one.
 *
 * The rate is uncertain for a young entity, so the tail is the beta-binomial's (the binomial
 * averaged over the rate's Beta posterior): the entity's own failures and calls, plus `priorCalls`
 * pseudo-calls at the population's rate (all entities of the task: empirical Bayes). An entity with
 * little history borrows the population's rate and is judged with the wider tail its uncertainty
 * gives; one with many calls is judged on its own rate. Long-run counts are kept over about
 * `memoryCalls` calls (scaled down beyond), so a rate that changes for good is learned.
 *
 * Assumes failures are independent given the rate (no retry storms counted as separate calls) and
 * that the rate is stable over `memoryCalls` calls. Fails on entities whose failures always come in
 * clusters (their normal reads as bursts: raise `significance` or count a retried call once), and
 * a burst in an entity so quiet that the window holds fewer calls than `minFailures`.
 */
import { gammaln } from 'simple-statistics'

/** Long-run counts of one entity (or of the population). */
export interface FailureCounts {
  readonly calls: number
  readonly failures: number
}

export const NO_COUNTS: FailureCounts = { calls: 0, failures: 0 }

export interface BinomialBurstConfig {
  /** The tail probability at or below which a window is a burst, e.g. 1e-4. */
  readonly significance: number
  /** Failures a window needs before it can be a burst (a lone failure never is). */
  readonly minFailures: number
  /** Weight of the population's rate in an entity's rate, in pseudo-calls (default 200). */
  readonly priorCalls?: number
  /** Calls the long-run counts remember (default 5000). */
  readonly memoryCalls?: number
  /** The rate assumed before the population has any calls (default 0.02). */
  readonly coldStartRate?: number
}

export interface BinomialBurstVerdict {
  /** P(failures >= k | n calls) under the entity's rate (beta-binomial). */
  readonly tail: number
  /** The entity's expected failure rate (posterior mean). */
  readonly rate: number
  readonly burst: boolean
}

function logBeta(a: number, b: number): number {
  return gammaln(a) + gammaln(b) - gammaln(a + b)
}

/**
 * P(X >= k) for X ~ BetaBinomial(n, a, b), summed term by term in log space from k up (the terms
 * fall fast past the mean, so the sum stops once they no longer move it).
 */
export function betaBinomialTail(k: number, n: number, a: number, b: number): number {
  if (k <= 0) return 1
  if (k > n) return 0
  const lnNorm = gammaln(n + 1) - logBeta(a, b)
  let sum = 0
  for (let x = k; x <= n; x++) {
    const term = Math.exp(lnNorm - gammaln(x + 1) - gammaln(n - x + 1) + logBeta(x + a, n - x + b))
    sum += term
    if (x > (n * a) / (a + b) && term < sum * 1e-12) break
  }
  return Math.min(1, sum)
}

export class BinomialBurstDetector {
  readonly priorCalls: number
  readonly memoryCalls: number
  readonly coldStartRate: number

  constructor(readonly config: BinomialBurstConfig) {
    if (!(config.significance > 0 && config.significance < 1)) throw new Error(`binomialBurst: 'significance' must be in (0, 1), got ${config.significance}`)
    if (!(Number.isInteger(config.minFailures) && config.minFailures >= 1)) throw new Error(`binomialBurst: 'minFailures' must be an integer >= 1, got ${config.minFailures}`)
    this.priorCalls = config.priorCalls ?? 200
    this.memoryCalls = config.memoryCalls ?? 5000
    this.coldStartRate = config.coldStartRate ?? 0.02
    if (!(this.priorCalls > 0)) throw new Error(`binomialBurst: 'priorCalls' must be > 0, got ${this.priorCalls}`)
    if (!(this.memoryCalls >= this.priorCalls)) throw new Error(`binomialBurst: 'memoryCalls' must be >= priorCalls (${this.priorCalls}), got ${this.memoryCalls}`)
    if (!(this.coldStartRate > 0 && this.coldStartRate < 1)) throw new Error(`binomialBurst: 'coldStartRate' must be in (0, 1), got ${this.coldStartRate}`)
  }

  /** The population's rate, shrunk toward coldStartRate while it has few calls. */
  populationRate(population: FailureCounts): number {
    return (population.failures + this.priorCalls * this.coldStartRate) / (population.calls + this.priorCalls)
  }

  /** The entity's rate as Beta(a, b): its own counts plus priorCalls at the population's rate. */
  posterior(own: FailureCounts, population: FailureCounts): { a: number; b: number } {
    const p = this.populationRate(population)
    return { a: own.failures + this.priorCalls * p, b: own.calls - own.failures + this.priorCalls * (1 - p) }
  }

  judge(failures: number, calls: number, own: FailureCounts, population: FailureCounts): BinomialBurstVerdict {
    const { a, b } = this.posterior(own, population)
    const rate = a / (a + b)
    if (failures < this.config.minFailures) return { tail: 1, rate, burst: false }
    const tail = betaBinomialTail(failures, Math.max(calls, failures), a, b)
    return { tail, rate, burst: tail <= this.config.significance }
  }

  /** One call's outcome into long-run counts, remembering about memoryCalls calls. */
  learn(counts: FailureCounts, failed: boolean): FailureCounts {
    const calls = counts.calls + 1
    const failures = counts.failures + (failed ? 1 : 0)
    if (calls <= this.memoryCalls) return { calls, failures }
    const scale = this.memoryCalls / calls
    return { calls: this.memoryCalls, failures: failures * scale }
  }
}
