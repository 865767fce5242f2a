/**
 * What the `--threads` supervisor does when one of its workers exits on its own: restart it after a
 * backoff, give up on it, or end the whole run. Pure (no timers, no processes) so it can be tested
 * exhaustively; thread-supervisor.ts applies the decisions.
 *
 * - Exit code 2 is a configuration or usage error (main.ts): every restart would fail the same way,
 *   so the whole run ends with 2.
 * - Exit code 0 is a worker that shut down cleanly, which it only does when signalled (a Ctrl-C
 *   reaches the whole process group): the run is ending, so the others are stopped too.
 * - Anything else is a crash: restarted after 1 s, doubling to 30 s. A worker that crashes again and
 *   again within 30 s of its start (a topic that is missing, a broker that refuses it) is given up
 *   on after 5 such crashes in a row. A crash after a longer run is not counted towards giving up
 *   (the worker did work), but still doubles the delay, until the worker has run 5 minutes: then
 *   its next crash is a fresh failure, restarted after 1 s.
 */

export interface RestartPolicySettings {
  /** The first restart's delay; each further crash in a row doubles it. */
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  /** A crash this soon after the worker started counts towards giving up. */
  readonly quickCrashMs: number
  /** A crash after a run this long starts the backoff from the first delay again. */
  readonly stableRunMs: number
  /** Quick crashes in a row after which the worker is not restarted again. */
  readonly maxQuickCrashes: number
}

export const RESTART_POLICY: RestartPolicySettings = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  quickCrashMs: 30_000,
  stableRunMs: 300_000,
  maxQuickCrashes: 5,
}

/** A usage or configuration error: main.ts exits with it, and no restart can fix it. */
export const CONFIG_ERROR_EXIT = 2

export type WorkerExitDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly quickCrashes: number }
  | { readonly action: 'give-up'; readonly quickCrashes: number }
  | { readonly action: 'end-run'; readonly code: number; readonly why: string }

export class WorkerRestartPolicy {
  /** Crashes in a row, each soon after its start. */
  private quickCrashes = 0
  /** Crashes since the worker last ran stably: the backoff exponent. */
  private crashesInRow = 0

  constructor(private readonly settings: RestartPolicySettings = RESTART_POLICY) {}

  /** The worker exited unasked: `code` null when a signal killed it; `ranMs` since its start. */
  onExit(code: number | null, ranMs: number): WorkerExitDecision {
    if (code === CONFIG_ERROR_EXIT) return { action: 'end-run', code: CONFIG_ERROR_EXIT, why: 'a thread stopped on a configuration or usage error' }
    if (code === 0) return { action: 'end-run', code: 0, why: 'a thread shut down cleanly' }
    this.quickCrashes = ranMs < this.settings.quickCrashMs ? this.quickCrashes + 1 : 0
    this.crashesInRow = ranMs < this.settings.stableRunMs ? this.crashesInRow + 1 : 1
    if (this.quickCrashes >= this.settings.maxQuickCrashes) return { action: 'give-up', quickCrashes: this.quickCrashes }
    const delayMs = Math.min(this.settings.initialDelayMs * 2 ** (this.crashesInRow - 1), this.settings.maxDelayMs)
    return { action: 'restart', delayMs, quickCrashes: this.quickCrashes }
  }
}
