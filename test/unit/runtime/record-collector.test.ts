import { test } from 'node:test'
import assert from 'node:assert/strict'
import { commitTasks, type CommittableTask } from '../../../runtime/kafka/commit.js'
import { type AcknowledgedOffset, type OutputRecord, RecordCollector, type RecordSink, StreamTask, type SourceRecord } from '../../../runtime/task/index.js'
import { Serdes } from '../../../schemas/index.js'
import { engines } from '../../../state/index.js'
import { StreamsBuilder, type Topology } from '../../../topology/index.js'

/** A sink whose every write is one round trip: counts them, and acknowledges after a few ms. */
class CountingSink implements RecordSink {
  readonly writes: OutputRecord[][] = []
  private readonly offsets = new Map<string, number>()
  concurrent = 0
  maxConcurrent = 0
  failNext = false
  async write(records: readonly OutputRecord[]): Promise<readonly AcknowledgedOffset[]> {
    this.concurrent++
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent)
    await new Promise((r) => setTimeout(r, 3))
    this.concurrent--
    if (this.failNext) {
      this.failNext = false
      throw new Error('broker down')
    }
    this.writes.push([...records])
    const acks = new Map<string, AcknowledgedOffset>()
    for (const r of records) {
      if (r.partition === undefined) continue
      const key = `${r.topic}:${r.partition}`
      const next = (this.offsets.get(key) ?? 0) + 1
      this.offsets.set(key, next)
      acks.set(key, { topic: r.topic, partition: r.partition, nextOffset: next })
    }
    return [...acks.values()]
  }
}

const out = (topic: string, value: string, partition?: number): OutputRecord => ({
  topic,
  key: Buffer.from('k'),
  value: Buffer.from(value),
  timestamp: 1,
  headers: {},
  ...(partition === undefined ? {} : { partition }),
})

test('sends are chained, never concurrent, keep their order, and report acknowledged offsets per partition', async () => {
  const sink = new CountingSink()
  const collector = new RecordCollector(sink)
  for (let i = 0; i < 5; i++) {
    collector.send(out('app-s-changelog', `v${i}`, 3))
    collector.send(out('alerts', `a${i}`))
    collector.dispatch()
  }
  assert.equal(collector.unacknowledged, 10)
  await collector.flush()
  assert.equal(collector.unacknowledged, 0)
  assert.equal(sink.maxConcurrent, 1, 'one chain of sends')
  assert.deepEqual(
    sink.writes.flat().filter((r) => r.topic === 'alerts').map((r) => String(r.value)),
    ['a0', 'a1', 'a2', 'a3', 'a4'],
  )
  assert.equal(collector.acknowledgedOffset('app-s-changelog', 3), 5)
  assert.equal(collector.acknowledgedOffset('alerts', 0), undefined, 'records left to the partitioner are not checkpointed')
})

test('a failed send is rethrown by the next flush, not lost, and only once', async () => {
  const sink = new CountingSink()
  const collector = new RecordCollector(sink)
  sink.failNext = true
  collector.send(out('alerts', 'x'))
  await assert.rejects(collector.flush(), /producing records failed: broker down/)
  collector.send(out('alerts', 'y'))
  await collector.flush()
})

/** Six logged stores in one sub-topology: six counts of the same stream. */
function sixCounts(): Topology {
  const b = new StreamsBuilder()
  const s = b.stream('in', { key: Serdes.string(), value: Serdes.string() })
  for (let i = 1; i <= 6; i++) s.groupByKey().count({ name: `count${i}` })
  return b.build()
}

async function sixStoreTask(sink: RecordSink): Promise<StreamTask> {
  const topology = sixCounts()
  const task = new StreamTask({
    topology,
    plan: topology.plan('app'),
    subtopology: 0,
    partition: 0,
    collector: new RecordCollector(sink),
    state: { engine: engines.memory(), stateDir: '/tmp/unused' },
  })
  await task.start()
  const records: SourceRecord[] = ['a', 'b', 'c'].map((key, i) => ({ topic: 'in', partition: 0, offset: String(i), key: Buffer.from(key), value: Buffer.from('x'), timestamp: i, headers: {} }))
  await task.process(records)
  return task
}

test('a commit with 6 logged stores waits for one round of acknowledgements, not six', async () => {
  const sink = new CountingSink()
  const task = await sixStoreTask(sink)
  assert.equal(task.stores.size, 6)
  const before = sink.writes.length
  const committable: CommittableTask = {
    id: task.id,
    pendingOffsets: () => [{ topic: 'in', partition: 0, offset: '3', metadata: '' }],
    prepareCommit: () => task.prepareCommit(),
    flushState: () => task.flushState(),
    commitTransaction: async () => undefined,
    writeCheckpoint: async () => undefined,
    markCommitted: () => undefined,
  }
  const committedOffsets: string[] = []
  const { committed, failed } = await commitTasks([committable], {
    groupId: 'app',
    exactlyOnce: false,
    commitOffsets: async (offsets) => void committedOffsets.push(...offsets.map((o) => `${o.topic}:${o.offset}`)),
    writeCheckpoints: true,
  })
  assert.deepEqual(failed, [])
  assert.equal(committed.length, 1)
  assert.deepEqual(committedOffsets, ['in:3'])
  const rounds = sink.writes.slice(before)
  assert.equal(rounds.length, 1, `one send for all stores, got ${rounds.length}`)
  assert.deepEqual(
    [...new Set(rounds[0]!.map((r) => r.topic))].sort(),
    [1, 2, 3, 4, 5, 6].map((i) => `app-count${i}-store-changelog`),
  )
  await task.close()
})

test('(the test above can fail) stores flushed one after another wait for six rounds', async () => {
  const sink = new CountingSink()
  const task = await sixStoreTask(sink)
  const before = sink.writes.length
  for (const store of task.stores.values()) await store.flush()
  assert.equal(sink.writes.length - before, 6)
  await task.close()
})

test('discard drops the writes queued behind the one in flight, and settled resolves once that one is over (chaos F14)', async () => {
  const sink = new CountingSink()
  const collector = new RecordCollector(sink)
  collector.send(out('app-s-changelog', 'in-flight', 0))
  collector.dispatch()
  collector.send(out('app-s-changelog', 'queued', 0))
  collector.dispatch()
  assert.equal(sink.concurrent, 1, 'the first write is in flight')
  collector.discard()
  assert.equal(collector.open, false)
  collector.send(out('app-s-changelog', 'after', 0))
  collector.dispatch()
  await collector.settled()
  assert.equal(sink.concurrent, 0, 'nothing in flight once settled')
  assert.deepEqual(
    sink.writes.flat().map((r) => String(r.value)),
    ['in-flight'],
    'only the write already in flight reached the sink',
  )
})

test('a flush after discard fails, so a store never writes locally what the changelog did not get', async () => {
  const collector = new RecordCollector(new CountingSink())
  collector.send(out('app-s-changelog', 'v1', 0))
  collector.discard()
  await assert.rejects(collector.flush(), /abandoned/)
})
