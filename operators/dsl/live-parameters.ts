/**
 * Parameters an operator reads per record from a caller's provider (`live: () => P`), so thresholds
 * and the like change while it runs, without a restart and without touching its state (they judge
 * values; they never change what the state holds).
 *
 * The provider is called once per record and must be cheap: return the same object until the
 * parameters change (a field read), and a new object when they do. Each new object is checked once,
 * with the checks the operator's options get at build time (by identity, so the hot path is one
 * comparison and no allocation); one that fails is logged at error and ignored: the last valid
 * parameters stay in force, as a bad value must not stop a running detector.
 */
import pino, { type Logger } from 'pino'

/** The operators' logger; level from SENTINEL_LOG_LEVEL (default info). */
const operatorsLogger: Logger = pino({ name: 'sentinel-streams:operators', level: process.env.SENTINEL_LOG_LEVEL ?? 'info' })

export type LiveProvider<P> = () => P

export class LiveParameters<P> {
  private seen: P
  private current: P

  /**
   * `initial`: the parameters the operator was built with (already checked); `check` returns what is
   * wrong with a new object (naming the field) or null.
   */
  constructor(
    private readonly operator: string,
    initial: P,
    private readonly provider: LiveProvider<P> | undefined,
    private readonly check: (params: P) => string | null,
    private readonly log: Logger = operatorsLogger,
  ) {
    this.seen = initial
    this.current = initial
  }

  /** The parameters in force for this record. */
  read(): P {
    if (this.provider === undefined) return this.current
    const next = this.provider()
    if (next === this.seen) return this.current
    this.seen = next
    const problem = this.check(next)
    if (problem === null) this.current = next
    else this.log.error({ operator: this.operator, problem }, 'live parameters refused; the operator keeps the previous ones')
    return this.current
  }
}

/** The message of a check that throws (the cores' constructors), or null. */
export function problemOf(check: () => unknown): string | null {
  try {
    check()
    return null
  } catch (err) {
    return (err as Error).message
  }
}
