/**
 * Interactive-query views over real stores (memory and RocksDB engines) of several tasks, read
 * through the ReadGate on a SerialQueue as the Kafka runtime does.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Serdes } from '../../../schemas/index.js'
import {
  createRecordCache,
  engines,
  openKeyValueStore,
  openWindowStore,
  type KeyValueStore,
  type RecordCache,
  type StateStore,
  type StorageEngine,
  StoreMissError,
  type WindowStore,
} from '../../../state/index.js'
import { SerialQueue } from '../../../runtime/kafka/serial-queue.js'
import { keyValueView, SCAN_CHUNK, windowView, type LocalTasks, type QueryableTask, type StoreTarget } from '../../../runtime/query/local-store-views.js'
import { partitionOfKey } from '../../../runtime/query/key-partition.js'
import { ReadGate } from '../../../runtime/query/read-gate.js'
import { StoreNotQueryableError, type HostInfo } from '../../../runtime/streams-runtime.js'

const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const PARTITIONS = 2
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface FakeTask extends QueryableTask {
  state: QueryableTask['state']
  readonly cache: RecordCache
}

/** An instance's tasks of sub-topology 0, with the queue its reads and "batches" share. */
class Instance implements LocalTasks {
  readonly queue = new SerialQueue()
  readonly gate = new ReadGate(this.queue)
  readonly tasks = new Map<string, FakeTask>()
  jobs = 0
  why: string | undefined
  hosts = new Map<string, HostInfo>()

  constructor(private readonly engine: StorageEngine) {}

  read<T>(read: () => Promise<T>): Promise<T> {
    return this.gate.read(read)
  }
  task(id: string): QueryableTask | undefined {
    return this.tasks.get(id)
  }
  tasksOf(): QueryableTask[] {
    return [...this.tasks.values()]
  }
  unavailable(): string | undefined {
    return this.why
  }
  hostOf(id: string): HostInfo | null {
    return this.hosts.get(id) ?? null
  }

  /** A job of the stream thread (a batch, a commit). */
  batch<T>(job: () => Promise<T>): Promise<T> {
    this.jobs++
    return this.queue.run(job)
  }

  async open(partition: number, cacheBytes = 1 << 20): Promise<{ kv: KeyValueStore<string, number>; win: WindowStore<string, number>; task: FakeTask }> {
    const stateDir = mkdtempSync(join(tmpdir(), 'iq-views-'))
    dirs.push(stateDir)
    const cache = createRecordCache(cacheBytes)
    const ctx = { applicationId: 'iq', taskId: `0_${partition}`, stateDir, engine: this.engine, cache }
    const kv = await openKeyValueStore({ name: 'counts', keySerde: Serdes.string(), valueSerde: Serdes.long(), logged: false }, ctx)
    const win = await openWindowStore({ name: 'windows', keySerde: Serdes.string(), valueSerde: Serdes.long(), logged: false, retentionMs: 3_600_000, windowSizeMs: 60_000 }, ctx)
    const stores = new Map<string, StateStore>([
      ['counts', kv],
      ['windows', win],
    ])
    const task: FakeTask = { id: `0_${partition}`, state: 'running', cache, store: (name) => stores.get(name) }
    this.tasks.set(task.id, task)
    return { kv, win, task }
  }

  async close(): Promise<void> {
    for (const task of this.tasks.values()) for (const name of ['counts', 'windows']) await task.store(name)!.close()
  }
}

const target = (name: string): StoreTarget<string> => ({ name, subtopology: 0, keySerde: Serdes.string(), partitionOf: (key) => partitionOfKey(key, PARTITIONS) })
const partitionOf = (key: string): number => partitionOfKey(Buffer.from(key), PARTITIONS)
/** Keys with their partition, enough of each. */
const keys = Array.from({ length: 40 }, (_, i) => `tenant-${i}`)

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

describe('keyValueView', () => {
  test('get: routed to the key’s task; sees unflushed cache writes and evicted keys (engine); unknown keys are undefined', async () => {
    const instance = new Instance(engines.memory())
    const tasks = [await instance.open(0, 0), await instance.open(1, 0)]
    const view = keyValueView<string, number>(instance, target('counts'))
    try {
      for (const [i, key] of keys.entries()) tasks[partitionOf(key)]!.kv.put(key, i)
      // Flushed and evicted (budget 0): the cache knows nothing of these keys any more.
      for (const t of tasks) await t.task.cache.maintain()
      assert.throws(() => tasks[partitionOf('tenant-3')]!.kv.get('tenant-3'), StoreMissError)
      // A newer value, in the cache only (not flushed).
      tasks[partitionOf('tenant-5')]!.kv.put('tenant-5', 500)
      for (const [i, key] of keys.entries()) assert.equal(await view.get(key), key === 'tenant-5' ? 500 : i, key)
      assert.equal(await view.get('nobody'), undefined)
    } finally {
      await instance.close()
    }
  })

  test('a read waits for the running batch: it never sees a batch half-applied', async () => {
    const instance = new Instance(engines.memory())
    const { kv } = await instance.open(partitionOf('a'))
    await instance.open(1 - partitionOf('a'))
    const view = keyValueView<string, number>(instance, target('counts'))
    try {
      kv.put('a', 0)
      const batch = instance.batch(async () => {
        kv.put('a', 1)
        await sleep(20) // e.g. a deferred registry look-up or a punctuation inside the batch
        kv.put('a', 2)
      })
      await sleep(1)
      assert.equal(await view.get('a'), 2)
      await batch
    } finally {
      await instance.close()
    }
  })

  test('reads that arrive together share one queue job', async () => {
    const instance = new Instance(engines.memory())
    await instance.open(0)
    await instance.open(1)
    let jobs = 0
    const run = instance.queue.run.bind(instance.queue)
    instance.queue.run = (job) => {
      jobs++
      return run(job)
    }
    const view = keyValueView<string, number>(instance, target('counts'))
    try {
      const blocker = instance.batch(() => sleep(10))
      jobs = 0
      await Promise.all(keys.map((k) => view.get(k)))
      await blocker
      assert.equal(jobs, 1)
    } finally {
      await instance.close()
    }
  })

  test('a key whose task is elsewhere, restoring, or an instance not serving: StoreNotQueryableError saying why', async () => {
    const instance = new Instance(engines.memory())
    const here = partitionOf('tenant-1')
    const { task } = await instance.open(here)
    const view = keyValueView<string, number>(instance, target('counts'))
    const elsewhere = keys.find((k) => partitionOf(k) !== here)!
    try {
      await assert.rejects(view.get(elsewhere), (e: unknown) => e instanceof StoreNotQueryableError && /no instance is known for it yet/.test(e.message))
      instance.hosts.set(`0_${1 - here}`, { host: 'b', port: 2 })
      await assert.rejects(view.get(elsewhere), (e: unknown) => e instanceof StoreNotQueryableError && /not on this instance; it is on b:2/.test(e.message))
      task.state = 'restoring'
      await assert.rejects(view.get('tenant-1'), (e: unknown) => e instanceof StoreNotQueryableError && /restoring.*retry/.test(e.message))
      await assert.rejects(collect(view.all()), (e: unknown) => e instanceof StoreNotQueryableError && /restoring/.test(e.message))
      await assert.rejects(view.approximateCount(), StoreNotQueryableError)
      task.state = 'running'
      instance.why = 'the instance is shutting down or closed; query another instance'
      await assert.rejects(view.get('tenant-1'), (e: unknown) => e instanceof StoreNotQueryableError && /store 'counts' cannot be queried: the instance is shutting down/.test(e.message))
    } finally {
      await instance.close()
    }
  })

  for (const [engineName, engine] of [
    ['memory', engines.memory],
    ['rocksdb', () => engines.rocksdb()],
  ] as const) {
    test(`range/all (${engineName}): every task merged in key order, cache and engine, deletes hidden, over many chunks`, async () => {
      const instance = new Instance(engine())
      const tasks = [await instance.open(0), await instance.open(1)]
      const view = keyValueView<string, number>(instance, target('counts'))
      try {
        const expected = new Map<string, number>()
        const n = SCAN_CHUNK * 3 + 17
        for (let i = 0; i < n; i++) {
          const key = `k${String(i).padStart(5, '0')}`
          tasks[partitionOf(key)]!.kv.put(key, i)
          expected.set(key, i)
        }
        for (const t of tasks) await t.kv.flush()
        // After the flush: some updated and some deleted in the cache only.
        for (let i = 0; i < n; i += 7) {
          const key = `k${String(i).padStart(5, '0')}`
          if (i % 2 === 0) {
            tasks[partitionOf(key)]!.kv.delete(key)
            expected.delete(key)
          } else {
            tasks[partitionOf(key)]!.kv.put(key, -i)
            expected.set(key, -i)
          }
        }
        assert.deepEqual(await collect(view.all()), [...expected].sort(([a], [b]) => (a < b ? -1 : 1)))
        const from = 'k00100'
        const to = 'k01200'
        assert.deepEqual(
          await collect(view.range(from, to)),
          [...expected].filter(([k]) => k >= from && k < to).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
        // The sum of the tasks' own (approximate) counts.
        const perTask = (await tasks[0]!.kv.approximateCount()) + (await tasks[1]!.kv.approximateCount())
        assert.equal(await view.approximateCount(), perTask)
        assert.ok(perTask >= expected.size)
      } finally {
        await instance.close()
      }
    })
  }

  test('a scan whose task leaves the instance midway fails, rather than answer partially', async () => {
    const instance = new Instance(engines.memory())
    const tasks = [await instance.open(0), await instance.open(1)]
    const view = keyValueView<string, number>(instance, target('counts'))
    try {
      for (let i = 0; i < SCAN_CHUNK * 4; i++) tasks[i % 2]!.kv.put(`k${String(i).padStart(5, '0')}`, i)
      const iterator = view.all()[Symbol.asyncIterator]()
      await iterator.next()
      instance.tasks.delete('0_1')
      await assert.rejects(
        (async () => {
          for (let r = await iterator.next(); !r.done; r = await iterator.next());
        })(),
        (e: unknown) => e instanceof StoreNotQueryableError && /left this instance during the read/.test(e.message),
      )
      instance.tasks.set('0_1', tasks[1]!.task)
    } finally {
      await instance.close()
    }
  })
})

describe('windowView', () => {
  test('fetch goes to the key’s task; fetchAll merges every task by window start', async () => {
    const instance = new Instance(engines.memory())
    const tasks = [await instance.open(0), await instance.open(1)]
    const view = windowView<string, number>(instance, target('windows'))
    try {
      const a = keys.find((k) => partitionOf(k) === 0)!
      const b = keys.find((k) => partitionOf(k) === 1)!
      tasks[0]!.win.put(a, 1, 0)
      tasks[0]!.win.put(a, 2, 60_000)
      await tasks[0]!.win.flush()
      tasks[0]!.win.put(a, 3, 120_000)
      tasks[1]!.win.put(b, 10, 60_000)
      assert.deepEqual(await collect(view.fetch(a, 0, 120_000)), [
        [0, 1],
        [60_000, 2],
        [120_000, 3],
      ])
      assert.deepEqual(await collect(view.fetch(b, 0, 30_000)), [])
      const all = await collect(view.fetchAll(0, 120_000))
      assert.deepEqual(
        all.map(([w, v]) => [w.key, w.window.start, v]),
        [
          [a, 0, 1],
          ...[
            [a, 60_000, 2],
            [b, 60_000, 10],
          ].sort((x, y) => Buffer.compare(Buffer.from(x[0] as string), Buffer.from(y[0] as string))),
          [a, 120_000, 3],
        ],
      )
      assert.equal(all[0]![0].window.end, 60_000)
    } finally {
      await instance.close()
    }
  })
})
