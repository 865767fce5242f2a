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

/** What a running streak detector may change between records (the comparison's meaning is the streak's: not live). */
export type StreakParams = Pick<StreakConfig, 'bound' | 'count'>

export function checkStreakParams(params: StreakParams): void {
  if (!Number.isFinite(params.bound)) throw new Error(`streak bound must be a finite number, got ${params.bound}`)
  if (!Number.isInteger(params.count) || params.count < 1) throw new Error(`streak count must be an integer >= 1, got ${params.count}`)
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

  /**
   * `at` is the record's position (timestamp or offset), reported as the streak's start and end.
   * `params` (checked by the caller) replace the configured bound and count; a count lowered below
   * an unfired streak's length fires it at its next match.
   */
  step(state: StreakState, value: number, at: number, params: StreakParams = this.config): { state: StreakState; anomaly?: StreakAnomaly } {
    const { comparison } = this.config
    const { bound, count } = params
    if (!compare(value, comparison, bound)) return { state: this.initial() }
    const length = state.length + 1
    const start = state.start ?? at
    const values = length <= count ? [...state.values, value] : state.values
    if (!state.fired && length >= count) {
      return { state: { length, fired: true, start, values }, anomaly: { start, end: at, values, length } }
    }
    return { state: { length, fired: state.fired, start, values } }
  }
}
