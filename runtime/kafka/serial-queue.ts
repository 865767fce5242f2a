/**
 * Runs async jobs one at a time, in order. Every change to the tasks of an instance — processing a
 * batch, a commit, a punctuation, a rebalance — goes through one queue, so no two of them interleave
 * at an `await` (a commit flushing a store while a batch writes to it would tear the store's batch).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job)
    // The queue goes on after a failed job; the failure reaches the caller of `run`.
    this.tail = result.catch(() => undefined)
    return result
  }
}
