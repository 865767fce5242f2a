/**
 * One alarm per excursion, without a fixed hold-back: after an alarm the gate stays shut until the
 * score has been below `rearmBelow` for `calmRows` consecutive positions, then the next score at or
 * above `alarmAt` passes. A fixed hold-back (AlarmGate) caps recall at one alarm per hold period, so
 * on a series whose anomalies come closer together than that it misses all but the first of each
 * group; here two anomalies need only a short calm stretch between them to raise two alarms, while
 * one long excursion, whose score stays up, still raises one.
 *
 * Assumes the score falls back below `rearmBelow` between separate anomalies. Fails when it does
 * not: a score hovering around `alarmAt` on noise that crosses `rearmBelow` now and then alarms on
 * each crossing (raise `calmRows`, or lower `rearmBelow`), and two anomalies with no calm between
 * them raise one alarm.
 */
export interface HysteresisGateConfig {
  /** Score at or above which an alarm is raised when the gate is open. */
  readonly alarmAt: number
  /** Score below which a position counts as calm. */
  readonly rearmBelow: number
  /** Consecutive calm positions that reopen the gate after an alarm. */
  readonly calmRows: number
}

export interface HysteresisGateState {
  readonly open: boolean
  readonly calm: number
}

export class HysteresisGate {
  constructor(readonly config: HysteresisGateConfig) {
    if (!(config.rearmBelow <= config.alarmAt)) throw new Error(`hysteresis gate: rearmBelow (${config.rearmBelow}) must not exceed alarmAt (${config.alarmAt})`)
    if (!(Number.isInteger(config.calmRows) && config.calmRows >= 1)) throw new Error(`hysteresis gate: calmRows must be an integer >= 1, got ${config.calmRows}`)
  }

  initial(): HysteresisGateState {
    return { open: true, calm: 0 }
  }

  /** Whether the score raises an alarm, and the gate's next state. */
  offer(state: HysteresisGateState, score: number): { state: HysteresisGateState; passed: boolean } {
    const { alarmAt, rearmBelow, calmRows } = this.config
    if (state.open) return score >= alarmAt ? { state: { open: false, calm: 0 }, passed: true } : { state, passed: false }
    const calm = score < rearmBelow ? state.calm + 1 : 0
    return { state: { open: calm >= calmRows, calm: calm >= calmRows ? 0 : calm }, passed: false }
  }
}
