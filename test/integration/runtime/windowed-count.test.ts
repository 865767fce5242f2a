/**
 * The quick-start topology (examples/tenant-request-counts.ts) end to end on the real broker: one
 * instance, two instances sharing the partitions, and a second instance joining mid-stream.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka } from 'kafkajs'
import tenantRequestCounts from '../../../examples/tenant-request-counts.js'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { kafkaBrokers, testKafka, uniqueTopic } from '../../kafka.js'
import { createTopicPair, produceRequests, readCounts, sameCounts, sorted, TempStateDirs } from './request-fixtures.js'

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()
const newStateDir = (): string => stateDirs.create()

before(async () => {
  kafka = testKafka('runtime-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  await admin.disconnect()
  stateDirs.removeAll()
})

const topics = (partitions: number): Promise<{ input: string; output: string }> => createTopicPair(admin, partitions)

function instance(t: { input: string; output: string }, applicationId: string): SentinelStreams {
  process.env.INPUT_TOPIC = t.input
  process.env.OUTPUT_TOPIC = t.output
  return new SentinelStreams(tenantRequestCounts(), { applicationId, brokers: kafkaBrokers(), stateDir: newStateDir(), commitIntervalMs: 200 }, { logger: false })
}

describe('SentinelStreams on Kafka', () => {
  test('a windowed count topology produces the expected counts end to end', async () => {
    const t = await topics(3)
    const expected = await produceRequests(kafka, t.input, 0, 600, 7)
    const streams = instance(t, uniqueTopic('wc-one'))
    await streams.start()
    try {
      await streams.waitForState('running')
      assert.deepEqual(streams.tasks().map((task) => task.id).sort(), ['0_0', '0_1', '0_2'])
      const { latest } = await readCounts(kafka, t.output, sameCounts(expected))
      assert.deepEqual(sorted(latest), sorted(expected))
    } finally {
      await streams.close()
    }
    assert.equal(streams.state, 'not-running')
  })

  test('two instances share the partitions and produce the same results as one', async () => {
    const t = await topics(4)
    const applicationId = uniqueTopic('wc-two')
    const a = instance(t, applicationId)
    const b = instance(t, applicationId)
    await Promise.all([a.start(), b.start()])
    try {
      await Promise.all([a.waitForState('running'), b.waitForState('running')])
      const expected = await produceRequests(kafka, t.input, 0, 800, 9)
      const { latest } = await readCounts(kafka, t.output, sameCounts(expected))
      assert.deepEqual(sorted(latest), sorted(expected))
      const owned = [a.tasks().length, b.tasks().length]
      assert.deepEqual(owned, [2, 2], 'four tasks, balanced over two instances')
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  test('scale-out: a second instance joins mid-stream, tasks and their state move, counts stay right', async () => {
    const t = await topics(4)
    const applicationId = uniqueTopic('wc-scale')
    const a = instance(t, applicationId)
    await a.start()
    const b = instance(t, applicationId)
    try {
      await a.waitForState('running')
      const expected = await produceRequests(kafka, t.input, 0, 600, 8)
      await readCounts(kafka, t.output, sameCounts(expected))
      assert.equal(a.tasks().length, 4)

      await b.start()
      await b.waitForState('running')
      await a.waitForState('running')
      // Windows still open when the tasks moved keep counting from the moved state.
      await produceRequests(kafka, t.input, 600, 600, 8, expected)
      const { latest } = await readCounts(kafka, t.output, sameCounts(expected))
      assert.deepEqual(sorted(latest), sorted(expected))
      assert.deepEqual([a.tasks().length, b.tasks().length], [2, 2])
      assert.ok(b.tasks().every((task) => task.restored > 0), `moved tasks restored their state from the changelog: ${JSON.stringify(b.tasks())}`)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
