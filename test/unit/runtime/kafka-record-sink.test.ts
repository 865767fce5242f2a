import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ProducerBatch, RecordMetadata } from 'kafkajs'
import { KafkaRecordSink } from '../../../runtime/kafka/kafka-record-sink.js'
import type { PartitionCounts } from '../../../runtime/kafka/partition-counts.js'

const counts: PartitionCounts = { get: (topic) => (topic === 'alerts' ? 6 : undefined), load: async () => undefined }
const record = (topic: string, value: string, extra: object = {}) => ({ topic, key: Buffer.from('k'), value: Buffer.from(value), timestamp: 1_000, headers: {}, ...extra })

/** A producer that numbers each topic-partition's records from 100. */
function fakeProducer(sent: ProducerBatch[]) {
  const next = new Map<string, number>()
  return {
    async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
      sent.push(batch)
      const results: RecordMetadata[] = []
      for (const { topic, messages } of batch.topicMessages ?? []) {
        for (const partition of new Set(messages.map((m) => m.partition ?? 0))) {
          const key = `${topic}:${partition}`
          const base = next.get(key) ?? 100
          next.set(key, base + messages.filter((m) => (m.partition ?? 0) === partition).length)
          results.push({ topicName: topic, partition, errorCode: 0, baseOffset: String(base) })
        }
      }
      return results
    },
  }
}

test('records go out grouped by topic with chosen partitions, and changelog partitions report their next offset', async () => {
  const sent: ProducerBatch[] = []
  const produced: string[] = []
  const sink = new KafkaRecordSink({ sender: fakeProducer(sent), partitionCounts: counts, onProduced: (topic, n) => produced.push(`${topic}=${n}`) })
  const acks = await sink.write([
    record('alerts', 'a1', { choosePartition: (n: number) => n - 1 }),
    record('app-s-changelog', 'c1', { partition: 2 }),
    record('alerts', 'a2'),
    record('app-s-changelog', 'c2', { partition: 2 }),
  ])
  assert.equal(sent.length, 1)
  assert.deepEqual(
    sent[0]!.topicMessages!.map((t) => [t.topic, t.messages.map((m) => [String(m.value), m.partition])]),
    [
      ['alerts', [['a1', 5], ['a2', undefined]]],
      ['app-s-changelog', [['c1', 2], ['c2', 2]]],
    ],
  )
  assert.deepEqual(acks, [{ topic: 'app-s-changelog', partition: 2, nextOffset: 102 }], 'alerts had a record left to the partitioner')
  assert.deepEqual(produced, ['alerts=2', 'app-s-changelog=2'])
})

test('a write cut into several requests acknowledges the offset after its last record', async () => {
  const sent: ProducerBatch[] = []
  const sink = new KafkaRecordSink({ sender: fakeProducer(sent), partitionCounts: counts, limits: { maxPerTopic: 3 } })
  const acks = await sink.write(Array.from({ length: 7 }, (_, i) => record('app-s-changelog', `v${i}`, { partition: 0 })))
  assert.equal(sent.length, 3)
  assert.deepEqual(acks, [{ topic: 'app-s-changelog', partition: 0, nextOffset: 107 }])
})
