import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ProducerBatch, RecordMetadata } from 'kafkajs'
import { chunkedSender } from '../../../runtime/kafka/chunked-sender.js'

test('a large send is cut into sequential requests of at most N messages per topic, in order', async () => {
  const requests: ProducerBatch[] = []
  const sender = chunkedSender(
    {
      async sendBatch(batch) {
        requests.push(batch)
        return batch.topicMessages!.map((t): RecordMetadata => ({ topicName: t.topic, partition: 0, errorCode: 0, baseOffset: '0' }))
      },
    },
    { maxPerTopic: 3 },
  )
  const messages = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }))
  const results = await sender.sendBatch({ topicMessages: [{ topic: 'a', messages: messages('a', 7) }, { topic: 'b', messages: messages('b', 2) }] })
  assert.deepEqual(
    requests.map((r) => r.topicMessages!.map((t) => `${t.topic}:${t.messages.map((m) => m.value).join(',')}`)),
    [['a:a0,a1,a2', 'b:b0,b1'], ['a:a3,a4,a5'], ['a:a6']],
  )
  assert.equal(results.length, 4)
})

test('a small send goes through as it is', async () => {
  let calls = 0
  const batch = { topicMessages: [{ topic: 'a', messages: [{ value: 'x' }] }] }
  await chunkedSender({ sendBatch: async (b) => (calls++, assert.equal(b, batch), []) }, { maxPerTopic: 3 }).sendBatch(batch)
  assert.equal(calls, 1)
})

test('requests stay under the byte budget: large records are spread over several, in order; one over it goes alone', async () => {
  const requests: ProducerBatch[] = []
  const sender = chunkedSender({ sendBatch: async (b) => (requests.push(b), []) }, { maxPerTopic: 100, maxRequestBytes: 10_000 })
  const big = (name: string, bytes: number) => ({ key: name, value: Buffer.alloc(bytes, 120) })
  await sender.sendBatch({
    topicMessages: [
      { topic: 'dlq', messages: [big('d0', 4000), big('d1', 4000), big('d2', 4000), big('huge', 25_000), big('d3', 100)] },
      { topic: 'out', messages: [big('o0', 100)] },
    ],
  })
  assert.deepEqual(
    requests.map((r) => r.topicMessages!.map((t) => `${t.topic}:${t.messages.map((m) => String(m.key)).join(',')}`)),
    // Each topic keeps its order; another topic's small record may fill the rest of a request.
    [['dlq:d0,d1', 'out:o0'], ['dlq:d2'], ['dlq:huge'], ['dlq:d3']],
  )
  for (const r of requests.slice(0, 2)) assert.ok(r.topicMessages!.flatMap((t) => t.messages).reduce((n, m) => n + (m.value as Buffer).length, 0) <= 10_000)
})
