/**
 * Where interactive-query reads run: as jobs on the stream thread's queue, between its batches,
 * commits, punctuations and rebalances.
 *
 * Why not read the stores directly, whenever a query arrives? The Node event loop interleaves an
 * async read with the thread's work at every `await`, and the thread has awaits in places where the
 * stores are not in a state worth showing:
 *  - inside a batch (prefetch, a deferred registry look-up, stream-time punctuation, cache upkeep):
 *    a read there can see a batch half-applied, e.g. an aggregate updated and the store downstream of
 *    it not yet, or a key updated by the first records of a batch and not by the rest;
 *  - inside a flush (commit, or a cache over budget): the dirty entries are marked clean before the
 *    engine write lands, so a scan merging "dirty + engine" then misses them (old values, deleted
 *    keys back) until the write completes;
 *  - between a cache miss and its engine read, a batch may write the key, flush it and evict it; a
 *    read that then caches what it read would put a stale value back under the stream's feet.
 * Run as a queue job, a read sees the stores after whole batches and outside flushes, and may use the
 * store's own read path (cache, then prefetch from the engine on a miss: prefetch adds a clean entry
 * and never evicts; eviction happens in the thread's between-batch upkeep).
 *
 * Reads that arrive while one job waits share it, so a burst of queries pauses the stream once, not
 * once per query.
 */
export interface JobQueue {
  run<T>(job: () => Promise<T>): Promise<T>
}

export class ReadGate {
  private pending: (() => Promise<void>)[] = []

  constructor(private readonly queue: JobQueue) {}

  read<T>(read: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push(() => Promise.resolve().then(read).then(resolve, reject))
      if (this.pending.length === 1) void this.queue.run(() => this.drain())
    })
  }

  private async drain(): Promise<void> {
    const reads = this.pending
    this.pending = []
    await Promise.all(reads.map((read) => read()))
  }
}
