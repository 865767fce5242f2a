/**
 * Two-sided CUSUM (Page 1954) on a standardised residual, for changes too small for a point
 * threshold but lasting: a level shift of 1-2 standard deviations, a slow drift. Each side sums
 * the residual beyond an allowance `drift` (k) and restarts at 0 when the sum goes negative; a side
 * reaching `threshold` (h) confirms a change in that direction. With k = 0.5 and h = 5 (in units of
 * the residual's spread) a shift of one spread is confirmed after about 10 rows on average, and
 * pure noise raises a false change about once every 900 rows per side (Siegmund's approximation).
 *
 * The residual is clipped to ±`clip` first, so one spike (the point detector's business) cannot
 * confirm a change on its own: only a run of deviations can.
 *
 * On confirmation both sums restart and the verdict carries `shift`: the side, the rows since the
 * side last stood at 0 (where the change most likely began) and the mean residual over them (its
 * estimated size). The caller moves its baseline by that much (RobustBaselineModel.shiftLevel), so
 * a lasting new level stops being an anomaly after one alarm.
 *
 * Assumes residuals are roughly independent with unit spread once standardised; autocorrelated
 * noise (a random walk, smooth diurnal residue) looks like a sequence of small shifts and raises
 * false changes. A drift slower than `drift` spreads per row is absorbed by a rolling baseline
 * before CUSUM sees it.
 */
import { anomalyScore } from './severity.js'

export interface CusumConfig {
  /** Allowance k per row, in residual units: deviations below it never accumulate. */
  readonly drift: number
  /** Decision threshold h, in residual units. */
  readonly threshold: number
  /** |residual| is clipped to this before it accumulates. */
  readonly clip: number
}

export interface CusumState {
  readonly up: number
  readonly down: number
  /** Rows since each side was last at 0, and the residual summed over them. */
  readonly upRows: number
  readonly downRows: number
  readonly upSum: number
  readonly downSum: number
}

export interface CusumShift {
  readonly direction: 'up' | 'down'
  /** Rows since the change most likely began. */
  readonly rows: number
  /** Mean (clipped) residual since then: the change's estimated size, in residual units. */
  readonly size: number
}

export interface CusumVerdict {
  /** In [0, 1], 0.5 when a side reaches the threshold. */
  readonly score: number
  readonly shift: CusumShift | undefined
}

export class CusumDetector {
  constructor(readonly config: CusumConfig) {
    if (!(config.drift >= 0)) throw new Error(`CUSUM drift must be >= 0, got ${config.drift}`)
    if (!(config.threshold > 0)) throw new Error(`CUSUM threshold must be > 0, got ${config.threshold}`)
    if (!(config.clip > config.drift)) throw new Error(`CUSUM clip must exceed drift, got ${config.clip} <= ${config.drift}`)
  }

  initial(): CusumState {
    return { up: 0, down: 0, upRows: 0, downRows: 0, upSum: 0, downSum: 0 }
  }

  step(state: CusumState, residual: number): { state: CusumState; verdict: CusumVerdict } {
    const { drift, threshold, clip } = this.config
    if (!Number.isFinite(residual)) return { state, verdict: { score: 0, shift: undefined } }
    const r = Math.max(-clip, Math.min(clip, residual))
    const up = state.up + r - drift
    const down = state.down - r - drift
    const next: CusumState = {
      up: Math.max(0, up),
      down: Math.max(0, down),
      upRows: up > 0 ? state.upRows + 1 : 0,
      downRows: down > 0 ? state.downRows + 1 : 0,
      upSum: up > 0 ? state.upSum + r : 0,
      downSum: down > 0 ? state.downSum + r : 0,
    }
    const score = anomalyScore(Math.max(next.up, next.down), threshold)
    if (next.up >= threshold) return { state: this.initial(), verdict: { score, shift: { direction: 'up', rows: next.upRows, size: next.upSum / next.upRows } } }
    if (next.down >= threshold) return { state: this.initial(), verdict: { score, shift: { direction: 'down', rows: next.downRows, size: next.downSum / next.downRows } } }
    return { state: next, verdict: { score, shift: undefined } }
  }
}
