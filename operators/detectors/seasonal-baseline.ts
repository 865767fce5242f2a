/**
 * A seasonal profile: the expected value and spread of a metric per time-of-cycle slot (hour of
 * day, or hour of week), so that a diurnal peak is judged against previous peaks rather than
 * against the whole day. Each slot keeps an EWMA of its values and of their absolute deviation from
 * it; values entering a slot are clipped to expected ± `clip` × spread, so an anomaly teaches the
 * profile no more than a borderline value would.
 *
 * `strength` says how much of the variation the profile explains: the variance between the slots'
 * levels over that plus the mean variance within a slot (0: the slots are alike, 1: all variation is
 * the cycle). A caller can use the residual only when it is clearly seasonal: on a non-seasonal
 * series the profile just adds its own estimation noise.
 *
 * Assumes timestamps in UTC carry the cycle (a service's local midnight at a fixed UTC hour; daylight
 * saving moves it by a slot twice a year) and that the cycle repeats with a slowly changing shape.
 * Fails on a level shift (every slot is off until `alpha` has relearnt it, about 1/alpha cycles),
 * on holidays (a weekday that behaves as a Sunday), and until each slot has seen `minCycles` values.
 */
export interface SeasonalBaselineConfig {
  /** 'day': 24 hourly slots; 'week': 168 (hour of the week, from Monday 00:00 UTC). */
  readonly period: 'day' | 'week'
  /** EWMA weight of a new value in its slot. */
  readonly alpha: number
  /** Values a slot must have seen before it gives an expectation. */
  readonly minCycles: number
  /** Values entering a slot are clipped to expected ± clip × spread. */
  readonly clip: number
  /**
   * Expect the straight line between the two nearest slot centres instead of the slot's flat level
   * (and teach both slots their share of the residual), so that a steep hour (the morning ramp) is
   * not judged against its own average: its spread then measures noise, not the hour's slope.
   */
  readonly interpolate?: boolean
}

export interface SeasonalBaselineState {
  readonly level: number[]
  readonly deviation: number[]
  readonly seen: number[]
  /**
   * Per slot, the EWMA (weight `alpha`) of "this value was clipped": its residual reached `clip`
   * spreads. Absent in states written before it existed (read as 0).
   */
  readonly clipped?: number[]
}

export interface SeasonalExpectation {
  readonly ready: boolean
  readonly expected: number
  /** Standard deviation of the slot's values (mean absolute deviation × sqrt(pi / 2)). */
  readonly spread: number
  /** Share of variance the slots' levels explain, in [0, 1]; NaN until two slots are ready. */
  readonly strength: number
}

const HOUR_MS = 3_600_000
const MEAN_ABS_TO_STD = Math.sqrt(Math.PI / 2)

/**
 * The largest share of a slot's values that can lie `clip` spreads or more from its level if the
 * spread is theirs: the spread is sqrt(pi / 2) × their mean absolute deviation, and by Markov's
 * inequality at most 1 / c of any values lie c mean absolute deviations or more away, whatever
 * their distribution (0.27 at clip 3). A slot clipping more often than that has a spread that
 * does not describe its values.
 */
export function clippedShareBound(clip: number): number {
  return 1 / (clip * MEAN_ABS_TO_STD)
}

export class SeasonalBaseline {
  readonly slots: number

  constructor(readonly config: SeasonalBaselineConfig) {
    if (!(config.alpha > 0 && config.alpha <= 1)) throw new Error(`seasonal alpha must be in (0, 1], got ${config.alpha}`)
    if (!(config.minCycles >= 1)) throw new Error(`seasonal minCycles must be >= 1, got ${config.minCycles}`)
    this.slots = config.period === 'day' ? 24 : 168
  }

  initial(): SeasonalBaselineState {
    const zeros = () => new Array<number>(this.slots).fill(0)
    return { level: zeros(), deviation: zeros(), seen: zeros(), clipped: zeros() }
  }

  slotOf(timeMs: number): number {
    const hours = Math.floor(timeMs / HOUR_MS)
    // 1970-01-01 was a Thursday: shift by 3 days so that slot 0 is Monday 00:00.
    return this.config.period === 'day' ? ((hours % 24) + 24) % 24 : (((hours + 72) % 168) + 168) % 168
  }

  expect(state: SeasonalBaselineState, timeMs: number): SeasonalExpectation {
    const slot = this.slotOf(timeMs)
    const spread = state.deviation[slot]! * MEAN_ABS_TO_STD
    const between = this.between(state, timeMs)
    if (between) return { ready: true, expected: (1 - between.w) * state.level[between.k0]! + between.w * state.level[between.k1]!, spread, strength: this.strength(state) }
    const ready = state.seen[slot]! >= this.config.minCycles
    return { ready, expected: state.level[slot]!, spread, strength: this.strength(state) }
  }

  /** With `interpolate`: the two slots whose centres enclose the time and the weight of the later, once both are ready. */
  private between(state: SeasonalBaselineState, timeMs: number): { k0: number; k1: number; w: number } | undefined {
    if (!this.config.interpolate) return undefined
    const hours = timeMs / HOUR_MS + (this.config.period === 'day' ? 0 : 72) - 0.5
    const k = Math.floor(hours)
    const k0 = ((k % this.slots) + this.slots) % this.slots
    const k1 = (k0 + 1) % this.slots
    if (state.seen[k0]! < this.config.minCycles || state.seen[k1]! < this.config.minCycles) return undefined
    return { k0, k1, w: hours - k }
  }

  strength(state: SeasonalBaselineState): number {
    let n = 0
    let mean = 0
    let m2 = 0
    let within = 0
    for (let k = 0; k < this.slots; k++) {
      if (state.seen[k]! < this.config.minCycles) continue
      n++
      const d = state.level[k]! - mean
      mean += d / n
      m2 += d * (state.level[k]! - mean)
      within += (state.deviation[k]! * MEAN_ABS_TO_STD) ** 2
    }
    if (n < 2) return Number.NaN
    const between = m2 / n
    const total = between + within / n
    return total > 0 ? between / total : 0
  }

  /**
   * Teaches the value to its slot; the state is a new object (the slot arrays copied on write).
   * `spread: false` moves the slot's level (clipped as always) but leaves its spread: for a value
   * the caller judged anomalous, so dense anomalies do not widen the spread that judges the next
   * ones, while a lasting change of the cycle is still learned through the level.
   *
   * Except where the slot's spread has stopped describing its values: when the slot's share of
   * clipped values (EWMA, weight `alpha`, this value included) exceeds what any distribution with
   * that spread allows (`clippedShareBound`, Markov's inequality), the value teaches the spread
   * anyway, and unclipped (the clip is measured in the spread that is wrong). Left out, the values
   * beyond the spread would keep it narrow for good: a step inside an hour (a cycle that drops from
   * 80 to 0 at 18:00, learned flat during the first `minCycles` values and then judged against the
   * interpolated line) or a lasting change of the cycle's shape is then flagged every cycle, since
   * the only values allowed to teach the spread are the ones already inside it. Sparse anomalies,
   * even a few per cent of the rows, stay far under the bound and still leave the spread alone; a
   * burst filling over a quarter of a slot's recent values (7 in a row at alpha 0.05) does teach it.
   */
  update(state: SeasonalBaselineState, timeMs: number, value: number, options: { readonly spread?: boolean } = {}): SeasonalBaselineState {
    if (!Number.isFinite(value)) return state
    const { alpha, clip } = this.config
    const slot = this.slotOf(timeMs)
    const seen = state.seen[slot]!
    const level = state.level.slice()
    const deviation = state.deviation.slice()
    const seenNext = state.seen.slice()
    const clipped = state.clipped ? state.clipped.slice() : new Array<number>(this.slots).fill(0)
    if (seen === 0) {
      level[slot] = value
    } else {
      const spread = deviation[slot]! * MEAN_ABS_TO_STD
      const between = this.between(state, timeMs)
      const expected = between ? (1 - between.w) * level[between.k0]! + between.w * level[between.k1]! : level[slot]!
      const residual = value - expected
      const clipping = spread > 0 && seen >= this.config.minCycles
      if (clipping) clipped[slot] = clipped[slot]! + alpha * ((Math.abs(residual) >= clip * spread ? 1 : 0) - clipped[slot]!)
      // More of the slot's values clipped than its spread allows: the spread is wrong, and so is a
      // clip measured in it (clipped at 3 spreads, a spread of 0.01 where the values stray by 40
      // grows 14% a value and needs weeks). Its values teach the spread in full until it fits.
      const misfit = clipped[slot]! > clippedShareBound(clip)
      const taught = clipping ? Math.max(-clip * spread, Math.min(clip * spread, residual)) : residual
      if (between) {
        level[between.k0] = level[between.k0]! + alpha * (1 - between.w) * taught
        level[between.k1] = level[between.k1]! + alpha * between.w * taught
      } else {
        level[slot] = level[slot]! + alpha * taught
      }
      if (options.spread !== false || misfit) deviation[slot] = deviation[slot]! + alpha * (Math.abs(misfit ? residual : taught) - deviation[slot]!)
    }
    seenNext[slot] = seen + 1
    return { level, deviation, seen: seenNext, clipped }
  }
}
