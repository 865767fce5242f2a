/**
 * How many times the runtime moved each source partition's fetch position (a task started from its
 * committed offsets, a task re-initialised after a failed commit). A batch taken from kafkajs
 * before a seek of its partition and processed after it (it waited on the thread's queue behind a
 * commit, a close or a restore) is from the old position: processing it would move the task's
 * position past records the seek is about to deliver, which the task would then skip as already
 * processed. kafkajs' own `isStale()` stops being true once its next fetch applied the seek, so
 * it cannot tell; this count can.
 */
export class PartitionSeeks {
  private readonly counts = new Map<string, number>()

  /** Called with every seek of a source partition. */
  moved(topic: string, partition: number): void {
    const key = `${topic}:${partition}`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
  }

  /** The partition's seek count now: taken when a batch arrives, compared when it runs. */
  count(topic: string, partition: number): number {
    return this.counts.get(`${topic}:${partition}`) ?? 0
  }
}
