import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ProducerBatch, RecordMetadata } from 'kafkajs'
import { ChangelogWriter, createRecordCache, engines, openKeyValueStore } from '../../../state/index.js'
import { stringSerde, tempDir } from './fixtures.js'

class FakeProducer {
  readonly batches: ProducerBatch[] = []
  private offsets = new Map<string, number>()
  concurrent = 0
  maxConcurrent = 0
  failNext = false
  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    this.concurrent++
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent)
    await new Promise((r) => setTimeout(r, 2))
    this.concurrent--
    if (this.failNext) {
      this.failNext = false
      throw new Error('broker down')
    }
    this.batches.push(batch)
    return (batch.topicMessages ?? []).map((tm) => {
      const base = this.offsets.get(tm.topic) ?? 0
      this.offsets.set(tm.topic, base + tm.messages.length)
      return { topicName: tm.topic, partition: 3, errorCode: 0, baseOffset: String(base) }
    })
  }
}

test('ChangelogWriter batches records per topic and partition, in order, and reports acknowledged offsets', async () => {
  const producer = new FakeProducer()
  const writer = new ChangelogWriter({ producer, applicationId: 'app', partition: 3, maxBufferedRecords: 4 })
  for (let i = 0; i < 10; i++) writer.append('counts', Buffer.from(`k${i}`), i % 3 === 0 ? null : Buffer.from(`v${i}`))
  writer.append('windows', Buffer.from('w'), Buffer.from('1'))
  await writer.flush()
  assert.equal(producer.maxConcurrent, 1, 'sends never overlap, so a key keeps its order')
  const sent = producer.batches.flatMap((b) => b.topicMessages ?? [])
  const counts = sent.filter((t) => t.topic === 'app-counts-changelog').flatMap((t) => t.messages)
  assert.deepEqual(counts.map((m) => String(m.key)), Array.from({ length: 10 }, (_, i) => `k${i}`))
  assert.ok(counts.every((m) => m.partition === 3))
  assert.equal(counts[0]!.value, null, 'deletes are tombstones')
  assert.ok(producer.batches.length < 11, 'records are sent in batches')
  assert.deepEqual(Object.fromEntries(writer.ackedOffsets()), { counts: 10, windows: 1 })
})

test('a failed send makes flush reject, so a commit never passes over a lost changelog write', async () => {
  const producer = new FakeProducer()
  const writer = new ChangelogWriter({ producer, applicationId: 'app', partition: 0 })
  producer.failNext = true
  writer.append('counts', Buffer.from('a'), Buffer.from('1'))
  await assert.rejects(writer.flush(), /changelog write failed: broker down/)
  writer.append('counts', Buffer.from('b'), Buffer.from('2'))
  await writer.flush()
})

test('a send never carries more than the byte budget, so record batches stay under the broker limit', async () => {
  const producer = new FakeProducer()
  const writer = new ChangelogWriter({ producer, applicationId: 'app', partition: 0, maxBufferedBytes: 10_000 })
  for (let i = 0; i < 100; i++) writer.append('big', Buffer.from(`k${i}`), Buffer.alloc(1000))
  await writer.flush()
  const sizes = producer.batches.map((b) => (b.topicMessages ?? []).flatMap((t) => t.messages).reduce((n, m) => n + (m.value as Buffer).length, 0))
  assert.ok(sizes.every((n) => n <= 10_000), `batch sizes ${sizes.join(',')}`)
  assert.equal(sizes.reduce((a, b) => a + b, 0), 100_000)
})

test('stores flushed side by side at a commit share one send', async () => {
  const dir = await tempDir('writer-')
  const producer = new FakeProducer()
  const writer = new ChangelogWriter({ producer, applicationId: 'app', partition: 0 })
  const ctx = { applicationId: 'app', taskId: '0_0', stateDir: dir.path, engine: engines.memory(), cache: createRecordCache(1 << 20), changelog: writer }
  const a = await openKeyValueStore({ name: 'a', keySerde: stringSerde, valueSerde: stringSerde }, ctx)
  const b = await openKeyValueStore({ name: 'b', keySerde: stringSerde, valueSerde: stringSerde }, ctx)
  a.put('x', '1')
  b.put('y', '2')
  await ctx.cache.flushAll()
  assert.equal(producer.batches.length, 1)
  assert.deepEqual(producer.batches[0]!.topicMessages!.map((t) => t.topic).sort(), ['app-a-changelog', 'app-b-changelog'])
  await dir.remove()
})
