/**
 * The task's forwarding cache (Kafka Streams' record cache, on the forwarding side): table
 * operators (aggregations, table sources) hand their updates here instead of forwarding them, and
 * the task forwards the latest update per row when it commits, when the cache is over its bound, or
 * when a row's window closes (so `suppress` sees every window's final value before emitting it).
 * Many updates of a hot key within a commit interval become one downstream record.
 *
 * Pending rows are kept in the order they became pending (first update since they were last
 * forwarded): that is the order they are forwarded in, and the oldest go first when the cache is
 * over its bound. A further update replaces the row's record in place. Rows are found by owner,
 * then group (a window start), then key id, in nested maps: composing one string id per update
 * costs more than the rest of the cache.
 */
import { MinHeap } from '../../topology/processors/min-heap.js'
import type { StreamRecord } from '../../topology/processor.js'
import type { SourceRecord } from './records.js'

export interface PendingForward<Owner> {
  /** The processor whose update this is; it forwards it to its children. */
  readonly owner: Owner
  record: StreamRecord<unknown, unknown>
  /** The input record behind the latest update (for error handling and record metadata downstream). */
  raw: SourceRecord | undefined
  /** The sub-topology's source key, to prefetch source-keyed stores before a deferred forward. */
  readonly sourceKey: unknown
  /** Stream time by which the row must have been forwarded (its window's close time), or Infinity. */
  readonly dueAt: number
}

interface Row<Owner> extends PendingForward<Owner> {
  readonly group: Map<string, Row<Owner>>
  readonly rowId: string
  /** When it became pending, among this cache's rows: the forwarding order. */
  readonly seq: number
  /** Taken out (forwarded) already: still listed in `order` or its due bucket until they are rebuilt. */
  taken: boolean
}

export class ForwardingCache<Owner> {
  private readonly rows = new Map<Owner, Map<number, Map<string, Row<Owner>>>>()
  /** Pending rows, in the order they became pending, with taken ones among them until compacted. */
  private order: Row<Owner>[] = []
  /** Rows by due time (a window's close time; never-due rows are not here): `takeDue` reads only the buckets due, not every row. */
  private byDue = new Map<number, Row<Owner>[]>()
  /**
   * Each bucket's due time, once: `takeDue` pops the due ones. (It used to walk every bucket
   * whenever one was due; with sessions, nearly every row has a due time of its own, so that walk
   * was as long as the cache, after most records.)
   */
  private dueTimes = new MinHeap<number>()
  private pendingCount = 0
  private seq = 0

  /** @param maxEntries pending rows, over all the task's table operators, before the oldest are forwarded. */
  constructor(readonly maxEntries: number) {
    if (!(Number.isInteger(maxEntries) && maxEntries > 0)) throw new Error(`forwarding cache: maxEntries must be a positive integer (got ${maxEntries})`)
  }

  get size(): number {
    return this.pendingCount
  }

  get overBound(): boolean {
    return this.pendingCount > this.maxEntries
  }

  /**
   * Makes `record` the row's pending update. A row is (owner, group, rowId): group is e.g. the
   * window start (0 for unwindowed tables), rowId the key's id. A row's source key and due time
   * never change.
   */
  put(
    owner: Owner,
    group: number,
    rowId: string,
    record: StreamRecord<unknown, unknown>,
    raw: SourceRecord | undefined,
    sourceKey: unknown,
    dueAt: number,
  ): void {
    let groups = this.rows.get(owner)
    if (!groups) this.rows.set(owner, (groups = new Map()))
    let rows = groups.get(group)
    if (!rows) groups.set(group, (rows = new Map()))
    const pending = rows.get(rowId)
    if (pending) {
      pending.record = record
      pending.raw = raw
      return
    }
    const row: Row<Owner> = { owner, record, raw, sourceKey, dueAt, group: rows, rowId, seq: this.seq++, taken: false }
    rows.set(rowId, row)
    this.order.push(row)
    // Never due (unwindowed tables): not bucketed, or the bucket would keep every row that became
    // pending since the last commit (overflow takes rows out of `order` only).
    if (dueAt !== Infinity) {
      const bucket = this.byDue.get(dueAt)
      if (bucket) bucket.push(row)
      else {
        this.byDue.set(dueAt, [row])
        this.dueTimes.push(dueAt, dueAt)
      }
    }
    this.pendingCount++
  }

  /** Every pending row, in the order they became pending; the cache is empty afterwards. */
  takeAll(): PendingForward<Owner>[] {
    const out = this.order.filter((row) => !row.taken)
    this.order = []
    this.byDue = new Map()
    this.dueTimes = new MinHeap()
    this.rows.clear()
    this.pendingCount = 0
    return out
  }

  /**
   * The source key and latest time of each row due by `streamTime`, without taking them: a batch
   * that reaches that stream time loads their stores with its own (a row's source key never changes,
   * and a later update of it comes from a record of the batch, which the batch loads anyway).
   */
  dueSourceKeys(streamTime: number): { key: unknown; timestamp: number }[] {
    if (!this.hasDue(streamTime)) return []
    const out: { key: unknown; timestamp: number }[] = []
    this.dueTimes.forEachUpTo(streamTime, (dueAt) => {
      for (const row of this.byDue.get(dueAt)!) if (!row.taken) out.push({ key: row.sourceKey, timestamp: row.record.timestamp })
    })
    return out
  }

  /** Whether some row is due at this stream time (cheap: checked whenever stream time advances). */
  hasDue(streamTime: number): boolean {
    return streamTime >= (this.dueTimes.peekPriority() ?? Infinity)
  }

  /** The rows due at this stream time, in the order they became pending. */
  takeDue(streamTime: number): PendingForward<Owner>[] {
    if (!this.hasDue(streamTime)) return []
    const out: Row<Owner>[] = []
    let buckets = 0
    while ((this.dueTimes.peekPriority() ?? Infinity) <= streamTime) {
      const dueAt = this.dueTimes.pop()!
      const rows = this.byDue.get(dueAt)!
      this.byDue.delete(dueAt)
      buckets++
      for (const row of rows) {
        if (row.taken) continue
        this.take(row)
        out.push(row)
      }
    }
    // Each bucket is in pending order; rows of several buckets interleave.
    if (buckets > 1) out.sort((a, b) => a.seq - b.seq)
    this.compact()
    return out
  }

  /** The oldest rows, as many as the cache is over its bound. */
  takeOverflow(): PendingForward<Owner>[] {
    const out: PendingForward<Owner>[] = []
    let i = 0
    for (; i < this.order.length && this.pendingCount > this.maxEntries; i++) {
      const row = this.order[i]!
      if (row.taken) continue
      this.take(row)
      out.push(row)
    }
    // Their due buckets still list them, as taken.
    this.order = this.order.slice(i)
    // Their buckets' due times stay in the heap: takeDue pops them and finds nothing left to take.
    return out
  }

  private take(row: Row<Owner>): void {
    row.group.delete(row.rowId)
    row.taken = true
    this.pendingCount--
  }

  /** Drops taken rows from `order` once they are most of it (so each row is copied O(1) times). */
  private compact(): void {
    if (this.order.length > 2 * this.pendingCount + 64) this.order = this.order.filter((row) => !row.taken)
  }
}
