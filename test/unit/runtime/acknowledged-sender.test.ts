import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Message, ProducerBatch, RecordMetadata } from 'kafkajs'
import { acknowledgedSender } from '../../../runtime/kafka/acknowledged-sender.js'
import type { PartitionCounts } from '../../../runtime/kafka/partition-counts.js'
import { partitionOfKey } from '../../../runtime/query/key-partition.js'

const counts = (known: Record<string, number>): PartitionCounts & { loads: string[][] } => {
  const loaded = new Map<string, number>()
  const loads: string[][] = []
  return {
    loads,
    get: (topic) => loaded.get(topic),
    async load(topics) {
      loads.push([...topics])
      for (const t of topics) loaded.set(t, known[t]!)
    },
  }
}

/** Acknowledges what it got, per partition, as a kafkajs send result does. */
const ack = (batch: ProducerBatch, drop: (topic: string, partition: number) => boolean = () => false): RecordMetadata[] => {
  const out: RecordMetadata[] = []
  for (const { topic, messages } of batch.topicMessages ?? []) {
    for (const partition of new Set(messages.map((m) => m.partition!))) {
      if (!drop(topic, partition)) out.push({ topicName: topic, partition, errorCode: 0, baseOffset: '0' })
    }
  }
  return out
}

const show = (batch: ProducerBatch): string[] => (batch.topicMessages ?? []).map((t) => `${t.topic}:${t.messages.map((m: Message) => `${String(m.value)}@${m.partition}`).join(',')}`)

test('partitions a send resolved without acknowledging are sent again, alone and in order (the kafkajs retry that skips a broker)', async () => {
  const requests: ProducerBatch[] = []
  const resent: unknown[] = []
  let first = true
  const sender = acknowledgedSender(
    {
      async sendBatch(batch) {
        requests.push(batch)
        // As kafkajs after a leader move: partition 1's records went nowhere, the send still resolves.
        const result = ack(batch, (topic, partition) => first && topic === 'out' && partition === 1)
        first = false
        return result
      },
    },
    counts({}),
    { onResend: (missing) => resent.push(missing) },
  )
  const messages = [0, 1, 2, 1, 0, 1].map((partition, i) => ({ value: `v${i}`, partition }))
  const results = await sender.sendBatch({ acks: -1, topicMessages: [{ topic: 'out', messages }, { topic: 'log', messages: [{ value: 'l0', partition: 0 }] }] })
  assert.deepEqual(requests.map(show), [['out:v0@0,v1@1,v2@2,v3@1,v4@0,v5@1', 'log:l0@0'], ['out:v1@1,v3@1,v5@1']])
  assert.deepEqual(resent, [[{ topic: 'out', partition: 1, records: 3 }]])
  assert.deepEqual(results.map((r) => `${r.topicName}[${r.partition}]`).sort(), ['log[0]', 'out[0]', 'out[1]', 'out[2]'])
})

test('a partition never acknowledged fails the send after the resends, naming it', async () => {
  let calls = 0
  const sender = acknowledgedSender({ sendBatch: async (batch) => (calls++, ack(batch, (_t, p) => p === 2)) }, counts({}), { maxResends: 3 })
  await assert.rejects(sender.sendBatch({ topicMessages: [{ topic: 'out', messages: [{ value: 'a', partition: 2 }, { value: 'b', partition: 0 }] }] }), /never acknowledged out\[2\] after 3 sends/)
  assert.equal(calls, 4)
})

test("records without a partition get the default partitioner's (murmur2 of the key; round robin without a key) before the send", async () => {
  const requests: ProducerBatch[] = []
  const partitionCounts = counts({ out: 6 })
  const sender = acknowledgedSender({ sendBatch: async (batch) => (requests.push(batch), ack(batch)) }, partitionCounts)
  await sender.sendBatch({ topicMessages: [{ topic: 'out', messages: [{ key: 'k1', value: 'a' }, { key: Buffer.from('k2'), value: 'b' }, { key: null, value: 'c' }, { key: null, value: 'd' }, { value: 'e', partition: 5 }] }] })
  const sent = requests[0]!.topicMessages![0]!.messages
  assert.equal(sent[0]!.partition, partitionOfKey(Buffer.from('k1'), 6))
  assert.equal(sent[1]!.partition, partitionOfKey(Buffer.from('k2'), 6))
  assert.equal((sent[3]!.partition! - sent[2]!.partition! + 6) % 6, 1, 'null keys go round robin')
  assert.equal(sent[4]!.partition, 5)
  assert.deepEqual(partitionCounts.loads, [['out']])
  // Counts are looked up once.
  await sender.sendBatch({ topicMessages: [{ topic: 'out', messages: [{ key: 'k3', value: 'f' }] }] })
  assert.deepEqual(partitionCounts.loads, [['out']])
})

test('acks 0 goes through unchecked: the broker acknowledges nothing', async () => {
  let calls = 0
  const sender = acknowledgedSender({ sendBatch: async () => (calls++, []) }, counts({}))
  await sender.sendBatch({ acks: 0, topicMessages: [{ topic: 'out', messages: [{ value: 'a', partition: 0 }] }] })
  assert.equal(calls, 1)
})

test('a partition left unacknowledged is not sent again once its task was abandoned (stillWanted false): the send fails', async () => {
  let calls = 0
  let wanted = true
  const sender = acknowledgedSender(
    { sendBatch: async (batch) => (calls++, (wanted = false), ack(batch, (_t, p) => p === 1)) },
    counts({}),
    { stillWanted: () => wanted },
  )
  await assert.rejects(sender.sendBatch({ topicMessages: [{ topic: 'out', messages: [{ value: 'a', partition: 1 }] }] }), /not sent again: out\[1\] belong to a task abandoned/)
  assert.equal(calls, 1)
})
