/**
 * The Processor API: what every DSL operator is built on, and what users implement for custom logic.
 *
 * `process` is synchronous on purpose: stores serve point reads and writes from the task's cache, which
 * the task fills with one batched read (`prefetch`) before each input batch, so no record awaits I/O.
 * Asynchronous work (range scans, queries) belongs in punctuators, which may return a promise.
 */
import type { IHeaders } from 'kafkajs'
import type { KeyValueStore, SessionStore, StateStore, WindowStore } from '../state/types.js'
import type { KeyValueStoreDefinition, SessionStoreDefinition, WindowStoreDefinition } from './stores.js'

export type RecordHeaders = IHeaders

export interface StreamRecord<K, V> {
  readonly key: K
  readonly value: V
  /** Event time in epoch milliseconds. */
  readonly timestamp: number
  readonly headers: RecordHeaders
}

/** Where the record being processed came from (absent inside punctuators). */
export interface RecordMetadata {
  readonly topic: string
  readonly partition: number
  readonly offset: string
}

export type PunctuationType = 'stream-time' | 'wall-clock'

/** Called with the stream time or the wall-clock time that triggered it. */
export type Punctuator = (timestamp: number) => void | Promise<void>

export interface Cancellable {
  cancel(): void
}

export interface ProcessorContext<KOut = never, VOut = never> {
  readonly applicationId: string
  /** `<subtopology>_<partition>`, as in Kafka Streams. */
  readonly taskId: string
  readonly partition: number
  /** Sends a record to every child, or only to the named child. */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void
  getStateStore<K, V>(store: KeyValueStoreDefinition<K, V>): KeyValueStore<K, V>
  getStateStore<K, V>(store: WindowStoreDefinition<K, V>): WindowStore<K, V>
  getStateStore<K, V>(store: SessionStoreDefinition<K, V>): SessionStore<K, V>
  getStateStore<S extends StateStore>(name: string): S
  /**
   * Runs `punctuator` every `intervalMs` of stream time (driven by record timestamps, and by the idle
   * timeout of a quiet task) or of wall-clock time. A stream-time punctuator fires at most once per
   * advance, however far time jumped.
   */
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable
  /**
   * Loads this task's source-keyed stores (`prefetch: 'source-key'`) for these source keys (window
   * stores: the windows of `timestamp`). The task does this for each input batch; call it in a
   * punctuator before reading, or forwarding records of, keys outside the current batch, so that
   * synchronous reads here and downstream find them. `suppress` does it before emitting.
   */
  prefetchSourceKeys(records: readonly { readonly key: unknown; readonly timestamp: number }[]): Promise<void>
  /** Highest event time seen by this task (-1 before the first record). */
  streamTime(): number
  wallClockTime(): number
  recordMetadata(): RecordMetadata | undefined
}

export interface Processor<KIn, VIn, KOut = never, VOut = never> {
  /** May be async: the task awaits it once, when it starts (e.g. to rebuild an index from a store). */
  init?(context: ProcessorContext<KOut, VOut>): void | Promise<void>
  process(record: StreamRecord<KIn, VIn>): void
  close?(): void | Promise<void>
}

/** Returns a new processor: one instance per task. */
export type ProcessorSupplier<KIn, VIn, KOut = never, VOut = never> = () => Processor<KIn, VIn, KOut, VOut>

/**
 * An error no error policy may take for a bad record: the task stops (as for a store read that was
 * not prefetched). For limits the operator asked to enforce, e.g. a full suppression buffer with
 * `shutDownWhenFull`.
 */
export class FatalTaskError extends Error {
  override readonly name: string = 'FatalTaskError'
}
