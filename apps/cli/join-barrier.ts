/**
 * Where the `--threads` supervisor holds its threads before they join the consumer group, so that
 * they join together rather than one after another. kafkajs rebalances eagerly: every member that
 * joins later revokes every task of the members already in, whose records processed since their
 * last commit are then processed again by the new owners. Started one after another (each loads
 * and transpiles the sources, connects, checks topics: seconds apart on a loaded machine), the
 * first thread took all the tasks and ran until its next heartbeat learned of the second's join.
 *
 * Pure (no timers, no processes): thread-supervisor.ts applies what it answers. Only the first
 * start waits; once open, a restarted thread joins at once, as a lone member of a running group
 * does anyway.
 */
export class JoinBarrier {
  private readonly waiting = new Set<number>()
  private open = false

  constructor(private readonly threads: number) {}

  get isOpen(): boolean {
    return this.open
  }

  /** Thread `index` is ready to join; returns the threads to let join now (none while others are still starting). */
  arrive(index: number): number[] {
    if (this.open) return [index]
    this.waiting.add(index)
    return this.waiting.size < this.threads ? [] : this.release()
  }

  /** Thread `index` exited before it was let in: the barrier waits for its restart. */
  leave(index: number): void {
    this.waiting.delete(index)
  }

  /** Opens the barrier whatever is missing (a thread that cannot start must not hold the others); returns the threads waiting. */
  release(): number[] {
    this.open = true
    const waiting = [...this.waiting]
    this.waiting.clear()
    return waiting
  }
}
