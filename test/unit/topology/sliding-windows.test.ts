/**
 * Sliding windows through the driver. The expected outputs of the first tests are those of Kafka
 * Streams' own tests (KStreamSlidingWindowAggregateTest, SlidingWindowedKStreamImplTest, 3.9), which
 * compare, per window start, the set of (aggregate, timestamp) updates forwarded.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import { engines, type Windowed } from '../../../state/index.js'
import { SlidingWindows, StreamsBuilder, Suppressed } from '../../../topology/index.js'
import { slidingWindowCounts } from '../../sliding-window-model.js'

const keyed = { key: Serdes.string(), value: Serdes.string() }
const windowedKey = Serdes.windowed(Serdes.string())

interface Update {
  key: Windowed<string>
  value: string
  timestamp: number
}

/** Kafka Streams' MockInitializer.STRING_INIT and MockAggregator.TOSTRING_ADDER. */
async function aggregateDriver(windows: SlidingWindows, options: { suppress?: boolean; engine?: 'memory' | 'rocksdb' } = {}) {
  const b = new StreamsBuilder()
  const table = b
    .stream('in', keyed)
    .groupByKey()
    .windowedBy(windows)
    .aggregate(() => '0', (_k, v, agg) => `${agg}+${v}`, { name: 'agg', value: Serdes.string() })
  ;(options.suppress ? table.suppress(Suppressed.untilWindowCloses({ name: 'final' })) : table).toStream().to('out')
  const driver = await TopologyTestDriver.create(b.build(), { engine: options.engine === 'rocksdb' ? engines.rocksdb() : engines.memory() })
  const input = driver.createInputTopic('in', keyed.key, keyed.value)
  const output = driver.createOutputTopic('out', windowedKey, Serdes.string())
  const pipe = async (records: [string, string, number][]): Promise<void> => {
    for (const [key, value, timestamp] of records) await input.pipe(key, value, { timestamp })
  }
  const read = (): Update[] => output.readRecords().map((r) => ({ key: r.key!, value: r.value!, timestamp: r.timestamp }))
  return { driver, pipe, read }
}

/** Kafka Streams' gatherOutput: per window start, the set of "value@timestamp" forwarded. */
function byStart(updates: Update[]): Record<number, string[]> {
  const out: Record<number, Set<string>> = {}
  for (const u of updates) (out[u.key.window.start] ??= new Set()).add(`${u.value}@${u.timestamp}`)
  return Object.fromEntries(Object.entries(out).map(([start, set]) => [start, [...set].sort()]))
}

const sorted = (o: Record<number, string[]>): Record<number, string[]> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [...v].sort()]))

describe('sliding windows: Kafka Streams test cases', () => {
  for (const engine of ['memory', 'rocksdb'] as const) {
    test(`testAggregateSmallInput (time difference 10, grace 5), ${engine} engine`, async () => {
      const { driver, pipe, read } = await aggregateDriver(SlidingWindows.ofTimeDifferenceAndGrace(10, 5), { engine })
      await pipe([['A', '1', 10], ['A', '2', 10], ['A', '3', 14], ['A', '4', 15], ['A', '5', 20], ['A', '6', 22], ['A', '7', 30]])
      assert.deepEqual(
        byStart(read()),
        sorted({
          0: ['0+1@10', '0+1+2@10'],
          4: ['0+1+2+3@14'],
          5: ['0+1+2+3+4@15'],
          10: ['0+1+2+3+4+5@20'],
          11: ['0+3@14', '0+3+4@15', '0+3+4+5@20'],
          12: ['0+3+4+5+6@22'],
          15: ['0+4@15', '0+4+5@20', '0+4+5+6@22'],
          16: ['0+5@20', '0+5+6@22'],
          20: ['0+5+6+7@30'],
          21: ['0+6@22', '0+6+7@30'],
          23: ['0+7@30'],
        }),
      )
      await driver.close()
    })
  }

  test('testAggregateSmallInput with suppress(untilWindowCloses): the emit-final results', async () => {
    const { driver, pipe, read } = await aggregateDriver(SlidingWindows.ofTimeDifferenceAndGrace(10, 5), { suppress: true })
    await pipe([['A', '1', 10], ['A', '2', 10], ['A', '3', 14], ['A', '4', 15], ['A', '5', 20], ['A', '6', 22], ['A', '7', 30]])
    assert.deepEqual(
      byStart(read()),
      sorted({ 0: ['0+1+2@10'], 4: ['0+1+2+3@14'], 5: ['0+1+2+3+4@15'], 10: ['0+1+2+3+4+5@20'], 11: ['0+3+4+5@20'], 12: ['0+3+4+5+6@22'] }),
    )
    await driver.close()
  })

  test('testEarlyRecordsSmallInput (records before the time difference share [0, d]; out of order)', async () => {
    const { driver, pipe, read } = await aggregateDriver(SlidingWindows.ofTimeDifferenceWithNoGrace(50))
    await pipe([['A', '1', 0], ['A', '2', 5], ['A', '3', 6], ['A', '4', 3], ['A', '5', 13], ['A', '6', 10], ['A', '7', 70]])
    assert.deepEqual(
      byStart(read()),
      sorted({
        0: ['0+1@0', '0+1+2@5', '0+1+2+3@6', '0+1+2+3+4@6', '0+1+2+3+4+5@13', '0+1+2+3+4+5+6@13'],
        1: ['0+2@5', '0+2+3@6', '0+2+3+4@6', '0+2+3+4+5@13', '0+2+3+4+5+6@13'],
        4: ['0+2+3@6', '0+2+3+5@13', '0+2+3+5+6@13'],
        6: ['0+3@6', '0+3+5@13', '0+3+5+6@13'],
        7: ['0+5@13', '0+5+6@13'],
        11: ['0+5@13'],
        20: ['0+7@70'],
      }),
    )
    await driver.close()
  })

  test('shouldLogAndMeterWhenSkippingExpiredWindowByGrace: records whose windows all closed are late', async () => {
    const { driver, pipe, read } = await aggregateDriver(SlidingWindows.ofTimeDifferenceAndGrace(10, 90))
    await pipe([
      ['k', '100', 200], ['k', '0', 100], ['k', '1', 101], ['k', '2', 102], ['k', '3', 103],
      ['k', '4', 104], ['k', '5', 105], ['k', '6', 15], ['k', '101', 300], ['k', '102', 400],
    ])
    assert.deepEqual(read(), [
      { key: { key: 'k', window: { start: 190, end: 200 } }, value: '0+100', timestamp: 200 },
      { key: { key: 'k', window: { start: 290, end: 300 } }, value: '0+101', timestamp: 300 },
      { key: { key: 'k', window: { start: 390, end: 400 } }, value: '0+102', timestamp: 400 },
    ])
    assert.equal(driver.metrics().late, 7)
    await driver.close()
  })

  test('SlidingWindowedKStreamImplTest: count and reduce, latest value per window and the store', async () => {
    const b = new StreamsBuilder()
    const grouped = b.stream('in', keyed).groupByKey()
    const windows = SlidingWindows.ofTimeDifferenceAndGrace(100, 1000)
    grouped.windowedBy(windows).count({ name: 'count' }).toStream().to('counts', { key: windowedKey, value: Serdes.long() })
    grouped.windowedBy(windows).reduce((a, v) => `${a}+${v}`, { name: 'reduced' }).toStream().to('reduced', { key: windowedKey, value: Serdes.string() })
    const driver = await TopologyTestDriver.create(b.build())
    const input = driver.createInputTopic('in', keyed.key, keyed.value)
    for (const [key, value, timestamp] of [['1', '1', 100], ['1', '2', 150], ['1', '3', 500], ['2', '10', 200], ['2', '20', 150]] as const) {
      await input.pipe(key, value, { timestamp })
    }
    const latest = <V>(records: { key: Windowed<string> | null; value: V | null; timestamp: number }[]): Record<string, string> =>
      Object.fromEntries(records.map((r) => [`${r.key!.key}@${r.key!.window.start}/${r.key!.window.end}`, `${String(r.value)}@${r.timestamp}`]))
    const expectedWindows = ['1@0/100', '1@50/150', '1@101/201', '1@400/500', '2@50/150', '2@100/200', '2@151/251']
    const counts = latest(driver.createOutputTopic('counts', windowedKey, Serdes.long()).readRecords())
    assert.deepEqual(counts, Object.fromEntries(expectedWindows.map((w, i) => [w, ['1@100', '2@150', '1@150', '1@500', '1@150', '2@200', '1@200'][i]])))
    const reduced = latest(driver.createOutputTopic('reduced', windowedKey, Serdes.string()).readRecords())
    assert.deepEqual(reduced, Object.fromEntries(expectedWindows.map((w, i) => [w, ['1@100', '1+2@150', '2@150', '3@500', '20@150', '10+20@200', '10@200'][i]])))
    // The store holds each window's aggregate and its latest record time (Kafka Streams' timestamped window store).
    const store = (await driver.readWindowStore<string, { value: number; timestamp: number }>('count-store')).map(
      ([w, v]) => `${w.key}@${w.window.start}/${w.window.end}=${v.value}@${v.timestamp}`,
    )
    assert.deepEqual(store.sort(), expectedWindows.map((w) => `${w}=${counts[w]}`).sort())
    await driver.close()
  })
})

describe('sliding windows: properties', () => {
  test('in any arrival order, within grace, each window ends up counting exactly the records in it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: 400 }) }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 60 }),
        fc.boolean(),
        async (records, d, tinyCache) => {
          const b = new StreamsBuilder()
          // Grace beyond the time range: no record is late.
          b.stream('in', keyed).groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(d, 10_000)).count({ name: 'c' }).toStream().to('out')
          // A tiny record cache flushes and evicts after every batch: windows are then read back from the engine.
          const driver = await TopologyTestDriver.create(b.build(), tinyCache ? { cacheMaxBytes: 500 } : {})
          const input = driver.createInputTopic('in', keyed.key, keyed.value)
          // Several batches, so windows are read back from the store across batches too.
          for (let i = 0; i < records.length; i += 7) {
            await input.pipeRecords(records.slice(i, i + 7).map((r) => ({ key: r.key, value: 'x', timestamp: r.ts })))
          }
          const latest = new Map(driver.createOutputTopic('out', windowedKey, Serdes.long()).readKeyValues().map(([w, n]) => [`${w.key}@${w.window.start}`, n]))
          await driver.close()
          assert.deepEqual(new Map([...latest].sort()), new Map([...slidingWindowCounts(records, d)].sort()))
        },
      ),
      { numRuns: 60 },
    )
  })
})

test('describe() shows the sliding aggregation and its window store in Kafka Streams layout', () => {
  const b = new StreamsBuilder()
  b.stream('in', keyed).groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(120_000, 5_000)).count({ name: 'bursts' }).toStream().to('out')
  const text = b.build().describe()
  assert.match(text, /Processor: bursts \(stores: \[bursts-store\]\)/)
  assert.match(text, /bursts-store \(window, key=string, value=timestamped\(long\), retention=245000ms, changelog bursts-store-changelog\)/)
})
