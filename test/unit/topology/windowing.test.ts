import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import { engines, type Windowed } from '../../../state/index.js'
import { SessionWindows, Stores, StreamsBuilder, Suppressed, TimeWindows } from '../../../topology/index.js'
import { readCountingEngine, runningTotal } from '../runtime/task/store-reads.js'

const keyed = { key: Serdes.string(), value: Serdes.string() }
const windowedKey = Serdes.windowed(Serdes.string())
const id = (w: Windowed<string>): string => `${w.key}@${w.window.start}-${w.window.end}`


/** Latest value per windowed key from a table's update stream. */
function latestPerWindow(records: [Windowed<string>, number][]): Map<string, number> {
  return new Map(records.map(([w, v]) => [id(w), v]))
}

const arbRecords = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), ts: fc.integer({ min: 0, max: 2_000 }) }), { minLength: 1, maxLength: 40 })

async function countWindows(windows: TimeWindows, records: { key: string; ts: number }[]): Promise<Map<string, number>> {
  const b = new StreamsBuilder()
  b.stream('in', keyed).groupByKey().windowedBy(windows).count({ name: 'counts' }).toStream().to('out')
  const driver = await TopologyTestDriver.create(b.build())
  await driver.createInputTopic('in', keyed.key, keyed.value).pipeRecords(records.map((r) => ({ key: r.key, value: 'x', timestamp: r.ts })))
  const out = latestPerWindow(driver.createOutputTopic('out', windowedKey, Serdes.long()).readKeyValues())
  await driver.close()
  return out
}

/** The model: count every record in each aligned window [k*advance, k*advance+size) containing it. */
function modelCounts(records: { key: string; ts: number }[], size: number, advance: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const r of records) {
    for (let start = 0; start <= r.ts; start += advance) {
      if (r.ts >= start + size) continue
      const k = `${r.key}@${start}-${start + size}`
      out.set(k, (out.get(k) ?? 0) + 1)
    }
  }
  return out
}

describe('time windows through the driver (properties)', () => {
  test('tumbling: each record is counted in exactly the window covering its timestamp', async () => {
    await fc.assert(
      fc.asyncProperty(arbRecords, fc.integer({ min: 1, max: 300 }), async (records, size) => {
        // Grace larger than the time range: nothing is late, so every record must be counted.
        const actual = await countWindows(TimeWindows.tumbling(size, { graceMs: 10_000 }), records)
        assert.deepEqual(actual, modelCounts(records, size, size))
      }),
      { numRuns: 25 },
    )
  })

  test('hopping: each record is counted in exactly the windows covering its timestamp', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbRecords,
        fc.integer({ min: 1, max: 100 }).chain((advance) => fc.tuple(fc.constant(advance), fc.integer({ min: advance, max: advance * 4 }))),
        async (records, [advance, size]) => {
          const actual = await countWindows(TimeWindows.hopping(size, advance, { graceMs: 10_000 }), records)
          assert.deepEqual(actual, modelCounts(records, size, advance))
        },
      ),
      { numRuns: 25 },
    )
  })
})

describe('grace and late records at the boundaries', () => {
  async function graceDriver() {
    const b = new StreamsBuilder()
    b.stream('in', keyed)
      .groupByKey()
      .windowedBy(TimeWindows.tumbling(10, { graceMs: 5 }))
      .count({ name: 'counts', lateRecordsTopic: 'late-calls' })
      .toStream()
      .to('out')
    const driver = await TopologyTestDriver.create(b.build())
    return { driver, input: driver.createInputTopic('in', keyed.key, keyed.value), out: driver.createOutputTopic('out', windowedKey, Serdes.long()) }
  }

  test('window [0,10) with grace 5 accepts records until stream time reaches 15, then drops them as late', async () => {
    const { driver, input, out } = await graceDriver()
    await input.pipe('a', 'x', { timestamp: 0 })
    await input.pipe('a', 'x', { timestamp: 14 }) // stream time 14 < 15: [0,10) still open
    await input.pipe('a', 'x', { timestamp: 9 })
    assert.deepEqual(out.readKeyValues().map(([w, c]) => [id(w), c]), [['a@0-10', 1], ['a@10-20', 1], ['a@0-10', 2]])
    await input.pipe('b', 'x', { timestamp: 15 }) // stream time 15 = 10 + 5: [0,10) closes
    await input.pipe('a', 'late', { timestamp: 9, headers: { why: 'test' } })
    await input.pipe('a', 'x', { timestamp: 10 }) // [10,20) still open
    assert.deepEqual(out.readKeyValues().map(([w, c]) => [id(w), c]), [['b@10-20', 1], ['a@10-20', 2]])

    const metrics = driver.metrics()
    assert.equal(metrics.late, 1)
    assert.equal(metrics.lateByProcessor.get('counts'), 1)
    const late = driver.records('late-calls')
    assert.equal(late.length, 1)
    assert.equal(late[0]!.value!.toString(), 'late')
    assert.equal(String(late[0]!.headers['sentinel.late.processor']), 'counts')
    assert.equal(String(late[0]!.headers['sentinel.late.window.closed-at']), '15')
    assert.equal(String(late[0]!.headers['sentinel.source.offset']), '4')
    assert.equal(String(late[0]!.headers.why), 'test')
    await driver.close()
  })

  test('hopping: a record is late only when every window covering it has closed', async () => {
    const b = new StreamsBuilder()
    b.stream('in', keyed).groupByKey().windowedBy(TimeWindows.hopping(10, 5)).count({ name: 'hops' }).toStream().to('out')
    const driver = await TopologyTestDriver.create(b.build())
    const input = driver.createInputTopic('in', keyed.key, keyed.value)
    const out = driver.createOutputTopic('out', windowedKey, Serdes.long())
    await input.pipe('a', 'x', { timestamp: 10 }) // windows [5,15) [10,20); [0,10) closed
    out.readRecords()
    await input.pipe('a', 'x', { timestamp: 7 }) // [0,10) closed, [5,15) open: counted there only
    assert.deepEqual(out.readKeyValues().map(([w, c]) => [id(w), c]), [['a@5-15', 2]])
    assert.equal(driver.metrics().late, 0)
    await input.pipe('a', 'x', { timestamp: 15 })
    await input.pipe('a', 'x', { timestamp: 4 }) // [0,10) and [-5,5) closed: late
    assert.equal(driver.metrics().late, 1)
    await driver.close()
  })
})

describe('session windows', () => {
  async function sessionDriver(gap: number, grace: number) {
    const b = new StreamsBuilder()
    const sessions = b.stream('in', keyed).groupByKey().windowedBy(SessionWindows.withGap(gap, { graceMs: grace })).count({ name: 'sessions' })
    sessions.toStream().to('updates')
    sessions.suppress(Suppressed.untilWindowCloses({ name: 'final-sessions' })).toStream().to('final')
    const driver = await TopologyTestDriver.create(b.build())
    return {
      driver,
      input: driver.createInputTopic('in', keyed.key, keyed.value),
      updates: driver.createOutputTopic('updates', windowedKey, Serdes.long()),
      final: driver.createOutputTopic('final', windowedKey, Serdes.long()),
    }
  }

  test('records within the gap extend a session; a record bridging two sessions merges them', async () => {
    const { driver, input, updates } = await sessionDriver(10, 100)
    await input.pipe('a', 'x', { timestamp: 0 })
    await input.pipe('a', 'x', { timestamp: 30 })
    await input.pipe('a', 'x', { timestamp: 10 }) // within 10 of 0: extends [0,0] to [0,10]
    assert.deepEqual(updates.readKeyValues().map(([w, c]) => [id(w), c]), [['a@0-0', 1], ['a@30-30', 1], ['a@0-10', 2]])
    await input.pipe('a', 'x', { timestamp: 20 }) // bridges [0,10] and [30,30]
    assert.deepEqual(updates.readKeyValues().map(([w, c]) => [id(w), c]), [['a@0-30', 4]])
    await input.pipe('a', 'x', { timestamp: 41 }) // 11 after 30: a new session
    assert.deepEqual(updates.readKeyValues().map(([w, c]) => [id(w), c]), [['a@41-41', 1]])
    await driver.close()
  })

  test('property: final sessions are the gap-clusters of the timestamps, each emitted exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: 1_000 }) }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 80 }),
        async (records, gap) => {
          const { driver, input, final } = await sessionDriver(gap, 5_000)
          await input.pipeRecords(records.map((r) => ({ key: r.key, value: 'x', timestamp: r.ts })))
          await input.pipe('z', 'x', { timestamp: 100_000 }) // closes every session of a and b
          const emitted = final.readKeyValues().map(([w, c]) => [id(w), c] as const)
          const expected: [string, number][] = []
          for (const key of ['a', 'b']) {
            const ts = records.filter((r) => r.key === key).map((r) => r.ts).sort((x, y) => x - y)
            let start = -1
            let end = -1
            let count = 0
            for (const t of ts) {
              if (count > 0 && t - end <= gap) {
                end = t
                count++
                continue
              }
              if (count > 0) expected.push([`${key}@${start}-${end}`, count])
              start = t
              end = t
              count = 1
            }
            if (count > 0) expected.push([`${key}@${start}-${end}`, count])
          }
          const sortById = (xs: readonly (readonly [string, number])[]) => [...xs].sort((x, y) => x[0].localeCompare(y[0]))
          assert.deepEqual(sortById(emitted), sortById(expected))
          await driver.close()
        },
      ),
      { numRuns: 25 },
    )
  })

  test('a session closes at end + gap + grace; a record for a closed session is late', async () => {
    const { driver, input, final } = await sessionDriver(10, 5)
    await input.pipe('a', 'x', { timestamp: 100 })
    await input.pipe('b', 'x', { timestamp: 114 }) // 100 + 10 + 5 = 115 not reached
    assert.equal(final.isEmpty(), true)
    await input.pipe('b', 'x', { timestamp: 115 })
    assert.deepEqual(final.readKeyValues().map(([w, c]) => [id(w), c]), [['a@100-100', 1]])
    await input.pipe('a', 'x', { timestamp: 99 }) // would join the closed session: late
    assert.equal(driver.metrics().late, 1)
    await driver.close()
  })
})

describe('suppress(untilWindowCloses)', () => {
  test('property: exactly one final result per window, equal to its count of on-time records', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), ts: fc.integer({ min: 0, max: 500 }) }), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 5, max: 50 }),
        fc.integer({ min: 0, max: 30 }),
        async (records, size, grace) => {
          const b = new StreamsBuilder()
          b.stream('in', keyed)
            .groupByKey()
            .windowedBy(TimeWindows.tumbling(size, { graceMs: grace }))
            .count({ name: 'counts' })
            .suppress(Suppressed.untilWindowCloses())
            .toStream()
            .to('final')
          const driver = await TopologyTestDriver.create(b.build())
          const input = driver.createInputTopic('in', keyed.key, keyed.value)
          for (const r of records) await input.pipe(r.key, 'x', { timestamp: r.ts })
          await input.pipe('z', 'x', { timestamp: 10_000 })
          const emitted = driver.createOutputTopic('final', windowedKey, Serdes.long()).readKeyValues().filter(([w]) => w.key !== 'z')
          // Model: a record is on time when its window's end + grace > stream time (including itself).
          let streamTime = -1
          const expected = new Map<string, number>()
          for (const r of records) {
            streamTime = Math.max(streamTime, r.ts)
            const start = r.ts - (r.ts % size)
            if (start + size + grace <= streamTime) continue
            const k = `${r.key}@${start}-${start + size}`
            expected.set(k, (expected.get(k) ?? 0) + 1)
          }
          const ids = emitted.map(([w]) => id(w))
          assert.equal(new Set(ids).size, ids.length, 'no window emitted twice')
          assert.deepEqual(new Map(emitted.map(([w, c]) => [id(w), c])), expected)
          assert.equal(driver.metrics().late, records.length - [...expected.values()].reduce((x, y) => x + y, 0))
          await driver.close()
        },
      ),
      { numRuns: 25 },
    )
  })

  for (const cacheMaxBytes of [undefined, 0]) {
  test(`an idle timeout advances stream time of a quiet task so its windows close without new records (cache ${cacheMaxBytes ?? 'default'} bytes)`, async () => {
    const b = new StreamsBuilder()
    b.stream('in', keyed).groupByKey().windowedBy(TimeWindows.tumbling(1000)).count({ name: 'counts' }).suppress(Suppressed.untilWindowCloses()).toStream().to('final')
    // A budget of 0: the closing window is read from the engine outside any batch.
    const driver = await TopologyTestDriver.create(b.build(), { idleTimeoutMs: 5_000, startWallClockMs: 1_000_000, ...(cacheMaxBytes === undefined ? {} : { cacheMaxBytes }) })
    const input = driver.createInputTopic('in', keyed.key, keyed.value)
    const final = driver.createOutputTopic('final', windowedKey, Serdes.long())
    await input.pipe('a', 'x', { timestamp: 200 })
    await input.pipe('a', 'x', { timestamp: 300 })
    await driver.advanceWallClockTime(4_999)
    assert.equal(final.isEmpty(), true, 'not idle long enough yet')
    await driver.advanceWallClockTime(1)
    // Quiet for 5 s of wall-clock: stream time = 300 + 5000, past the window end (1000).
    assert.deepEqual(final.readKeyValues().map(([w, c]) => [id(w), c]), [['a@0-1000', 2]])
    assert.equal(driver.streamTime(), 5_300)
    assert.equal(driver.metrics().idleAdvances, 1)
    await driver.close()
  })
  }

  test('the suppression buffer is logged: its changelog ends with a tombstone for every emitted window', async () => {
    const b = new StreamsBuilder()
    b.stream('in', keyed).groupByKey().windowedBy(TimeWindows.tumbling(10)).count({ name: 'counts' }).suppress(Suppressed.untilWindowCloses({ name: 'final' })).toStream().to('final')
    const driver = await TopologyTestDriver.create(b.build(), { applicationId: 'app' })
    const input = driver.createInputTopic('in', keyed.key, keyed.value)
    await input.pipe('a', 'x', { timestamp: 1 })
    const changelog = driver.records('app-final-store-changelog')
    assert.equal(changelog.length, 1)
    assert.notEqual(changelog[0]!.value, null)
    await input.pipe('a', 'x', { timestamp: 10 })
    const latestByKey = new Map(driver.records('app-final-store-changelog').map((r) => [r.key!.toString('hex'), r.value]))
    const first = windowedKey.serialize({ key: 'a', window: { start: 0, end: 10 } }).toString('hex')
    assert.equal(latestByKey.get(first), null, 'emitted window removed from the buffer')
    await driver.close()
  })

  test('property, batched input and a cache of 0 bytes: closing windows read back from the store give the same final results', async () => {
    // cacheMaxBytes 0: every entry leaves the cache between batches, so each closing window is read
    // from the engine, by the load before the batch; a batch of several records closes windows mid-batch.
    const finals = async (records: { key: string; ts: number }[], batch: number, cacheMaxBytes: number | undefined): Promise<string[]> => {
      const b = new StreamsBuilder()
      const grouped = b.stream('in', keyed).groupByKey()
      grouped.windowedBy(TimeWindows.tumbling(20, { graceMs: 5 })).count({ name: 'counts' }).suppress(Suppressed.untilWindowCloses()).toStream().to('final')
      grouped.windowedBy(SessionWindows.withGap(15)).count({ name: 'sessions' }).suppress(Suppressed.untilWindowCloses()).toStream().to('final')
      const driver = await TopologyTestDriver.create(b.build(), cacheMaxBytes === undefined ? {} : { cacheMaxBytes })
      const input = driver.createInputTopic('in', keyed.key, keyed.value)
      const all = [...records, { key: 'z', ts: 10_000 }].map((r) => ({ key: r.key, value: 'x', timestamp: r.ts }))
      for (let i = 0; i < all.length; i += batch) await input.pipeRecords(all.slice(i, i + batch))
      const out = driver.createOutputTopic('final', windowedKey, Serdes.long()).readKeyValues().map(([w, n]) => `${id(w)}=${n}`)
      await driver.close()
      return out
    }
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), ts: fc.integer({ min: 0, max: 300 }) }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        async (records, batch) => {
          const expected = await finals(records, 1, undefined)
          const actual = await finals(records, batch, 0)
          assert.equal(new Set(actual).size, actual.length, 'no window emitted twice')
          assert.deepEqual(actual.sort(), expected.sort())
        },
      ),
      { numRuns: 25 },
    )
  })

  test('restart on the same state: the buffer is rebuilt from its store, emits what had not closed, nothing twice', async () => {
    const b = new StreamsBuilder()
    const grouped = b.stream('in', keyed).groupByKey()
    grouped.windowedBy(TimeWindows.tumbling(10)).count({ name: 'counts' }).suppress(Suppressed.untilWindowCloses({ name: 'final' })).toStream().to('final')
    grouped
      .windowedBy(SessionWindows.withGap(5))
      .count({ name: 'sessions' })
      .suppress(Suppressed.untilWindowCloses({ name: 'sessions-final' }))
      .toStream()
      .to('sessions-final')
    const topology = b.build()
    const stateDir = mkdtempSync(join(tmpdir(), 'suppress-restart-'))
    const read = (d: TopologyTestDriver, topic: string): string[] =>
      d
        .createOutputTopic(topic, windowedKey, Serdes.long())
        .readKeyValues()
        .map(([w, n]) => `${id(w)}=${n}`)
        .sort()
    try {
      // A budget of 0: every flushed entry is evicted, so closing windows come from RocksDB.
      const options = { applicationId: 'app', engine: engines.rocksdb(), stateDir, cacheMaxBytes: 0 }
      let driver = await TopologyTestDriver.create(topology, options)
      let input = driver.createInputTopic('in', keyed.key, keyed.value)
      // 'a'@2 falls inside the session [1, 3]: the session is replaced by itself (dropped, buffered again).
      for (const [key, t] of [['a', 1], ['b', 2], ['a', 3], ['a', 2], ['c', 4], ['a', 12], ['b', 13]] as const) await input.pipe(key, 'x', { timestamp: t })
      assert.deepEqual(read(driver, 'final'), ['a@0-10=3', 'b@0-10=1', 'c@0-10=1'])
      // Closed at end + gap <= 13: [1, 3], [2, 2], [4, 4]; open: a@12, b@13.
      assert.deepEqual(read(driver, 'sessions-final'), ['a@1-3=3', 'b@2-2=1', 'c@4-4=1'])
      await driver.close()
      driver = await TopologyTestDriver.create(topology, options)
      input = driver.createInputTopic('in', keyed.key, keyed.value)
      await input.pipe('z', 'x', { timestamp: 100 })
      assert.deepEqual(read(driver, 'final'), ['a@10-20=1', 'b@10-20=1'])
      assert.deepEqual(read(driver, 'sessions-final'), ['a@12-12=1', 'b@13-13=1'])
      await driver.close()
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  /** Final counts of 10 ms windows per key of 'in' (200 ms grace): every window closes 200 ms of stream time after its end. */
  const finalCounts = (b: StreamsBuilder) =>
    b
      .stream('in', keyed)
      .groupByKey()
      .windowedBy(TimeWindows.tumbling(10, { graceMs: 200 }))
      .count({ name: 'counts' })
      .suppress(Suppressed.untilWindowCloses({ name: 'final' }))
      .toStream()

  test('windows closing one by one through a batch are read from the engine once, before the batch, not per close', async () => {
    const { engine, reads } = readCountingEngine('final-store')
    const b = new StreamsBuilder()
    finalCounts(b).to('final')
    const driver = await TopologyTestDriver.create(b.build(), { engine, cacheMaxBytes: 0 })
    const input = driver.createInputTopic('in', keyed.key, keyed.value)
    // 20 windows, open (they close at end + 200), evicted from the cache after the batch (budget 0).
    await input.pipeRecords(Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: 'x', timestamp: i * 10 })))
    reads.count = 0
    // Each record advances stream time by 10: one window closes per record.
    await input.pipeRecords(Array.from({ length: 20 }, (_, i) => ({ key: 'z', value: 'x', timestamp: 210 + i * 10 })))
    const emitted = driver.createOutputTopic('final', windowedKey, Serdes.long()).readKeyValues()
    assert.deepEqual(
      emitted.map(([w, n]) => `${id(w)}=${n}`),
      Array.from({ length: 20 }, (_, i) => `k${i}@${i * 10}-${i * 10 + 10}=1`),
    )
    assert.equal(reads.count, 1, 'one batched read of the 20 closing windows')
    await driver.close()
  })

  test('the store after suppress, keyed by the source key, is loaded with the batch for every window closing in it: one read, not one per close', async () => {
    const { engine, reads } = readCountingEngine('totals')
    const b = new StreamsBuilder()
    const totals = Stores.keyValue('totals', Serdes.string(), Serdes.long())
    finalCounts(b)
      .process<string, number>(runningTotal, { name: 'running-total', stores: [totals] })
      .to('totals-out', { key: Serdes.string(), value: Serdes.long() })
    const driver = await TopologyTestDriver.create(b.build(), { engine, cacheMaxBytes: 0 })
    const input = driver.createInputTopic('in', keyed.key, keyed.value)
    await input.pipeRecords(Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: 'x', timestamp: i * 10 })))
    reads.count = 0
    // One window (of another key than the batch's) closes per record.
    await input.pipeRecords(Array.from({ length: 20 }, (_, i) => ({ key: 'z', value: 'x', timestamp: 210 + i * 10 })))
    assert.deepEqual(
      driver.createOutputTopic('totals-out', Serdes.string(), Serdes.long()).readKeyValues(),
      Array.from({ length: 20 }, (_, i) => [`k${i}`, 1]),
    )
    assert.equal(reads.count, 1, 'the 20 closing windows\' keys and the batch\'s own, in one batched read')
    await driver.close()
  })

  test('an unbounded buffer holds no values in the heap: 20K open windows grow it alike with 16-byte and 2 KB values', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const b = new StreamsBuilder()
    b.stream('in', keyed)
      .groupByKey()
      .windowedBy(TimeWindows.tumbling(1_000_000))
      .reduce((_, v) => v, { name: 'latest' })
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to('final')
    const topology = b.build()
    const windows = 20_000
    /** Heap growth (MiB) once `windows` windows are open, each holding a value of `length` characters. */
    const heapGrowth = async (length: number): Promise<number> => {
      const stateDir = mkdtempSync(join(tmpdir(), 'suppress-heap-'))
      try {
        const driver = await TopologyTestDriver.create(topology, { engine: engines.rocksdb(), stateDir, cacheMaxBytes: 1024 * 1024 })
        const input = driver.createInputTopic('in', keyed.key, keyed.value)
        gc()
        const before = process.memoryUsage().heapUsed
        for (let i = 0; i < windows; i += 500) {
          // A distinct string per key (not one shared string): what a buffer of values would hold.
          await input.pipeRecords(Array.from({ length: 500 }, (_, j) => ({ key: `k${i + j}`, value: String(i + j).padEnd(length, '.'), timestamp: i + j })))
        }
        gc()
        const grown = (process.memoryUsage().heapUsed - before) / 2 ** 20
        assert.ok(driver.createOutputTopic('final', windowedKey, Serdes.string()).isEmpty(), 'no window closed')
        await driver.close()
        return grown
      } finally {
        rmSync(stateDir, { recursive: true, force: true })
      }
    }
    const small = await heapGrowth(16)
    const large = await heapGrowth(2048)
    // The driver keeps every record it sent (~1.6 KB of heap each, whatever the value's size): compared
    // with itself. Values held by the buffer: 20K x 2 KB = 40 MB more; the record caches are bounded (1 MiB).
    assert.ok(large - small < 10, `the heap grew by ${small.toFixed(1)} MiB with 16-byte values, ${large.toFixed(1)} MiB with 2 KB values`)
  })
})

describe('windowed reduce and aggregate', () => {
  const numbers = { key: Serdes.string(), value: Serdes.long() }

  test('time windows: reduce keeps the max, aggregate builds a typed summary per window', async () => {
    const b = new StreamsBuilder()
    const windowed = b.stream('in', numbers).groupByKey().windowedBy(TimeWindows.tumbling(100))
    windowed.reduce((a, v) => Math.max(a, v), { name: 'max' }).toStream().to('max', { key: windowedKey })
    windowed
      .aggregate(() => ({ n: 0, sum: 0 }), (_k, v, agg) => ({ n: agg.n + 1, sum: agg.sum + v }), {
        name: 'summary',
        value: Serdes.json<{ n: number; sum: number }>(),
      })
      .toStream()
      .mapValues((s) => s.sum / s.n)
      .to('mean', { value: Serdes.double() })
    const driver = await TopologyTestDriver.create(b.build())
    const input = driver.createInputTopic('in', numbers.key, numbers.value)
    await input.pipeRecords([
      { key: 'a', value: 5, timestamp: 10 },
      { key: 'a', value: 9, timestamp: 50 },
      { key: 'a', value: 1, timestamp: 99 },
      { key: 'a', value: 4, timestamp: 100 },
    ])
    assert.deepEqual(latestPerWindow(driver.createOutputTopic('max', windowedKey, Serdes.long()).readKeyValues()), new Map([['a@0-100', 9], ['a@100-200', 4]]))
    assert.deepEqual(latestPerWindow(driver.createOutputTopic('mean', windowedKey, Serdes.double()).readKeyValues()), new Map([['a@0-100', 5], ['a@100-200', 4]]))
    const stored = await driver.readWindowStore<string, number>('max-store')
    assert.deepEqual(stored.map(([w, v]) => [id(w), v]), [['a@0-100', 9], ['a@100-200', 4]])
    await driver.close()
  })

  test('session windows: aggregate merges the aggregates of bridged sessions with the merger; reduce too', async () => {
    const b = new StreamsBuilder()
    const sessions = b.stream('in', numbers).groupByKey().windowedBy(SessionWindows.withGap(10, { graceMs: 100 }))
    sessions
      .aggregate(() => [] as number[], (_k, v, agg) => [...agg, v], (_k, left, right) => [...left, ...right].sort((x, y) => x - y), {
        name: 'values',
        value: Serdes.json<number[]>(),
      })
      .toStream()
      .to('values', { key: windowedKey })
    sessions.reduce((a, v) => a + v, { name: 'sum' }).toStream().to('sums', { key: windowedKey })
    const driver = await TopologyTestDriver.create(b.build())
    const input = driver.createInputTopic('in', numbers.key, numbers.value)
    await input.pipe('a', 1, { timestamp: 0 })
    await input.pipe('a', 3, { timestamp: 20 })
    await input.pipe('a', 2, { timestamp: 10 }) // bridges [0,0] and [20,20]
    const values = driver.createOutputTopic('values', windowedKey, Serdes.json<number[]>()).readKeyValues()
    assert.deepEqual(values.at(-1)!.map((x) => (Array.isArray(x) ? x : id(x as Windowed<string>))), ['a@0-20', [1, 3, 2]])
    const sums = driver.createOutputTopic('sums', windowedKey, Serdes.long()).readKeyValues()
    assert.deepEqual(sums.map(([w, v]) => [id(w), v]), [['a@0-0', 1], ['a@20-20', 3], ['a@0-20', 6]])
    await driver.close()
  })

  test('a record between a closed session and an open one joins only the open one', async () => {
    const b = new StreamsBuilder()
    b.stream('in', numbers).groupByKey().windowedBy(SessionWindows.withGap(10)).reduce((a, v) => a + v, { name: 'sum' }).toStream().to('sums', { key: windowedKey })
    const driver = await TopologyTestDriver.create(b.build())
    const input = driver.createInputTopic('in', numbers.key, numbers.value)
    await input.pipe('a', 1, { timestamp: 0 })
    await input.pipe('a', 3, { timestamp: 20 }) // [0,0] closed at 0 + 10 = 10
    await input.pipe('a', 2, { timestamp: 10 })
    const sums = driver.createOutputTopic('sums', windowedKey, Serdes.long()).readKeyValues()
    assert.deepEqual(sums.map(([w, v]) => [id(w), v]), [['a@0-0', 1], ['a@20-20', 3], ['a@10-20', 5]])
    await driver.close()
  })

  test('re-grouping a windowed table stream repartitions (its key is no longer the source key)', async () => {
    const b = new StreamsBuilder()
    b.stream('in', numbers)
      .groupByKey()
      .windowedBy(TimeWindows.tumbling(10))
      .count({ name: 'per-window' })
      .toStream()
      .groupByKey({ name: 'windows' })
      .count({ name: 'updates-per-window' })
      .toStream()
      .to('updates', { key: windowedKey, value: Serdes.long() })
    const driver = await TopologyTestDriver.create(b.build(), { applicationId: 'app' })
    const input = driver.createInputTopic('in', numbers.key, numbers.value)
    await input.pipeRecords([1, 2, 3].map((t) => ({ key: 'a', value: 1, timestamp: t })))
    assert.equal(driver.records('app-windows-repartition').length, 3)
    assert.deepEqual(driver.createOutputTopic('updates', windowedKey, Serdes.long()).readKeyValues().map(([w, c]) => [id(w), c]).at(-1), ['a@0-10', 3])
    await driver.close()
  })
})
