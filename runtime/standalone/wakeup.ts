/**
 * How a loop sleeps until there is work: `wait(ms)` resolves on the next `wake()` or after `ms`,
 * whichever comes first. A `wake()` while nobody waits is remembered, so an append that lands
 * between a loop's last read and its `wait` is never missed.
 */
export class Wakeup {
  private pending = false
  private resolve: (() => void) | undefined

  wake(): void {
    const resolve = this.resolve
    if (resolve) {
      this.resolve = undefined
      resolve()
    } else {
      this.pending = true
    }
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.resolve === done) this.resolve = undefined
        resolve()
      }, Math.max(0, ms))
      const done = (): void => {
        clearTimeout(timer)
        resolve()
      }
      this.resolve = done
    })
  }
}

/** Sleeps `ms`, cut short by `wakeup` (e.g. a stop). */
export function sleep(ms: number, wakeup?: Wakeup): Promise<void> {
  return wakeup ? wakeup.wait(ms) : new Promise((resolve) => setTimeout(resolve, ms))
}
