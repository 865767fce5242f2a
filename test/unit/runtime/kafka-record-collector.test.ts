import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ProducerBatch, RecordMetadata } from 'kafkajs'
import { KafkaRecordCollector, type PartitionCounts } from '../../../runtime/kafka/kafka-record-collector.js'

const counts: PartitionCounts = { get: (topic) => (topic === 'alerts' ? 6 : undefined), load: async () => undefined }
const record = (topic: string, value: string, extra: object = {}) => ({ topic, key: Buffer.from('k'), value: Buffer.from(value), timestamp: 1_000, headers: {}, ...extra })

test('buffered records go out in one send per dispatch, grouped by topic, with chosen partitions; flush awaits the acks', async () => {
  const sent: ProducerBatch[] = []
  let release!: () => void
  const acked = new Promise<void>((r) => (release = r))
  const collector = new KafkaRecordCollector(
    {
      async sendBatch(batch) {
        sent.push(batch)
        await acked
        return [] as RecordMetadata[]
      },
    },
    counts,
  )
  collector.send(record('alerts', 'a1', { choosePartition: (n: number) => n - 1 }))
  collector.send(record('counts', 'c1', { partition: 2 }))
  collector.send(record('alerts', 'a2'))
  assert.equal(collector.unacknowledged, 3)
  collector.dispatch()
  const flushed = collector.flush()
  await new Promise((r) => setImmediate(r))
  assert.equal(sent.length, 1)
  assert.deepEqual(
    sent[0]!.topicMessages!.map((t) => [t.topic, t.messages.map((m) => [String(m.value), m.partition])]),
    [
      ['alerts', [['a1', 5], ['a2', undefined]]],
      ['counts', [['c1', 2]]],
    ],
  )
  assert.equal(collector.unacknowledged, 3, 'still in flight until acknowledged')
  release()
  await flushed
  assert.equal(collector.unacknowledged, 0)
})

test('a failed send is rethrown by the next flush, not lost', async () => {
  const collector = new KafkaRecordCollector({ sendBatch: async () => Promise.reject(new Error('broker down')) }, counts)
  collector.send(record('alerts', 'x'))
  await assert.rejects(collector.flush(), /producing output failed: broker down/)
  await collector.flush() // the failure was reported once; nothing left to send
})
