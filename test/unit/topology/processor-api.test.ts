import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import type { KeyValueStore, Windowed } from '../../../state/index.js'
import {
  type Processor,
  type ProcessorContext,
  Stores,
  StreamsBuilder,
  type StreamRecord,
  Suppressed,
  TimeWindows,
} from '../../../topology/index.js'

const totals = Stores.keyValue('totals', Serdes.string(), Serdes.long())

/** Sums values per key; a stream-time punctuator emits all totals every 10 ms of event time. */
class RunningTotal implements Processor<string, number, string, number> {
  private context!: ProcessorContext<string, number>
  private store!: KeyValueStore<string, number>
  init(context: ProcessorContext<string, number>): void {
    this.context = context
    this.store = context.getStateStore(totals)
    context.schedule(10, 'stream-time', async (time) => {
      for await (const [key, total] of this.store.all()) this.context.forward({ key: `${key}@${time}`, value: total, timestamp: time, headers: {} })
    })
  }
  process(record: StreamRecord<string, number>): void {
    const total = (this.store.get(record.key) ?? 0) + record.value
    this.store.put(record.key, total)
    const meta = this.context.recordMetadata()
    this.context.forward({ ...record, value: total, headers: { ...record.headers, offset: meta?.offset ?? '?' } })
  }
}

describe('Processor API', () => {
  test('a custom processor with a store: synchronous reads of prefetched keys, a changelog, stream-time punctuation', async () => {
    const b = new StreamsBuilder()
    b.stream('numbers', { key: Serdes.string(), value: Serdes.long() })
      .process(() => new RunningTotal(), { name: 'running-total', stores: [totals] })
      .to('totals', { key: Serdes.string(), value: Serdes.long() })
    const driver = await TopologyTestDriver.create(b.build(), { applicationId: 'app' })
    const input = driver.createInputTopic('numbers', Serdes.string(), Serdes.long())
    const output = driver.createOutputTopic('totals', Serdes.string(), Serdes.long())

    await input.pipe('a', 1, { timestamp: 0 }) // first record: the punctuator fires at stream time 0 (after processing)
    assert.deepEqual(output.readKeyValues(), [['a', 1], ['a@0', 1]])
    await input.pipeRecords([
      { key: 'a', value: 2, timestamp: 5 },
      { key: 'b', value: 7, timestamp: 9 },
    ])
    assert.deepEqual(output.readKeyValues(), [['a', 3], ['b', 7]], 'stream time 9 < 0 + 10: no punctuation')
    await input.pipe('b', 1, { timestamp: 10 })
    assert.deepEqual(output.readKeyValues(), [['b', 8], ['a@10', 3], ['b@10', 8]])
    assert.deepEqual(await driver.readKeyValueStore('totals'), [['a', 3], ['b', 8]])
    const changelog = driver.createOutputTopic('app-totals-changelog', Serdes.string(), Serdes.long()).readKeyValues()
    assert.deepEqual(changelog.at(-1), ['b', 8])
    await driver.close()
  })

  test('record metadata: the source offset is visible to the processor', async () => {
    const b = new StreamsBuilder()
    b.stream('numbers', { key: Serdes.string(), value: Serdes.long() })
      .process(() => new RunningTotal(), { stores: [totals] })
      .to('totals', { key: Serdes.string(), value: Serdes.long() })
    const driver = await TopologyTestDriver.create(b.build())
    const input = driver.createInputTopic('numbers', Serdes.string(), Serdes.long())
    await input.pipe('a', 1, { timestamp: 100 })
    await input.pipe('a', 1, { timestamp: 101 })
    const offsets = driver.createOutputTopic('totals', Serdes.string(), Serdes.long()).readRecords().filter((r) => r.key === 'a').map((r) => String(r.headers.offset))
    assert.deepEqual(offsets, ['0', '1'])
    await driver.close()
  })

  test('wall-clock punctuators fire as the driver clock advances', async () => {
    const fired: number[] = []
    const b = new StreamsBuilder()
    b.stream('numbers', { key: Serdes.string(), value: Serdes.long() }).process(() => ({
      init(context: ProcessorContext) {
        const handle = context.schedule(1000, 'wall-clock', (now) => {
          fired.push(now)
          if (fired.length === 3) handle.cancel()
        })
      },
      process() {},
    }))
    const driver = await TopologyTestDriver.create(b.build(), { startWallClockMs: 50_000 })
    await driver.advanceWallClockTime(999)
    assert.deepEqual(fired, [])
    await driver.advanceWallClockTime(1)
    await driver.advanceWallClockTime(2500)
    await driver.advanceWallClockTime(1000)
    await driver.advanceWallClockTime(5000)
    assert.deepEqual(fired, [51_000, 53_500, 54_500], 'at most once per advance; cancelled after the third')
    await driver.close()
  })

  test('a processor asking for a store it is not connected to gets an error naming the fix', async () => {
    const b = new StreamsBuilder()
    b.addStateStore(Stores.keyValue('other', Serdes.string(), Serdes.long()))
    b.stream('numbers', { key: Serdes.string(), value: Serdes.long() }).process(() => ({
      init(context: ProcessorContext) {
        context.getStateStore('other')
      },
      process() {},
    }), { name: 'greedy' })
    await assert.rejects(TopologyTestDriver.create(b.build()), /processor 'greedy' asked for store 'other', which is not connected to it; list it in process/)
  })

  test('a store prefetched by key after a key change needs a repartition, and works through one', async () => {
    const rekeyed = () => {
      const b = new StreamsBuilder()
      const s = b.stream('numbers', { key: Serdes.string(), value: Serdes.long() }).selectKey((k) => k.toUpperCase())
      return { b, s }
    }
    const bad = rekeyed()
    assert.throws(
      () => bad.s.process(() => new RunningTotal(), { name: 'upper-total', stores: [totals] }),
      /process\('upper-total'\): the key serde is unknown .*; call \.repartition\(\{ key: Serdes\.<type>\(\) \}\) before process\('upper-total'\)/,
    )
    const good = rekeyed()
    good.s
      .repartition({ name: 'upper', key: Serdes.string() })
      .process(() => new RunningTotal(), { name: 'upper-total', stores: [totals] })
      .to('totals', { key: Serdes.string(), value: Serdes.long() })
    const driver = await TopologyTestDriver.create(good.b.build(), { partitions: { numbers: 2 } })
    const input = driver.createInputTopic('numbers', Serdes.string(), Serdes.long())
    await input.pipeRecords([
      { key: 'a', value: 1, timestamp: 1 },
      { key: 'A', value: 2, timestamp: 2 },
    ])
    assert.deepEqual(await driver.readKeyValueStore('totals'), [['A', 3]])
    await driver.close()
  })
})

describe('processors after suppress (the detector pattern)', () => {
  const baselines = Stores.keyValue('baselines', Serdes.string(), Serdes.json<{ windows: number; total: number }>())

  /** Compares each final window count with the mean of the key's previous windows. */
  class VersusBaseline implements Processor<Windowed<string>, number, string, string> {
    private context!: ProcessorContext<string, string>
    private store!: KeyValueStore<string, { windows: number; total: number }>
    init(context: ProcessorContext<string, string>): void {
      this.context = context
      this.store = context.getStateStore(baselines)
    }
    process(record: StreamRecord<Windowed<string>, number>): void {
      const key = record.key.key
      const baseline = this.store.get(key) ?? { windows: 0, total: 0 }
      const mean = baseline.windows === 0 ? null : baseline.total / baseline.windows
      this.store.put(key, { windows: baseline.windows + 1, total: baseline.total + record.value })
      this.context.forward({ key, value: `${record.key.window.start}:${record.value}/${mean ?? '-'}`, timestamp: record.timestamp, headers: {} })
    }
  }

  test('a store keyed by the source key is readable for windows emitted by any later record, without a repartition', async () => {
    const b = new StreamsBuilder()
    b.stream('calls', { key: Serdes.string(), value: Serdes.string() })
      .groupByKey()
      .windowedBy(TimeWindows.tumbling(10))
      .count({ name: 'per-window' })
      .suppress(Suppressed.untilWindowCloses({ name: 'final' }))
      .toStream()
      .process(() => new VersusBaseline(), { name: 'versus-baseline', stores: [baselines] })
      .to('verdicts', { key: Serdes.string(), value: Serdes.string() })
    const topology = b.build()
    assert.equal(topology.plan('app').internalTopics.filter((t) => t.role === 'repartition').length, 0)
    // A 1-byte cache evicts every clean entry between batches: nothing survives from earlier batches.
    const driver = await TopologyTestDriver.create(topology, { cacheMaxBytes: 1 })
    const input = driver.createInputTopic('calls', Serdes.string(), Serdes.string())
    await input.pipeRecords([
      { key: 'a', value: '', timestamp: 1 },
      { key: 'a', value: '', timestamp: 2 },
      { key: 'b', value: '', timestamp: 3 },
    ])
    await input.pipe('a', '', { timestamp: 12 })
    // Only 'c' is in this batch: the windows of 'a' and 'b' it closes are emitted, and their
    // baselines read, although neither key was prefetched for the batch.
    await input.pipe('c', '', { timestamp: 25 })
    await input.pipe('c', '', { timestamp: 40 })
    assert.deepEqual(driver.createOutputTopic('verdicts', Serdes.string(), Serdes.string()).readKeyValues(), [
      ['a', '0:2/-'],
      ['b', '0:1/-'],
      ['a', '10:1/2'],
      ['c', '20:1/-'],
    ])
    await driver.close()
  })
})
