/**
 * The commit: what the tasks processed becomes durable, in one sequence in one place (as Kafka
 * Streams' TaskManager.commit and Quix Streams' checkpoint.py):
 *
 *   1. Prepare: each task forwards its held-back table updates and expires old windows; both may
 *      produce records and store writes.
 *   2. Flush all stores together: every store of every task hands its changelog records to its
 *      task's collector, in the buffer beside the outputs, dead letters and late records.
 *   3. Send: each collector sends its whole buffer as one chain of requests.
 *   4. Wait once: one round of acknowledgements per collector, all tasks at the same time. Only
 *      then does each store write its local batch (local state never runs ahead of its changelog).
 *   5. Commit: at-least-once, the consumer offsets of every task in one request; exactly-once, each
 *      task's transaction with its offsets.
 *   6. Checkpoint: per store, the changelog offset acknowledged in step 4 (at-least-once, and at a
 *      clean close; under exactly-once local state may run ahead of the transaction until then).
 *
 * A task that fails a step is reported back, not committed; the others go on.
 */

/** A consumer offset to commit, carrying the task's stream time (as Kafka Streams does) in its metadata. */
export interface TaskOffset {
  topic: string
  partition: number
  offset: string
  metadata: string
}

/** What the commit needs of a task (`ActiveTask`). */
export interface CommittableTask {
  readonly id: string
  /** Offsets that moved since the last commit. */
  pendingOffsets(): TaskOffset[]
  prepareCommit(): Promise<void>
  /** Steps 2 to 4 for this task: its stores flushed together, its collector flushed, one wait. */
  flushState(): Promise<void>
  /** Exactly-once: the offsets go into the task's transaction, which commits. */
  commitTransaction(groupId: string, offsets: readonly TaskOffset[]): Promise<void>
  writeCheckpoint(): Promise<void>
  markCommitted(offsets: readonly TaskOffset[]): void
}

export interface CommitOptions {
  groupId: string
  exactlyOnce: boolean
  /** At-least-once: commits the consumer offsets of the tasks that got this far (one request). */
  commitOffsets(offsets: readonly TaskOffset[]): Promise<void>
  writeCheckpoints: boolean
}

export interface CommitResult<T> {
  committed: { task: T; offsets: TaskOffset[] }[]
  failed: { task: T; error: unknown }[]
}

export async function commitTasks<T extends CommittableTask>(tasks: readonly T[], options: CommitOptions): Promise<CommitResult<T>> {
  const failed: CommitResult<T>['failed'] = []
  let live = tasks.map((task) => ({ task, offsets: task.pendingOffsets() }))
  const keep = async (step: (entry: { task: T; offsets: TaskOffset[] }) => Promise<void>): Promise<void> => {
    const results = await Promise.allSettled(live.map(step))
    const next: typeof live = []
    results.forEach((r, i) => (r.status === 'fulfilled' ? next.push(live[i]!) : failed.push({ task: live[i]!.task, error: r.reason })))
    live = next
  }

  // 1. Prepare, one task after another: it runs processors, like a batch.
  for (const entry of [...live]) {
    try {
      await entry.task.prepareCommit()
    } catch (error) {
      failed.push({ task: entry.task, error })
      live = live.filter((e) => e !== entry)
    }
  }
  // 2., 3. and 4.: every task's stores flushed together, its collector sent, one wait for all.
  await keep(({ task }) => task.flushState())
  // 5. Commit offsets or transactions.
  if (options.exactlyOnce) await keep(({ task, offsets }) => task.commitTransaction(options.groupId, offsets))
  else {
    const offsets = live.flatMap((e) => e.offsets)
    if (offsets.length > 0) await options.commitOffsets(offsets)
  }
  for (const { task, offsets } of live) task.markCommitted(offsets)
  // 6. Checkpoint.
  if (options.writeCheckpoints) await keep(({ task }) => task.writeCheckpoint())
  return { committed: live, failed }
}
