/**
 * Failed authentications per client address. The request rate limit alone does not stop key
 * guessing: its buckets are per valid key, else per address, and its budget (1000/min) is sized for
 * honest traffic, so an address rotating bad keys gets 1000 guesses a minute. This limit counts only
 * failures, per address, with a small budget; past it, the address is answered 429 with
 * Retry-After until its window ends, before its key is even looked at.
 *
 * Fixed windows (not sliding): one timestamp and one counter per address. The table is bounded: past
 * `maxAddresses`, the oldest windows are dropped first (an attacker spraying addresses can only
 * reset their own counters, never grow memory).
 */
export interface AuthFailureLimitOptions {
  /** Failed authentications allowed per address and window. */
  readonly max: number
  readonly timeWindowMs: number
  /** Addresses tracked at once; default 100,000. */
  readonly maxAddresses?: number
}

interface Window {
  readonly startedAt: number
  failures: number
}

export class AuthFailureLimit {
  private readonly windows = new Map<string, Window>()
  private readonly maxAddresses: number

  constructor(
    private readonly options: AuthFailureLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.max >= 1 && options.timeWindowMs >= 1)) throw new Error('AuthFailureLimit: max and timeWindowMs must be >= 1')
    this.maxAddresses = options.maxAddresses ?? 100_000
  }

  /** Seconds until `address` may try again, or 0 when it is not blocked. */
  retryAfterSeconds(address: string): number {
    const window = this.current(address)
    if (window === undefined || window.failures < this.options.max) return 0
    return Math.max(1, Math.ceil((window.startedAt + this.options.timeWindowMs - this.now()) / 1000))
  }

  recordFailure(address: string): void {
    const window = this.current(address)
    if (window !== undefined) {
      window.failures += 1
      return
    }
    this.windows.set(address, { startedAt: this.now(), failures: 1 })
    if (this.windows.size > this.maxAddresses) this.windows.delete(this.windows.keys().next().value!)
  }

  private current(address: string): Window | undefined {
    const window = this.windows.get(address)
    if (window === undefined) return undefined
    if (this.now() - window.startedAt >= this.options.timeWindowMs) {
      this.windows.delete(address)
      return undefined
    }
    return window
  }
}
