/**
 * The new tasks of one assignment start processing together: each waits, once initialised, until
 * the others are initialised too (or failed, or were revoked), for at most `START_TOGETHER_BOUND_MS`.
 *
 * Why: tasks writing to a repartition topic interleave there in the order they run. A task that
 * starts a fetch or two before the others runs ahead of them by whole batches of event time (a 2 MB
 * batch can be a minute of it), and a window downstream then drops the others' records as late.
 * kafkajs resumes a paused partition at its next fetch; with a short fetch wait (fetch-limits.ts)
 * each task's partitions came back on their own, and in the peers bench's detection workload one
 * run in seven dropped 24K records as late. Kafka Streams' classic stream thread processed nothing
 * until every task of its assignment was restored; the bound keeps a task with a long restore from
 * holding the others back for longer than a second.
 */
export const START_TOGETHER_BOUND_MS = 1_000

export class StartTogether {
  private readonly waiting: Set<string>
  private readonly allArrived: Promise<void>
  private releaseAll: () => void = () => undefined

  constructor(taskIds: readonly string[]) {
    this.waiting = new Set(taskIds)
    this.allArrived = new Promise((resolve) => (this.releaseAll = resolve))
    if (this.waiting.size === 0) this.releaseAll()
  }

  /** This task's initialisation ended, however it ended. Safe to call twice. */
  arrived(taskId: string): void {
    if (this.waiting.delete(taskId) && this.waiting.size === 0) this.releaseAll()
  }

  /** Resolves when every task arrived, or after the bound. */
  async all(boundMs = START_TOGETHER_BOUND_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, boundMs)))
    try {
      await Promise.race([this.allArrived, bound])
    } finally {
      clearTimeout(timer)
    }
  }
}
