import type { ProcessorContext, StreamRecord } from './processor.js'

/** A record a windowed operator dropped because its window had closed. */
export interface LateRecord {
  readonly processor: string
  /** The stream time at which the (last) window covering the record closed. */
  readonly closedAt: number
  /** Also send the raw source record here (a user topic), with headers explaining why. */
  readonly lateRecordsTopic?: string
}

/** What DSL operators need from the task beyond the public context. */
export interface InternalProcessorContext<KOut, VOut> extends ProcessorContext<KOut, VOut> {
  recordLate(late: LateRecord): void
  /** A record dropped by `processor` as a repeat of one already processed. */
  recordDuplicate(processor: string): void
  /**
   * Whether the task holds table updates back (its forwarding cache is on): then `forwardLatest`
   * keeps only the latest update per row until the task commits, and operators may skip computing
   * row ids when it is off.
   */
  readonly cachesForwards: boolean
  /**
   * Forwards a table update now (cache off), or replaces the row's pending update (cache on).
   * A row is (group, rowId) within this processor:
   * @param group the window start for windowed tables, 0 otherwise
   * @param rowId the key's id (plus the window end for sessions); equal ids if and only if equal keys
   * @param sourceKey the sub-topology's source key, to prefetch stores before a deferred forward
   * @param dueAt stream time by which it must be forwarded (the window's close time; Infinity: at commit)
   */
  forwardLatest(record: StreamRecord<KOut, VOut>, group: number, rowId: string, sourceKey: unknown, dueAt: number): void
  /**
   * Forwards a record right after the current input record, once the stores keyed by the source key
   * hold `sourceKey` (as a punctuator's `prefetchSourceKeys` then `forward`): for records a processor
   * releases while processing another key's record.
   */
  forwardAfterPrefetch(record: StreamRecord<KOut, VOut>, sourceKey: unknown): void
  /**
   * Registers a load run before each input batch's prefetch: `upTo` is the highest stream time the
   * batch can reach. A processor whose stream-time punctuator reads keys the batch's records do not
   * name (suppress: the windows closing) loads them here and then reads them synchronously while
   * `streamTime() <= upTo`: the cache evicts only between batches. It resolves to the source keys
   * (and times) of the records it will forward during the batch, which the batch's prefetch then
   * loads with the batch's own, so those forwards need no await either.
   */
  loadBeforeBatch(load: BatchLoad): void
}

/** A processor's load before a batch (`loadBeforeBatch`). */
export type BatchLoad = (upTo: number) => Promise<readonly SourceKeyRead[]> | undefined

/** A record's source key and time, as the stores keyed by the source key prefetch them. */
export interface SourceKeyRead {
  readonly key: unknown
  readonly timestamp: number
}

export function internal<KOut, VOut>(context: ProcessorContext<KOut, VOut>): InternalProcessorContext<KOut, VOut> {
  return context as InternalProcessorContext<KOut, VOut>
}
