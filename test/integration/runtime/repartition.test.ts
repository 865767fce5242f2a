/**
 * A `groupBy` that changes the key repartitions through an internal topic; with two instances the
 * records of one new key come from every input partition, so they cross instances over Kafka.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka } from 'kafkajs'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder } from '../../../topology/index.js'
import { createTopicsAndWait, kafkaBrokers, testKafka, uniqueTopic } from '../../kafka.js'
import { readCounts, sameCounts, sorted, TempStateDirs } from './request-fixtures.js'

interface Request {
  tenant_id: string
  model: string
}

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()

before(async () => {
  kafka = testKafka('repartition-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  await admin.disconnect()
  stateDirs.removeAll()
})

test('groupBy repartitions by the new key and counts right across two instances', async () => {
  const input = uniqueTopic('by-tenant')
  const output = uniqueTopic('per-model')
  await createTopicsAndWait(admin, [{ topic: input, numPartitions: 4 }, { topic: output, numPartitions: 2 }])
  const applicationId = uniqueTopic('regroup')
  const topology = (): ReturnType<StreamsBuilder['build']> => {
    const builder = new StreamsBuilder()
    builder
      .stream(input, { key: Serdes.string(), value: Serdes.json<Request>() })
      .groupBy((_tenant, request) => request.model, { key: Serdes.string(), name: 'by-model' })
      .count({ name: 'requests-per-model' })
      .toStream()
      .mapValues((count) => String(count))
      .to(output, { key: Serdes.string(), value: Serdes.string() })
    return builder.build()
  }
  const instance = (): SentinelStreams => {
    return new SentinelStreams(topology(), { applicationId, brokers: kafkaBrokers(), stateDir: stateDirs.create(), commitIntervalMs: 200 }, { logger: false })
  }
  const a = instance()
  const b = instance()
  await Promise.all([a.start(), b.start()])
  try {
    await Promise.all([a.waitForState('running'), b.waitForState('running')])
    const models = ['gpt-4o', 'claude-3-5-sonnet', 'llama-3-70b']
    const expected = new Map<string, number>()
    const messages = Array.from({ length: 600 }, (_, i) => {
      const model = models[(i * 7) % models.length]!
      expected.set(model, (expected.get(model) ?? 0) + 1)
      return { key: `tenant-${i % 11}`, value: JSON.stringify({ tenant_id: `tenant-${i % 11}`, model }) }
    })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: input, messages })
    await producer.disconnect()

    const { latest } = await readCounts(kafka, output, sameCounts(expected))
    assert.deepEqual(sorted(latest), sorted(expected))
    // Sub-topology 0 reads the input (4 tasks), sub-topology 1 the repartition topic (4 partitions, as its writer).
    const tasks = [...a.tasks(), ...b.tasks()].map((t) => t.id).sort()
    assert.deepEqual(tasks, ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3'])
    const repartition = `${applicationId}-by-model-repartition`
    const offsets = await admin.fetchTopicOffsets(repartition)
    assert.equal(offsets.reduce((sum, p) => sum + Number(p.high), 0), 600, 'every record crossed the repartition topic once')
  } finally {
    await Promise.all([a.close(), b.close()])
  }
})
