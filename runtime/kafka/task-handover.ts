/**
 * The end of each task's earlier incarnations in this process, which a new incarnation waits for
 * before it takes the task's state directory (Kafka Streams hands a task's state over the same way:
 * a revoked task is closed before it can be created again on the same thread).
 *
 * A running task the rebalance revoked closes on the thread's queue (its closing commit first), and
 * one revoked while restoring closes when its initialisation ends; the group may give the task back
 * in between (a rebalance storm). Started at once, the new incarnation found the task lock or its
 * stores' RocksDB locks still held in this process, failed its initialisation, and stopped the
 * instance (chaos F11).
 */
export class TaskHandover {
  private readonly ending = new Map<string, Promise<void>>()

  /** An incarnation of task `id` is on its way out; `released` settles once it let go of its state. */
  retire(id: string, released: Promise<unknown>): void {
    const settled = Promise.all([this.ending.get(id), released.catch(() => undefined)]).then(() => undefined)
    this.ending.set(id, settled)
    void settled.then(() => {
      if (this.ending.get(id) === settled) this.ending.delete(id)
    })
  }

  /** Resolves once every retired incarnation of task `id` released its state (at once if none is pending). */
  released(id: string): Promise<void> {
    return this.ending.get(id) ?? Promise.resolve()
  }

  /** Tasks with an incarnation still on its way out. */
  get pending(): readonly string[] {
    return [...this.ending.keys()]
  }
}
