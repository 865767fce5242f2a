/**
 * One alarm per episode: after an alarm at position p, further alarms are held back until
 * p + hold (positions are whatever the caller counts in: window index, record offset, epoch ms).
 * Alert storms from one incident become one anomaly; the same rule keeps a detector's false
 * alarms from repeating on every window of a long excursion.
 */
export interface AlarmGateState {
  /** Alarms at positions below this are held back; -Infinity when open (JSON writes null). */
  readonly quietUntil: number | null
}

export class AlarmGate {
  constructor(readonly hold: number) {
    if (!(hold >= 0)) throw new Error(`alarm gate hold must be >= 0, got ${hold}`)
  }

  initial(): AlarmGateState {
    return { quietUntil: null }
  }

  /** Whether an alarm raised at `at` passes; a passing alarm closes the gate for `hold`. */
  offer(state: AlarmGateState, at: number, alarm: boolean): { state: AlarmGateState; passed: boolean } {
    if (!alarm) return { state, passed: false }
    if (state.quietUntil !== null && at < state.quietUntil) return { state, passed: false }
    return { state: { quietUntil: at + this.hold }, passed: true }
  }
}
