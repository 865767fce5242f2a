/**
 * A StreamsRuntime for unit tests of the API: its stores are those of a TopologyTestDriver, `send`
 * pipes into the driver the topics it reads (so an acknowledgement reaches the view) and records
 * the rest. Which instance holds a key is up to the test (`route`), so two of them can stand for
 * two instances splitting the keys. It is not a runtime: no Kafka, no rebalancing, no consume.
 */
import { type BatchHandler, type ConsumeOptions, type Consumption, type HostInfo, type KeyQueryMetadata, type OutgoingRecord, type ReadOnlyKeyValueStore, type ReadOnlyWindowStore, StoreNotQueryableError, type StreamsRuntime } from '../../../../../runtime/streams-runtime.js'
import type { StateListener, StreamsState } from '../../../../../runtime/streams-state.js'
import type { TopologyTestDriver } from '../../../../../runtime/testing/index.js'
import type { Serde } from '../../../../../schemas/serde.js'

/** Where a key lives: here, on another host, or nowhere yet (rebalancing). */
export type KeyRoute = 'local' | HostInfo | null

const toBuffer = (v: Buffer | string | null): Buffer | null => (v === null ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : v)

export class DriverRuntime implements StreamsRuntime {
  readonly mode = 'standalone' as const
  readonly applicationId = 'sentinel-api-test'
  private current: StreamsState = 'running'
  private readonly listeners = new Set<StateListener>()
  hostInfo: HostInfo | null = null
  hosts: HostInfo[] = []
  route: (store: string, key: string) => KeyRoute = () => 'local'
  /** Stores that throw StoreNotQueryableError (as while restoring). */
  readonly restoring = new Set<string>()
  /** Every record sent, by topic. */
  readonly sent = new Map<string, OutgoingRecord[]>()
  failSends: Error | null = null
  /** Whose driver a sent record reaches (two instances: the one holding its key). */
  deliverTo: (topic: string, key: string | null) => DriverRuntime = () => this
  private piping: Promise<void> = Promise.resolve()

  constructor(
    readonly driver: TopologyTestDriver,
    /** Topics the driver's topology reads: `send` pipes records of these into it. */
    private readonly inputs: ReadonlySet<string>,
  ) {}

  /** Setting it notifies the state listeners, as a runtime's transitions do. */
  get state(): StreamsState {
    return this.current
  }
  set state(next: StreamsState) {
    const previous = this.current
    this.current = next
    for (const listener of this.listeners) listener(next, previous)
  }

  onStateChange(listener: StateListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  async waitForState(): Promise<void> {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}

  allHosts(): HostInfo[] {
    return this.hosts
  }

  queryMetadataForKey<K>(storeName: string, key: K, _keySerde: Serde<K>): KeyQueryMetadata {
    const route = this.route(storeName, String(key))
    if (route === 'local') return { active: this.hostInfo, partition: 0, local: true }
    return { active: route, partition: 0, local: false }
  }

  keyValueStore<K, V>(storeName: string): ReadOnlyKeyValueStore<K, V> {
    if (!this.driver.plan.subtopologies.some((s) => s.stores.some((store) => store.name === storeName)) && !this.driver.plan.globalStores.some((g) => g.name === storeName)) throw new StoreNotQueryableError(`no store '${storeName}' in the topology`)
    if (this.restoring.has(storeName)) throw new StoreNotQueryableError(`store '${storeName}' is restoring`)
    const entries = () => this.driver.readKeyValueStore<K, V>(storeName)
    return {
      get: async (key) => (await entries()).find(([k]) => k === key)?.[1],
      async *range(from, to) {
        for (const [k, v] of await entries()) if ((from == null || k >= from) && (to == null || k < to)) yield [k, v]
      },
      async *all() {
        yield* await entries()
      },
      approximateCount: async () => (await entries()).length,
    }
  }

  windowStore<K, V>(storeName: string): ReadOnlyWindowStore<K, V> {
    throw new StoreNotQueryableError(`window store '${storeName}': not used by these tests`)
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (this.failSends) throw this.failSends
    this.sent.set(topic, [...(this.sent.get(topic) ?? []), ...records])
    if (!this.inputs.has(topic)) return
    for (const record of records) await this.deliverTo(topic, record.key === null ? null : String(record.key)).pipe(topic, record)
  }

  private async pipe(topic: string, r: OutgoingRecord): Promise<void> {
    // The driver takes one pipe at a time.
    const next = this.piping.then(() => this.driver.pipeRaw(topic, [{ key: toBuffer(r.key), value: toBuffer(r.value), ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }) }]))
    this.piping = next.catch(() => {})
    await next
  }

  async consume(_topic: string, _options: ConsumeOptions, _handler: BatchHandler): Promise<Consumption> {
    throw new Error('DriverRuntime does not consume')
  }
}
