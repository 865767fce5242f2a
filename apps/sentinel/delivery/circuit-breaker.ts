/**
 * A circuit breaker for one receiver. Closed: calls go through; `failureThreshold` consecutive
 * failures open it. Open: calls are refused at once (the dispatcher records `circuit_open` and moves
 * on) until `coolDownMs` has passed. Half-open: one probe at a time goes through; `successThreshold`
 * successful probes close it, one failure opens it again.
 *
 * A call holds the permit of the generation it was admitted in; results of calls admitted before the
 * last state change are ignored, so a straggler of a closed period cannot close a circuit that has
 * opened since (the rule of sony/gobreaker). (`opossum` was considered: its trip rule is an error
 * percentage over a rolling window, not consecutive failures, and it wants to own the call.)
 */
import type { BreakerSettings } from './receivers-config.js'

export type CircuitState = 'closed' | 'open' | 'half-open'

/** Admission to one call; pass it back to `success` / `failure`. */
export interface CircuitPermit {
  readonly generation: number
}

export class CircuitBreaker {
  private current: CircuitState = 'closed'
  private generation = 0
  private failures = 0
  private successes = 0
  private openedAt = 0
  private probing = false

  constructor(
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
    private readonly onChange: (state: CircuitState) => void = () => {},
  ) {}

  /** The state now (an open circuit whose cool-down has passed reads as half-open). */
  get state(): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.settings.coolDownMs) this.moveTo('half-open')
    return this.current
  }

  /** A permit to call, or null when the circuit refuses (open, or half-open with a probe in flight). */
  acquire(): CircuitPermit | null {
    switch (this.state) {
      case 'closed':
        return { generation: this.generation }
      case 'open':
        return null
      case 'half-open':
        if (this.probing) return null
        this.probing = true
        return { generation: this.generation }
    }
  }

  success(permit: CircuitPermit): void {
    if (permit.generation !== this.generation) return
    if (this.current === 'half-open') {
      this.probing = false
      if (++this.successes >= this.settings.successThreshold) this.moveTo('closed')
    } else this.failures = 0
  }

  failure(permit: CircuitPermit): void {
    if (permit.generation !== this.generation) return
    if (this.current === 'half-open') return this.moveTo('open')
    if (this.current === 'closed' && ++this.failures >= this.settings.failureThreshold) this.moveTo('open')
  }

  /** Gives back a permit whose call was abandoned without an outcome (e.g. the dispatcher stopped). */
  release(permit: CircuitPermit): void {
    if (permit.generation === this.generation && this.current === 'half-open') this.probing = false
  }

  private moveTo(state: CircuitState): void {
    this.current = state
    this.generation++
    this.failures = 0
    this.successes = 0
    this.probing = false
    if (state === 'open') this.openedAt = this.now()
    this.onChange(state)
  }
}
