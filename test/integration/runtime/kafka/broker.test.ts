/**
 * The broker primitives the runtime relies on, proven over the wire against the real broker:
 * compacted topics, keyed records with headers and timestamps, consumer-group partition sharing
 * and rebalancing, and transactions with offsets committed inside them.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import kafkajs, { type Admin, type Consumer, type EachMessagePayload, type Kafka } from 'kafkajs'
import { testKafka, uniqueTopic } from '../../../kafka.js'

// kafkajs is CommonJS and Node's static analysis does not see this export.
const { ConfigResourceTypes } = kafkajs

let kafka: Kafka
let admin: Admin

before(async () => {
  kafka = testKafka('broker-primitives')
  admin = kafka.admin()
  await admin.connect()
})

after(async () => {
  await admin.disconnect()
})

/** Resolves when `predicate` holds, polling; rejects with `what` after `timeoutMs`. */
async function eventually(what: string, predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function consumeAll(consumer: Consumer, topic: string, count: number): Promise<EachMessagePayload[]> {
  const seen: EachMessagePayload[] = []
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachMessage: async (payload) => void seen.push(payload) })
  await eventually(`${count} records on ${topic}`, () => seen.length >= count)
  return seen
}

describe('topics', () => {
  test('are created with N partitions and cleanup.policy=compact, readable back', async () => {
    const topic = uniqueTopic('changelog')
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 4, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    })
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    assert.equal(metadata.topics[0]?.partitions.length, 4)
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
    })
    const policy = configs.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')
    assert.equal(policy?.configValue, 'compact')
  })

  test('are not auto-created: producing to an unknown topic fails', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 1 } })
    await producer.connect()
    try {
      await assert.rejects(producer.send({ topic: uniqueTopic('missing'), messages: [{ value: 'x' }] }))
    } finally {
      await producer.disconnect()
    }
  })
})

test('produce/consume roundtrip keeps keys, headers, timestamps and per-partition order', async () => {
  const topic = uniqueTopic('roundtrip')
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] })
  const producer = kafka.producer()
  await producer.connect()
  const base = Date.parse('2026-01-01T00:00:00Z')
  const sent = Array.from({ length: 30 }, (_, i) => ({
    key: `user-${i % 5}`,
    value: JSON.stringify({ seq: i }),
    timestamp: String(base + i * 1000),
    headers: { 'trace-id': `t-${i}` },
  }))
  await producer.send({ topic, messages: sent })
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId: uniqueTopic('roundtrip-group') })
  await consumer.connect()
  try {
    const seen = await consumeAll(consumer, topic, sent.length)
    assert.equal(seen.length, sent.length)
    for (const { message } of seen) {
      const seq = (JSON.parse(String(message.value)) as { seq: number }).seq
      const original = sent[seq]!
      assert.equal(String(message.key), original.key)
      assert.equal(message.timestamp, original.timestamp)
      assert.equal(String(message.headers?.['trace-id']), `t-${seq}`)
    }
    // Same key, same partition, in send order.
    for (const key of new Set(sent.map((s) => s.key))) {
      const ofKey = seen.filter((p) => String(p.message.key) === key)
      assert.equal(new Set(ofKey.map((p) => p.partition)).size, 1, `${key} spread over partitions`)
      const seqs = ofKey.map((p) => (JSON.parse(String(p.message.value)) as { seq: number }).seq)
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b))
    }
  } finally {
    await consumer.disconnect()
  }
})

test('a consumer group of two splits the partitions and rebalances when one leaves', async () => {
  const topic = uniqueTopic('group')
  const groupId = uniqueTopic('group-g')
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 4 }] })
  const assignments = new Map<string, number[]>()
  const member = (name: string): Consumer => {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 })
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assignments.set(name, [...(e.payload.memberAssignment[topic] ?? [])].sort())
    })
    return consumer
  }
  const a = member('a')
  const b = member('b')
  try {
    for (const c of [a, b]) {
      await c.connect()
      await c.subscribe({ topic })
      await c.run({ eachMessage: async () => undefined })
    }
    await eventually('both members assigned 2 partitions each', () => assignments.get('a')?.length === 2 && assignments.get('b')?.length === 2)
    assert.deepEqual([...assignments.get('a')!, ...assignments.get('b')!].sort(), [0, 1, 2, 3])

    await b.disconnect()
    await eventually('the remaining member owns all partitions', () => assignments.get('a')?.length === 4)
    assert.deepEqual(assignments.get('a'), [0, 1, 2, 3])
  } finally {
    await Promise.allSettled([a.disconnect(), b.disconnect()])
  }
})

test('a transaction commits output and consumer offsets together; an aborted one is invisible to read_committed', async () => {
  const input = uniqueTopic('tx-in')
  const output = uniqueTopic('tx-out')
  const groupId = uniqueTopic('tx-group')
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: input }, { topic: output }] })

  const producer = kafka.producer({ transactionalId: uniqueTopic('tx-producer'), idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    const committed = await producer.transaction()
    await committed.send({ topic: output, messages: [{ key: 'k', value: 'committed' }] })
    await committed.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '42' }] }] })
    await committed.commit()

    const aborted = await producer.transaction()
    await aborted.send({ topic: output, messages: [{ key: 'k', value: 'aborted' }] })
    await aborted.abort()

    // A marker after the abort, so read_committed consumers know they have read past it.
    const last = await producer.transaction()
    await last.send({ topic: output, messages: [{ key: 'k', value: 'after' }] })
    await last.commit()
  } finally {
    await producer.disconnect()
  }

  const offsets = await admin.fetchOffsets({ groupId, topics: [input] })
  assert.equal(offsets[0]?.partitions.find((p) => p.partition === 0)?.offset, '42')

  const read = async (readUncommitted: boolean, count: number): Promise<string[]> => {
    const consumer = kafka.consumer({ groupId: uniqueTopic('tx-reader'), readUncommitted })
    await consumer.connect()
    try {
      return (await consumeAll(consumer, output, count)).map((p) => String(p.message.value))
    } finally {
      await consumer.disconnect()
    }
  }
  assert.deepEqual(await read(false, 2), ['committed', 'after'])
  assert.deepEqual(await read(true, 3), ['committed', 'aborted', 'after'])
})
