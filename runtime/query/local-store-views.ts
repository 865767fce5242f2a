/**
 * Read-only views of one store over the tasks this instance runs (Kafka Streams' composite
 * read-only stores). A point read goes to the task of the key's partition; scans merge every task's
 * store in key order. Every store access runs through the `ReadGate` (see read-gate.ts for why).
 *
 * Consistency: a point read sees the key as of the end of the last whole batch (unflushed cache
 * writes included). A scan is read in chunks, each at its own point between batches, so a long scan
 * is not a snapshot of the whole store: each key shows a value it really had, possibly newer than
 * the keys before it. A task that is restoring, gone, or moves away during a scan fails the read with
 * `StoreNotQueryableError`, never a silently partial answer.
 */
import type { Serde } from '../../schemas/serde.js'
import { type KeyValueStore, type StateStore, StoreMissError, type Windowed, type WindowStore } from '../../state/index.js'
import { taskIdString } from '../assignor.js'
import { formatHostInfo } from '../config.js'
import { type HostInfo, type ReadOnlyKeyValueStore, type ReadOnlyWindowStore, StoreNotQueryableError } from '../streams-runtime.js'

/** Entries a scan reads from one task per gate job: bounds how long one job holds up the stream. */
export const SCAN_CHUNK = 500

export interface QueryableTask {
  readonly id: string
  readonly state: 'restoring' | 'running' | 'closed'
  store(name: string): StateStore | undefined
}

/** What the views need of the instance. `task` and `tasksOf` are called inside `read`. */
export interface LocalTasks {
  /** Runs a read between the stream thread's jobs (a `ReadGate`). */
  read<T>(read: () => Promise<T>): Promise<T>
  task(id: string): QueryableTask | undefined
  /** This instance's tasks of a sub-topology. */
  tasksOf(subtopology: number): readonly QueryableTask[]
  /** Why nothing can be read here now (not started, shutting down), or undefined when serving. */
  unavailable(): string | undefined
  /** Where a task runs, as last known (for the error of a read that came to the wrong instance). */
  hostOf(taskId: string): HostInfo | null
}

/** The store a view reads, located in the plan. */
export interface StoreTarget<K> {
  readonly name: string
  readonly subtopology: number
  readonly keySerde: Serde<K>
  /** The partition (= task) of a serialized key. */
  partitionOf(key: Buffer): number
}

function checkServing(tasks: LocalTasks, store: string): void {
  const why = tasks.unavailable()
  if (why !== undefined) throw new StoreNotQueryableError(`store '${store}' cannot be queried: ${why}`)
}

function notRunning(store: string, task: QueryableTask): StoreNotQueryableError {
  const why = task.state === 'restoring' ? 'is restoring its state from the changelog' : 'is closing (it is moving to another instance)'
  return new StoreNotQueryableError(`store '${store}': task ${task.id} ${why} on this instance; retry shortly`)
}

/** The store of the task a key belongs to; throws when that task is not running here. */
function storeOfKey<S extends StateStore>(tasks: LocalTasks, target: StoreTarget<unknown>, partition: number): S {
  checkServing(tasks, target.name)
  const id = taskIdString({ subtopology: target.subtopology, partition })
  const task = tasks.task(id)
  if (!task) {
    const host = tasks.hostOf(id)
    const where = host ? `it is on ${formatHostInfo(host)}` : 'no instance is known for it yet (rebalancing)'
    throw new StoreNotQueryableError(
      `store '${target.name}': the key's partition ${partition} (task ${id}) is not on this instance; ${where}. ` +
        'Ask the instance queryMetadataForKey names, or retry after the rebalance',
    )
  }
  if (task.state !== 'running') throw notRunning(target.name, task)
  return storeOf<S>(task, target.name)
}

function storeOf<S extends StateStore>(task: QueryableTask, name: string): S {
  const store = task.store(name)
  if (!store) throw new StoreNotQueryableError(`store '${name}' is not open in task ${task.id}; retry shortly`)
  return store as S
}

/** The running tasks holding the store; throws if any of this instance's tasks of it is not running (the answer would be partial). */
function runningTaskIds(tasks: LocalTasks, target: StoreTarget<unknown>): string[] {
  checkServing(tasks, target.name)
  const all = tasks.tasksOf(target.subtopology)
  const notReady = all.find((t) => t.state !== 'running')
  if (notReady) throw notRunning(target.name, notReady)
  return all.map((t) => t.id)
}

function runningStore<S extends StateStore>(tasks: LocalTasks, target: StoreTarget<unknown>, id: string): S {
  checkServing(tasks, target.name)
  const task = tasks.task(id)
  if (!task) throw new StoreNotQueryableError(`store '${target.name}': task ${id} left this instance during the read (a rebalance); retry`)
  if (task.state !== 'running') throw notRunning(target.name, task)
  return storeOf<S>(task, target.name)
}

/**
 * A point read through the store's own path: the cache, else one engine read into the cache. Safe
 * only inside the gate (no batch between the prefetch and the read to evict the entry).
 */
async function readThrough<V>(read: () => V, prefetch: () => Promise<void>): Promise<V> {
  try {
    return read()
  } catch (e) {
    if (!(e instanceof StoreMissError)) throw e
  }
  await prefetch()
  return read()
}

interface Row<K, V> {
  readonly key: K
  readonly value: V
  readonly bytes: Buffer
}

/** One task's part of a scan, read `SCAN_CHUNK` entries at a time, resuming after the last key read. */
class TaskScan<K, V> {
  private rows: Row<K, V>[] = []
  private position = 0
  private last: Row<K, V> | undefined
  private exhausted = false

  constructor(
    private readonly tasks: LocalTasks,
    private readonly target: StoreTarget<K>,
    private readonly taskId: string,
    private readonly from: K | undefined,
    private readonly to: K | undefined,
  ) {}

  get head(): Row<K, V> | undefined {
    return this.rows[this.position]
  }

  get needsFill(): boolean {
    return this.position >= this.rows.length && !this.exhausted
  }

  advance(): void {
    this.position++
  }

  /** Reads the next chunk. Must run inside the gate. */
  async fill(): Promise<void> {
    const store = runningStore<KeyValueStore<K, V>>(this.tasks, this.target, this.taskId)
    const rows: Row<K, V>[] = []
    const iterator = store.range(this.last?.key ?? this.from, this.to)[Symbol.asyncIterator]()
    try {
      while (rows.length < SCAN_CHUNK) {
        const next = await iterator.next()
        if (next.done) {
          this.exhausted = true
          break
        }
        const [key, value] = next.value
        const bytes = this.target.keySerde.serialize(key)
        // The chunk resumes at the last key read, inclusive: skip what an earlier chunk returned.
        if (this.last && Buffer.compare(bytes, this.last.bytes) <= 0) continue
        rows.push({ key, value, bytes })
      }
    } finally {
      // Closes the engine iterator inside the gate: no iterator outlives a job (a task may close after it).
      await iterator.return?.()
    }
    this.rows = rows
    this.position = 0
    if (rows.length > 0) this.last = rows[rows.length - 1]
  }
}

export function keyValueView<K, V>(tasks: LocalTasks, target: StoreTarget<K>): ReadOnlyKeyValueStore<K, V> {
  async function* scan(from?: K, to?: K): AsyncIterable<[K, V]> {
    const ids = await tasks.read(async () => runningTaskIds(tasks, target))
    const scans = ids.map((id) => new TaskScan<K, V>(tasks, target, id, from, to))
    for (;;) {
      const empty = scans.filter((s) => s.needsFill)
      if (empty.length > 0) await tasks.read(async () => void (await Promise.all(empty.map((s) => s.fill()))))
      // Each task's keys ascend: the smallest head is the next key overall (tasks hold disjoint keys).
      let next: TaskScan<K, V> | undefined
      for (const s of scans) if (s.head && (!next || Buffer.compare(s.head.bytes, next.head!.bytes) < 0)) next = s
      if (!next) return
      const row = next.head!
      next.advance()
      yield [row.key, row.value]
    }
  }

  return {
    async get(key: K): Promise<V | undefined> {
      const partition = target.partitionOf(target.keySerde.serialize(key))
      return tasks.read(() => {
        const store = storeOfKey<KeyValueStore<K, V>>(tasks, target, partition)
        return readThrough(
          () => store.get(key),
          () => store.prefetch([key]),
        )
      })
    },
    range: scan,
    all: () => scan(),
    approximateCount(): Promise<number> {
      return tasks.read(async () => {
        let total = 0
        for (const id of runningTaskIds(tasks, target)) total += await runningStore<KeyValueStore<K, V>>(tasks, target, id).approximateCount()
        return total
      })
    },
  }
}

/** Every entry of an async iterable, read inside the gate (window stores materialise their fetches anyway). */
async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

export function windowView<K, V>(tasks: LocalTasks, target: StoreTarget<K>): ReadOnlyWindowStore<K, V> {
  return {
    async *fetch(key: K, from: number, to: number): AsyncIterable<[number, V]> {
      const partition = target.partitionOf(target.keySerde.serialize(key))
      const rows = await tasks.read(() => collect(storeOfKey<WindowStore<K, V>>(tasks, target, partition).fetch(key, from, to)))
      yield* rows
    },
    async *fetchAll(from: number, to: number): AsyncIterable<[Windowed<K>, V]> {
      const ids = await tasks.read(async () => runningTaskIds(tasks, target))
      const found: [Windowed<K>, V][] = []
      // One job per task, one after another: a long fetchAll holds up the stream one task's scan at a time.
      for (const id of ids) found.push(...(await tasks.read(() => collect(runningStore<WindowStore<K, V>>(tasks, target, id).fetchAll(from, to)))))
      const rows = found.map((row) => ({ row, bytes: target.keySerde.serialize(row[0].key) }))
      // As one store orders them: by window start, then key bytes.
      rows.sort((a, b) => a.row[0].window.start - b.row[0].window.start || Buffer.compare(a.bytes, b.bytes))
      for (const { row } of rows) yield row
    },
  }
}
