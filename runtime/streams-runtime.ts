/**
 * What an application sees of a running topology, whichever runtime runs it: `SentinelStreams` on
 * Kafka, or `StandaloneStreams` on the embedded in-process log. Services beside a topology (an HTTP
 * API, an alert dispatcher) are written against this, so they run unchanged in both modes.
 *
 * Interactive queries follow Kafka Streams: a store is read where it lives; `queryMetadataForKey`
 * says which instance hosts a key (by its `applicationServer` address), `allHosts` lists every
 * instance for scatter-gather queries.
 */
import type { Topology } from '../topology/topology.js'
import type { Serde } from '../schemas/serde.js'
import type { Windowed } from '../state/types.js'
import type { StreamsState, StateListener } from './streams-state.js'
import type { ProducerConnection } from './kafka/producer-connection.js'

export type { StreamsState, StateListener } from './streams-state.js'

/** An instance's address for interactive queries (config `applicationServer`, "host:port"). */
export interface HostInfo {
  readonly host: string
  readonly port: number
}

export interface KeyQueryMetadata {
  /** The instance whose task holds the key; null while no assignment is known (rebalancing). */
  readonly active: HostInfo | null
  /** The input partition (= task partition) the key belongs to. */
  readonly partition: number
  /** True when this instance holds it: read the local store. */
  readonly local: boolean
}

/** A read-only view of one key-value store over every task of this instance. */
export interface ReadOnlyKeyValueStore<K, V> {
  get(key: K): Promise<V | undefined>
  range(from?: K, to?: K): AsyncIterable<[K, V]>
  all(): AsyncIterable<[K, V]>
  approximateCount(): Promise<number>
}

/** A read-only view of one window store over every task of this instance. */
export interface ReadOnlyWindowStore<K, V> {
  fetch(key: K, from: number, to: number): AsyncIterable<[number, V]>
  fetchAll(from: number, to: number): AsyncIterable<[Windowed<K>, V]>
}

/** A record written by an application service (ingest, acknowledgements) to a topic. */
export interface OutgoingRecord {
  readonly key: Buffer | string | null
  readonly value: Buffer | string | null
  readonly headers?: Readonly<Record<string, string>>
  /** Epoch ms; default now. */
  readonly timestamp?: number
}

/** A record read from a topic by `consume`. */
export interface IncomingRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Readonly<Record<string, string>>
  readonly timestamp: number
}

export interface ConsumeOptions {
  /** Consumer group (Kafka) / offset owner (standalone); progress is kept per group. */
  readonly groupId: string
  /** Where a group without progress starts: 'earliest' (default) or 'latest'. */
  readonly from?: 'earliest' | 'latest'
  /**
   * false: progress is never committed, so each start reads from `from` again (a reader rebuilding
   * in-memory state from a whole topic, in a group of its own). Default true.
   */
  readonly commit?: boolean
}

/**
 * A batch handler. Offsets are committed only after it resolves, so a crash redelivers the batch
 * (at least once); a handler that throws is retried with backoff and never skips records.
 */
export type BatchHandler = (records: readonly IncomingRecord[]) => Promise<void>

export interface Consumption {
  stop(): Promise<void>
}

export interface StreamsRuntime {
  readonly mode: 'kafka' | 'standalone'
  readonly applicationId: string
  readonly state: StreamsState
  onStateChange(listener: StateListener): () => void
  waitForState(state: StreamsState, timeoutMs?: number): Promise<void>
  start(): Promise<void>
  close(): Promise<void>

  /** This instance's own address (config `applicationServer`), or null when none is set. */
  readonly hostInfo: HostInfo | null
  /** Every instance of the application with its address, this one included. */
  allHosts(): HostInfo[]
  /** Which instance holds `key` of store `storeName` (the key serialized with `keySerde`). */
  queryMetadataForKey<K>(storeName: string, key: K, keySerde: Serde<K>): KeyQueryMetadata
  /** Throws `StoreNotQueryableError` (naming the store and why) when unknown or not ready. */
  keyValueStore<K, V>(storeName: string): ReadOnlyKeyValueStore<K, V>
  windowStore<K, V>(storeName: string): ReadOnlyWindowStore<K, V>

  /** Writes records to a topic; resolves once the log has them (Kafka: acks from all in-sync replicas). */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>
  /** Reads a topic beside the topology, e.g. an alert dispatcher reading the alerts topic. */
  consume(topic: string, options: ConsumeOptions, handler: BatchHandler): Promise<Consumption>

  /**
   * Runs another topology (tagged with `versioned`) in place of the current one, without a restart
   * (Kafka only: `SentinelStreams.replaceTopology`; the standalone runtime has none).
   */
  replaceTopology?(next: Topology): Promise<void>

  /**
   * How to reach the log from another thread of this process with a producer of its own, as plain
   * data (Kafka only: `SentinelStreams.producerConnection`); null when the settings hold functions.
   */
  producerConnection?(): ProducerConnection | null
}

/** A store cannot be queried here (unknown name, wrong type, or its tasks are restoring). */
export class StoreNotQueryableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreNotQueryableError'
  }
}
