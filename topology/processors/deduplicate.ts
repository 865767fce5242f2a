/**
 * Drops records whose id was already seen within a horizon of event time: idempotent input for
 * producers that retry (an HTTP client resending a batch, a producer without idempotence).
 *
 * The ids live in a logged window store, so the horizon survives restarts and rebalances. Windows
 * are buckets of `horizonMs` by event time; a record is a duplicate when its id is in its own bucket
 * or the one before, so ids are remembered for at least one horizon and at most two. A retried event
 * carries its original event time, so its copies always land in the same bucket.
 *
 * Reads are synchronous like every store read: the task prefetches the two buckets of each record's
 * id before the batch (the store's prefetch `keysFor`), which is why this processor must be the
 * source's own child — it is added by `stream(..., { deduplicate })`, never on a derived stream.
 */
import type { Serde } from '../../schemas/serde.js'
import type { WindowKey, WindowStore } from '../../state/types.js'
import { internal } from '../internal-context.js'
import type { Processor, ProcessorContext, StreamRecord } from '../processor.js'
import { Stores, type WindowStoreDefinition } from '../stores.js'

export interface DeduplicateOptions<K, V> {
  /** The record's id; `null`/`undefined` passes the record through unchecked. */
  readonly id: (value: V, key: K) => string | null | undefined
  /** How long an id is remembered, in event-time ms (at least this long, at most twice). */
  readonly horizonMs: number
  /** Names the processor and its store (`<name>-store`); default `<source name>-deduplicate`. */
  readonly name?: string
}

/** Ids are short opaque strings; the stored value only marks presence (the first copy's time). */
const SEEN: Serde<number> = {
  name: 'seen-at',
  serialize: (value) => {
    const out = Buffer.allocUnsafe(8)
    out.writeDoubleBE(value)
    return out
  },
  deserialize: (bytes) => bytes.readDoubleBE(0),
}

const bucketOf = (timestamp: number, horizonMs: number): number => Math.floor(timestamp / horizonMs) * horizonMs

export function deduplicateStore<K, V>(storeName: string, options: DeduplicateOptions<K, V>, idSerde: Serde<string>): WindowStoreDefinition<string, number> {
  const { horizonMs, id } = options
  const definition = Stores.window(storeName, idSerde, SEEN, { windowSizeMs: horizonMs, retentionMs: 2 * horizonMs })
  return {
    ...definition,
    prefetch: {
      keysFor(record): WindowKey<string>[] {
        const recordId = id(record.value as V, record.key as K)
        if (recordId === null || recordId === undefined) return []
        const bucket = bucketOf(record.timestamp, horizonMs)
        return [
          { key: recordId, windowStart: bucket },
          { key: recordId, windowStart: bucket - horizonMs },
        ]
      },
    },
  }
}

export class DeduplicateProcessor<K, V> implements Processor<K, V, K, V> {
  private context!: ProcessorContext<K, V>
  private store!: WindowStore<string, number>

  constructor(
    private readonly name: string,
    private readonly definition: WindowStoreDefinition<string, number>,
    private readonly options: DeduplicateOptions<K, V>,
  ) {}

  init(context: ProcessorContext<K, V>): void {
    this.context = context
    this.store = context.getStateStore(this.definition)
  }

  process(record: StreamRecord<K, V>): void {
    const id = this.options.id(record.value, record.key)
    if (id === null || id === undefined) {
      this.context.forward(record)
      return
    }
    const horizonMs = this.options.horizonMs
    const bucket = bucketOf(record.timestamp, horizonMs)
    if (this.store.get(id, bucket) !== undefined || this.store.get(id, bucket - horizonMs) !== undefined) {
      internal(this.context).recordDuplicate(this.name)
      return
    }
    this.store.put(id, record.timestamp, bucket)
    this.context.forward(record)
  }
}
