/**
 * The runtime's Prometheus metrics. With no registry given they go to a private one nobody scrapes:
 * a counter increment stays a few nanoseconds, and the hot path needs no `if (metrics)` branches.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { CacheBudget, StorageEngine } from '../../state/index.js'

export class RuntimeMetrics {
  readonly registry: Registry
  readonly consumed: Counter<'topic'>
  readonly produced: Counter<'topic'>
  readonly batchSeconds: Histogram
  readonly commitSeconds: Histogram
  readonly lag: Gauge<'topic' | 'partition'>
  readonly tasks: Gauge<'state'>
  readonly late: Counter<'task'>
  readonly dlq: Counter<'task'>
  readonly eventTimeRejected: Counter<'task' | 'side'>
  readonly duplicates: Counter<'task'>
  readonly rebalances: Counter
  readonly stalledTasks: Gauge
  readonly fencedRecoveries: Counter
  private cacheBudget: CacheBudget | undefined
  private engine: StorageEngine | undefined

  constructor(registry?: Registry) {
    this.registry = registry ?? new Registry()
    const registers = [this.registry]
    this.consumed = new Counter({ name: 'sentinel_streams_records_consumed_total', help: 'Records consumed, by source topic', labelNames: ['topic'], registers })
    this.produced = new Counter({ name: 'sentinel_streams_records_produced_total', help: 'Records produced (sinks, repartition, DLQ), by topic', labelNames: ['topic'], registers })
    this.batchSeconds = new Histogram({
      name: 'sentinel_streams_batch_process_seconds',
      help: 'Time to process one fetched batch of one partition, decode to forward',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    })
    this.commitSeconds = new Histogram({
      name: 'sentinel_streams_commit_seconds',
      help: 'Time of a commit: store flush, changelog and output acks, checkpoints, offsets',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    })
    this.lag = new Gauge({ name: 'sentinel_streams_consumer_lag', help: 'Records behind the partition end, at the last batch', labelNames: ['topic', 'partition'], registers })
    this.tasks = new Gauge({ name: 'sentinel_streams_tasks', help: 'Tasks of this instance, by state', labelNames: ['state'], registers })
    this.late = new Counter({ name: 'sentinel_streams_late_records_total', help: 'Records dropped as later than their window grace', labelNames: ['task'], registers })
    this.dlq = new Counter({ name: 'sentinel_streams_dlq_records_total', help: 'Records sent to the dead-letter topic', labelNames: ['task'], registers })
    this.eventTimeRejected = new Counter({
      name: 'sentinel_streams_event_time_rejected_total',
      help: "Records refused by a source's event-time bounds (side: ahead of or behind the wall clock)",
      labelNames: ['task', 'side'],
      registers,
    })
    this.duplicates = new Counter({ name: 'sentinel_streams_duplicate_records_total', help: 'Records dropped as repeats of an id already seen (source deduplication)', labelNames: ['task'], registers })
    this.rebalances = new Counter({ name: 'sentinel_streams_rebalances_total', help: 'Consumer group rebalances seen', registers })
    this.stalledTasks = new Gauge({
      name: 'sentinel_streams_stalled_tasks',
      help: 'Tasks assigned to this instance but not running for longer than taskStallTimeoutMs (their partitions are not processed)',
      registers,
    })
    this.fencedRecoveries = new Counter({
      name: 'sentinel_streams_fenced_task_recoveries_total',
      help: 'Re-initialisations of a fenced task the group still assigned to this instance',
      registers,
    })
    // Read at each scrape, so the hot path pays nothing.
    const cacheBytes = (): number => this.cacheBudget?.sizeBytes ?? 0
    const memtables = (): number => this.engine?.memtableBudget?.lastTotalBytes ?? 0
    new Gauge({
      name: 'sentinel_streams_rocksdb_memtable_bytes',
      help: 'Memtable bytes of all RocksDB stores of this instance at the last check of its memtable budget (rocksdb.memtableBudgetBytes; 0 without a budget)',
      registers,
      collect() {
        this.set(memtables())
      },
    })
    const budgetFlushes = (): number => this.engine?.memtableBudget?.flushes ?? 0
    let reportedFlushes = 0
    new Counter({
      name: 'sentinel_streams_rocksdb_memtable_budget_flushes_total',
      help: 'Memtables flushed to table files because the memtable budget was exceeded',
      registers,
      collect() {
        // The engine counts; a new engine (restart) starts again from 0.
        const now = budgetFlushes()
        if (now > reportedFlushes) this.inc(now - reportedFlushes)
        reportedFlushes = now
      },
    })
    new Gauge({
      name: 'sentinel_streams_record_cache_bytes',
      help: 'Bytes held by the record caches of all tasks of this instance (budget: cacheMaxBytes)',
      registers,
      collect() {
        this.set(cacheBytes())
      },
    })
  }

  /** Reports this engine's memtable budget from now on (a restarted instance brings a new one). */
  watchEngine(engine: StorageEngine): void {
    this.engine = engine
  }

  /** Reports this budget's size from now on (a restarted instance brings a new one). */
  watchCacheBudget(budget: CacheBudget): void {
    this.cacheBudget = budget
  }
}
