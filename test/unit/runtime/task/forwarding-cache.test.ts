import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { InMemoryRecordSink, type OutputRecord, RecordCollector, type SourceRecord, StreamTask } from '../../../../runtime/task/index.js'
import { ForwardingCache } from '../../../../runtime/task/forwarding-cache.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines, type StorageEngine, type Windowed } from '../../../../state/index.js'
import { Stores, StreamsBuilder, Suppressed, TimeWindows, type Topology } from '../../../../topology/index.js'
import { readCountingEngine, runningTotal } from './store-reads.js'

const keyed = { key: Serdes.string(), value: Serdes.string() }
const windowedKey = Serdes.windowed(Serdes.string())
const show = ([w, n]: [Windowed<string>, number]): string => `${w.key}@${w.window.start}=${n}`

/** A tumbling count forwarding every update to `updates`, and one final count per window to `final`. */
function windowedCounts(sizeMs: number): Topology {
  const b = new StreamsBuilder()
  const counts = b.stream('in', keyed).groupByKey().windowedBy(TimeWindows.tumbling(sizeMs)).count({ name: 'counts' })
  counts.toStream().to('updates')
  counts.suppress(Suppressed.untilWindowCloses({ name: 'final' })).toStream().to('final')
  return b.build()
}

async function windowedDriver(forwardingCacheMaxEntries?: number) {
  const driver = await TopologyTestDriver.create(windowedCounts(100), forwardingCacheMaxEntries === undefined ? {} : { forwardingCacheMaxEntries })
  return {
    driver,
    input: driver.createInputTopic('in', keyed.key, keyed.value),
    updates: driver.createOutputTopic('updates', windowedKey, Serdes.long()),
    final: driver.createOutputTopic('final', windowedKey, Serdes.long()),
  }
}

const burst = [
  { key: 'a', value: 'x', timestamp: 1 },
  { key: 'a', value: 'x', timestamp: 2 },
  { key: 'b', value: 'x', timestamp: 3 },
  { key: 'a', value: 'x', timestamp: 4 },
  { key: 'b', value: 'x', timestamp: 5 },
  { key: 'a', value: 'x', timestamp: 6 },
]

describe('forwarding cache (latest table update per key and commit)', () => {
  test('on: several updates of a key within one commit reach downstream once, with the latest value', async () => {
    const { driver, input, updates } = await windowedDriver(100)
    await input.pipeRecords(burst) // one batch, one commit
    const records = updates.readRecords()
    // In the order the rows first changed; each with its latest value and that update's timestamp.
    assert.deepEqual(records.map((r) => show([r.key, r.value])), ['a@0=4', 'b@0=2'])
    assert.deepEqual(records.map((r) => r.timestamp), [6, 5])
    await input.pipeRecords([{ key: 'a', value: 'x', timestamp: 7 }, { key: 'a', value: 'x', timestamp: 8 }]) // the next commit
    assert.deepEqual(updates.readKeyValues().map(show), ['a@0=6'])
    await driver.close()
  })

  test('off (the driver default, and forwardingCacheMaxEntries: 0): one downstream record per update', async () => {
    for (const bound of [undefined, 0]) {
      const { driver, input, updates } = await windowedDriver(bound)
      await input.pipeRecords(burst)
      assert.deepEqual(updates.readKeyValues().map(show), ['a@0=1', 'a@0=2', 'b@0=1', 'a@0=3', 'b@0=2', 'a@0=4'])
      await driver.close()
    }
  })

  test('on: suppress still emits exactly one final result per window, when windows close inside a batch', async () => {
    const { driver, input, updates, final } = await windowedDriver(100)
    // One batch: windows [0,100) and [100,200) close while it runs (at stream time 100 and 200), not at commit.
    await input.pipeRecords([
      { key: 'a', value: 'x', timestamp: 10 },
      { key: 'a', value: 'x', timestamp: 20 },
      { key: 'b', value: 'x', timestamp: 30 },
      { key: 'a', value: 'x', timestamp: 40 },
      { key: 'a', value: 'x', timestamp: 150 }, // closes [0,100): a=3, b=1 must be final there
      { key: 'b', value: 'x', timestamp: 160 },
      { key: 'b', value: 'x', timestamp: 170 },
      { key: 'a', value: 'x', timestamp: 250 }, // closes [100,200)
    ])
    assert.deepEqual(final.readKeyValues().map(show), ['a@0=3', 'b@0=1', 'a@100=1', 'b@100=2'])
    assert.deepEqual(updates.readKeyValues().map(show), ['a@0=3', 'b@0=1', 'a@100=1', 'b@100=2', 'a@200=1'])
    await input.pipe('c', 'x', { timestamp: 400 })
    assert.deepEqual(final.readKeyValues().map(show), ['a@200=1'])
    await driver.close()
  })

  test('property: with the cache on, suppress emits the same final results as with it off, each once', async () => {
    const arbBatches = fc.array(
      fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), timestamp: fc.integer({ min: 0, max: 1_000 }) }), { minLength: 1, maxLength: 12 }),
      { minLength: 1, maxLength: 6 },
    )
    const finals = async (batches: { key: string; timestamp: number }[][], bound: number): Promise<string[]> => {
      const { driver, input, final } = await windowedDriver(bound)
      for (const batch of batches) await input.pipeRecords(batch.map((r) => ({ ...r, value: 'x' })))
      await input.pipe('z', 'x', { timestamp: 10_000 }) // closes every window
      // Windows closing at the same stream time come out of suppress in no specified order.
      const out = final.readKeyValues().map(show).sort()
      await driver.close()
      return out
    }
    await fc.assert(
      fc.asyncProperty(arbBatches, fc.integer({ min: 1, max: 4 }), async (batches, bound) => {
        const cached = await finals(batches, bound)
        assert.deepEqual(cached, await finals(batches, 0))
        assert.equal(new Set(cached.map((f) => f.split('=')[0])).size, cached.length, 'one final result per window')
      }),
      { numRuns: 30 },
    )
  })

  test('on: unwindowed aggregations and table sources forward their latest value per key', async () => {
    const b = new StreamsBuilder()
    b.stream('in', keyed).groupByKey().count({ name: 'totals' }).toStream().to('totals')
    b.table('profiles', keyed).toStream().to('profiles-out')
    const driver = await TopologyTestDriver.create(b.build(), { forwardingCacheMaxEntries: 10 })
    await driver.createInputTopic('in', keyed.key, keyed.value).pipeRecords(burst)
    assert.deepEqual(driver.createOutputTopic('totals', Serdes.string(), Serdes.long()).readKeyValues(), [['a', 4], ['b', 2]])
    await driver.createInputTopic('profiles', keyed.key, keyed.value).pipeRecords([
      { key: 'u1', value: 'v1' },
      { key: 'u2', value: 'v1' },
      { key: 'u1', value: 'v2' },
    ])
    assert.deepEqual(driver.createOutputTopic('profiles-out', keyed.key, keyed.value).readKeyValues(), [['u1', 'v2'], ['u2', 'v1']])
    await driver.close()
  })

  test('on: updates forwarded at commit into a repartition topic are processed within the same pipe call', async () => {
    const b = new StreamsBuilder()
    b.stream('in', keyed)
      .groupByKey()
      .count({ name: 'per-key' })
      .toStream()
      .groupBy((_key, count) => String(count), { key: Serdes.string(), value: Serdes.long(), name: 'by-count' })
      .count({ name: 'keys-per-count' })
      .toStream()
      .to('out')
    const driver = await TopologyTestDriver.create(b.build(), { forwardingCacheMaxEntries: 10 })
    await driver.createInputTopic('in', keyed.key, keyed.value).pipeRecords(burst)
    // Only the latest counts (a=4, b=2) were repartitioned: one key had count 4, one count 2.
    assert.deepEqual(driver.createOutputTopic('out', Serdes.string(), Serdes.long()).readKeyValues(), [['4', 1], ['2', 1]])
    await driver.close()
  })

  test('on: a downstream failure on a held-back update follows the error policy with its latest input record', async () => {
    const b = new StreamsBuilder()
    b.stream('in', keyed)
      .groupByKey()
      .count({ name: 'totals' })
      .mapValues((n) => {
        if (n === 3) throw new Error('three is not allowed')
        return n
      }, { value: Serdes.long() })
      .toStream()
      .to('out')
    const driver = await TopologyTestDriver.create(b.build(), { forwardingCacheMaxEntries: 10 })
    await driver.createInputTopic('in', keyed.key, keyed.value).pipeRecords(burst.slice(0, 4)) // a=3, b=1
    assert.deepEqual(driver.createOutputTopic('out', Serdes.string(), Serdes.long()).readKeyValues(), [['b', 1]])
    const [dead] = driver.deadLetters()
    assert.equal(dead?.headers['sentinel.error.stage'], 'process')
    assert.equal(dead?.headers['sentinel.source.offset'], '3', "the offset of a's latest update")
    await driver.close()
  })
})

describe('forwarding cache in the StreamTask', () => {
  let offset = 0
  const record = (key: string, timestamp: number): SourceRecord => ({
    topic: 'in',
    partition: 0,
    offset: String(offset++),
    key: Buffer.from(key),
    value: Buffer.from('x'),
    timestamp,
    headers: {},
  })

  /** A task of `topology`'s sub-topology 0 without changelogs; its output goes to `sent`. */
  async function startTask(topology: Topology, forwardingCacheMaxEntries: number, state: { engine?: StorageEngine; cacheMaxBytes?: number } = {}) {
    const sent: OutputRecord[] = []
    const task = new StreamTask({
      topology,
      plan: topology.plan('app'),
      subtopology: 0,
      partition: 0,
      collector: new RecordCollector(new InMemoryRecordSink((r) => sent.push(r))),
      changelogs: false,
      state: { engine: state.engine ?? engines.memory(), stateDir: '/tmp/unused', ...(state.cacheMaxBytes === undefined ? {} : { cacheMaxBytes: state.cacheMaxBytes }) },
      forwardingCacheMaxEntries,
    })
    await task.start()
    return { task, sent }
  }

  test('over its bound, the oldest pending rows are forwarded after the batch; the rest at flush', async () => {
    const { task, sent } = await startTask(windowedCounts(100), 2)
    const updates = () => sent.filter((r) => r.topic === 'updates').map((r) => `${windowedKey.deserialize(r.key!).key}=${Serdes.long().deserialize(r.value!)}`)
    await task.process([record('a', 1), record('b', 2), record('a', 3), record('c', 4), record('c', 5)])
    assert.deepEqual(updates(), ['a=2'], 'three pending rows, bound 2: the oldest (a) goes')
    await task.flush()
    assert.deepEqual(updates(), ['a=2', 'b=1', 'c=2'])
    await task.flush()
    assert.equal(updates().length, 3, 'nothing pending after a flush')
    await task.close()
  })

  test('held-back rows coming due one by one through a batch: the stores after them are loaded with the batch, one read, not one per row', async () => {
    const { engine, reads } = readCountingEngine('totals')
    const b = new StreamsBuilder()
    b.stream('in', keyed)
      .groupByKey()
      .windowedBy(TimeWindows.tumbling(10, { graceMs: 200 }))
      .count({ name: 'counts' })
      .suppress(Suppressed.untilWindowCloses({ name: 'final' }))
      .toStream()
      .process<string, number>(runningTotal, { name: 'running-total', stores: [Stores.keyValue('totals', Serdes.string(), Serdes.long())] })
      .to('totals-out', { key: Serdes.string(), value: Serdes.long() })
    // No record cache: what a batch loaded is gone by the next one.
    const { task, sent } = await startTask(b.build(), 100, { engine, cacheMaxBytes: 0 })
    // 20 windows held back in the forwarding cache (no commit between the batches), each due at end + 200.
    await task.process(Array.from({ length: 20 }, (_, i) => record(`k${i}`, i * 10)))
    reads.count = 0
    // Each record advances stream time by 10: one held-back window comes due per record.
    await task.process(Array.from({ length: 20 }, (_, i) => record('z', 210 + i * 10)))
    const totals = sent.filter((r) => r.topic === 'totals-out').map((r) => `${Serdes.string().deserialize(r.key!)}=${Serdes.long().deserialize(r.value!)}`)
    assert.deepEqual(
      totals,
      Array.from({ length: 20 }, (_, i) => `k${i}=1`),
    )
    assert.equal(reads.count, 1, "the 20 due rows' keys and the batch's own, in one batched read")
    await task.close()
  })

  test('close forwards what is still pending', async () => {
    const { task, sent } = await startTask(windowedCounts(100), 100)
    await task.process([record('a', 1), record('a', 2)])
    assert.equal(sent.filter((r) => r.topic === 'updates').length, 0)
    await task.close()
    assert.deepEqual(sent.filter((r) => r.topic === 'updates').map((r) => Serdes.long().deserialize(r.value!)), [2])
  })
})

describe('ForwardingCache against a model (a list of pending rows in the order they became pending)', () => {
  type Op = { op: 'put'; owner: number; group: number; row: string; dueAt: number } | { op: 'due'; at: number } | { op: 'overflow' } | { op: 'all' }
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('put' as const), owner: fc.integer({ min: 0, max: 2 }), group: fc.integer({ min: 0, max: 3 }), row: fc.constantFrom('a', 'b', 'c', 'd'), dueAt: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(Infinity)) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('due' as const), at: fc.integer({ min: 0, max: 12 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('overflow' as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('all' as const) }) },
  )

  test('takeDue, takeOverflow and takeAll hand out the model\'s rows, in its order, with their latest records', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 1, max: 6 }), (ops, maxEntries) => {
        const cache = new ForwardingCache<number>(maxEntries)
        // A row's due time is fixed when it becomes pending (a window's close time, or Infinity: never
        // due, an unwindowed table's row); later puts keep it.
        let model: { id: string; owner: number; dueAt: number; value: number }[] = []
        const shown = (rows: readonly { owner: number; record: { value: unknown } }[]): string[] => rows.map((r) => `${r.owner}:${String(r.record.value)}`)
        ops.forEach((o, n) => {
          if (o.op === 'put') {
            const id = `${o.owner}/${o.group}/${o.row}`
            cache.put(o.owner, o.group, o.row, { key: o.row, value: n, timestamp: 0, headers: {} }, undefined, o.row, o.dueAt)
            const pending = model.find((m) => m.id === id)
            if (pending) pending.value = n
            else model.push({ id, owner: o.owner, dueAt: o.dueAt, value: n })
            return
          }
          let expected: typeof model
          let got: readonly { owner: number; record: { value: unknown } }[]
          if (o.op === 'due') {
            expected = model.filter((m) => m.dueAt <= o.at)
            model = model.filter((m) => m.dueAt > o.at)
            got = cache.takeDue(o.at)
          } else if (o.op === 'overflow') {
            const over = Math.max(0, model.length - maxEntries)
            expected = model.slice(0, over)
            model = model.slice(over)
            got = cache.takeOverflow()
          } else {
            expected = model
            model = []
            got = cache.takeAll()
          }
          assert.deepEqual(shown(got), shown(expected.map((m) => ({ owner: m.owner, record: { value: m.value } }))))
          assert.equal(cache.size, model.length)
          // hasDue may say yes when nothing is due (after an overflow), never no with a row due.
          if (model.some((m) => m.dueAt <= 12)) assert.ok(cache.hasDue(12))
        })
      }),
      { numRuns: 300 },
    )
  })
})
