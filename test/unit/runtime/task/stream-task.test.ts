import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InMemoryRecordSink, type OutputRecord, RecordCollector, StreamTask, type SourceRecord } from '../../../../runtime/task/index.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines, type StorageEngine } from '../../../../state/index.js'
import { StreamsBuilder, Suppressed, TimeWindows, type Topology } from '../../../../topology/index.js'

function windowedCount(): Topology {
  const b = new StreamsBuilder()
  b.stream('in', { key: Serdes.string(), value: Serdes.string() })
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(10))
    .count({ name: 'counts' })
    .suppress(Suppressed.untilWindowCloses({ name: 'final' }))
    .toStream()
    .to('out')
  return b.build()
}

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

function newTask(topology: Topology, engine: StorageEngine, sent: OutputRecord[]): StreamTask {
  return new StreamTask({
    topology,
    plan: topology.plan('app'),
    subtopology: 0,
    partition: 0,
    collector: new RecordCollector(new InMemoryRecordSink((r) => sent.push(r))),
    state: { engine, stateDir: '/tmp/unused' },
  })
}

const windowed = Serdes.windowed(Serdes.string())
const finals = (sent: OutputRecord[]) =>
  sent.filter((r) => r.topic === 'out').map((r) => {
    const w = windowed.deserialize(r.key!)
    return `${w.key}@${w.window.start}=${Serdes.long().deserialize(r.value!)}`
  })

describe('StreamTask (the executor the runtime drives)', () => {
  test('life cycle: openStores, start, process batches, flush writes changelogs (through the collector), close', async () => {
    const topology = windowedCount()
    const sent: OutputRecord[] = []
    const logged = () => sent.filter((r) => r.topic.endsWith('-changelog')).map((r) => r.topic)
    const task = newTask(topology, engines.memory(), sent)
    assert.equal(task.id, '0_0')
    await task.openStores()
    assert.deepEqual([...task.stores.keys()], ['counts-store', 'final-store'])
    await task.start()
    await task.process([record('a', 1), record('a', 2), record('b', 5)])
    assert.equal(task.streamTime, 5)
    assert.deepEqual(logged(), [], 'nothing logged before flush')
    await task.flush()
    assert.deepEqual([...new Set(logged())].sort(), ['app-counts-store-changelog', 'app-final-store-changelog'])
    await task.process([record('a', 10)])
    assert.deepEqual(finals(sent), ['a@0=2', 'b@0=1'])
    assert.equal(task.metrics.processed, 4)
    await task.close()
    await assert.rejects(task.process([record('a', 11)]), /task 0_0 is closed/)
  })

  test('restoreStreamTime: a restarted task judges late records against the time it had reached', async () => {
    const topology = windowedCount()
    const sent: OutputRecord[] = []
    const task = newTask(topology, engines.memory(), sent)
    await task.start()
    task.restoreStreamTime(100)
    await task.process([record('a', 5)]) // window [0,10) closed long ago
    assert.equal(task.metrics.late, 1)
    await task.process([record('a', 101)])
    assert.deepEqual(finals(sent), [])

    const fresh = newTask(topology, engines.memory(), [])
    await fresh.start()
    await fresh.process([record('a', 5)])
    assert.equal(fresh.metrics.late, 0, 'without it, the same record would be accepted')
    await assert.rejects(async () => fresh.restoreStreamTime(200), /must be called before processing/)
  })
})

describe('the driver on a disk engine', () => {
  test('the same topology gives the same results on RocksDB', async () => {
    const { TopologyTestDriver } = await import('../../../../runtime/test-driver.js')
    const results: string[][] = []
    for (const engine of [engines.memory(), engines.rocksdb()]) {
      const driver = await TopologyTestDriver.create(windowedCount(), { engine })
      const input = driver.createInputTopic('in', Serdes.string(), Serdes.string())
      await input.pipeRecords([1, 2, 3, 12, 25].map((t, i) => ({ key: i % 2 ? 'a' : 'b', value: 'x', timestamp: t })))
      results.push(driver.createOutputTopic('out', windowed, Serdes.long()).readKeyValues().map(([w, c]) => `${w.key}@${w.window.start}=${c}`))
      await driver.close()
    }
    assert.deepEqual(results[0], ['b@0=2', 'a@0=1', 'a@10=1'])
    assert.deepEqual(results[1], results[0])
  })
})
