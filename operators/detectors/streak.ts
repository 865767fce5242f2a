/**
 * N consecutive records (or windows) meeting a condition make one anomaly; the streak must break
 * (one record failing the condition) before another can fire.
 */
export type Comparison = '>' | '>=' | '<' | '<=' | '=='

export function compare(value: number, comparison: Comparison, bound: number): boolean {
  switch (comparison) {
    case '>':
      return value > bound
    case '>=':
      return value >= bound
    case '<':
      return value < bound
    case '<=':
      return value <= bound
    case '==':
      return value === bound
  }
}

export interface StreakConfig {
  readonly comparison: Comparison
  readonly bound: number
  /** Consecutive matches needed, >= 1. */
  readonly count: number
}

export interface StreakState {
  readonly length: number
  /** Whether this streak has already produced its anomaly. */
  readonly fired: boolean
  readonly start: number | null
  /** The streak's first `count` values (what the anomaly reports). */
  readonly values: number[]
}

export interface StreakAnomaly {
  /** Position (time or offset) of the first and of the N-th matching record. */
  readonly start: number
  readonly end: number
  readonly values: readonly number[]
  readonly length: number
}

export class ConsecutiveThreshold {
  constructor(readonly config: StreakConfig) {
    if (!Number.isInteger(config.count) || config.count < 1) throw new Error(`streak count must be an integer >= 1, got ${config.count}`)
  }

  initial(): StreakState {
    return { length: 0, fired: false, start: null, values: [] }
  }

  /** `at` is the record's position (timestamp or offset), reported as the streak's start and end. */
  step(state: StreakState, value: number, at: number): { state: StreakState; anomaly?: StreakAnomaly } {
    const { comparison, bound, count } = this.config
    if (!compare(value, comparison, bound)) return { state: this.initial() }
    const length = state.length + 1
    const start = state.start ?? at
    const values = length <= count ? [...state.values, value] : state.values
    if (!state.fired && length === count) {
      return { state: { length, fired: true, start, values }, anomaly: { start, end: at, values, length } }
    }
    return { state: { length, fired: state.fired, start, values } }
  }
}
