/**
 * Completes a record from an earlier record of the same correlation id, e.g. an LLM response (which
 * in seed 001's shape has no `model`) from its request (which has it). The stream must be keyed by
 * the correlation id, so both records reach one task and its store.
 *
 * State: a window store keyed by the correlation id, in buckets of `retentionMs`; a record looks in
 * its own bucket and the one before, so what a record left is found for at least `retentionMs`
 * (at most twice that) after it, then expires with its segment: no per-record delete, no scan.
 *
 * Assumes the earlier record arrives first (a producer's order within one correlation id); a record
 * whose partner is unknown (not yet seen, or older than the retention) passes through unchanged.
 */
import type { Serde } from '../../schemas/serde.js'
import type { TimeWindow, WindowStore } from '../../state/types.js'
import { type KStream, type Processor, type ProcessorContext, type StreamRecord, Stores, type WindowStoreDefinition } from '../../topology/index.js'
import { Serdes } from '../../schemas/index.js'

export interface CorrelatedFillOptions<V, T> {
  /** Name of the processor; its store is `<name>-store`. */
  readonly name: string
  /** What a record leaves for later records of its correlation id (null: nothing). */
  readonly remember: (value: V) => T | null
  /** Whether a record lacks what an earlier one left. */
  readonly lacks: (value: V) => boolean
  /** The record completed with what was left (must not mutate `value`). */
  readonly complete: (value: V, remembered: T) => V
  /** How long after a record what it left is kept, ms (the longest gap between partners). */
  readonly retentionMs: number
  readonly rememberedSerde: Serde<T>
}

/** The bucket of `timestamp` and the one before it: where a partner left at most retentionMs ago is. */
export function correlationBuckets(timestamp: number, bucketMs: number): TimeWindow[] {
  const start = timestamp - (((timestamp % bucketMs) + bucketMs) % bucketMs)
  return [
    { start: start - bucketMs, end: start },
    { start, end: start + bucketMs },
  ]
}

class CorrelatedFillProcessor<V, T> implements Processor<string, V, string, V> {
  private context!: ProcessorContext<string, V>
  private store!: WindowStore<string, T>

  constructor(
    private readonly options: CorrelatedFillOptions<V, T>,
    private readonly definition: WindowStoreDefinition<string, T>,
  ) {}

  init(context: ProcessorContext<string, V>): void {
    this.context = context
    this.store = context.getStateStore(this.definition)
  }

  process(record: StreamRecord<string, V>): void {
    const { key, value, timestamp } = record
    const [previous, current] = correlationBuckets(timestamp, this.options.retentionMs)
    let out = value
    if (key !== null && key !== undefined) {
      const remembered = this.options.remember(value)
      if (remembered !== null) this.store.put(key, remembered, current!.start)
      else if (this.options.lacks(value)) {
        const found = this.store.get(key, current!.start) ?? this.store.get(key, previous!.start)
        if (found !== undefined) out = this.options.complete(value, found)
      }
    }
    this.context.forward({ ...record, value: out })
  }
}

/**
 * The records of `stream` (keyed by correlation id), those lacking something completed from their
 * partner; same keys, timestamps and order. The output's serdes are unknown (a `process()` output).
 */
export function correlatedFill<V, T>(stream: KStream<string, V>, options: CorrelatedFillOptions<V, T>): KStream<string, V> {
  const operator = `correlatedFill('${options.name}')`
  if (!(options.retentionMs > 0)) throw new Error(`${operator}: 'retentionMs' must be > 0, got ${options.retentionMs}`)
  const bucket = options.retentionMs
  const store = Stores.window(`${options.name}-store`, Serdes.string(), options.rememberedSerde, {
    windowSizeMs: bucket,
    retentionMs: 2 * bucket,
    windowsFor: (timestamp) => correlationBuckets(timestamp, bucket),
  })
  return stream.process(() => new CorrelatedFillProcessor(options, store), { name: options.name, stores: [store] })
}
