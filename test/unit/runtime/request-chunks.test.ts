import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { TopicMessages } from 'kafkajs'
import { requestChunks } from '../../../runtime/kafka/request-chunks.js'

const show = (chunks: TopicMessages[][], field: 'key' | 'value') => chunks.map((c) => c.map((t) => `${t.topic}:${t.messages.map((m) => String(m[field])).join(',')}`))

test('a large send is cut into sequential requests of at most N messages per topic, in order', () => {
  const messages = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }))
  const chunks = [...requestChunks([{ topic: 'a', messages: messages('a', 7) }, { topic: 'b', messages: messages('b', 2) }], { maxPerTopic: 3 })]
  assert.deepEqual(show(chunks, 'value'), [['a:a0,a1,a2', 'b:b0,b1'], ['a:a3,a4,a5'], ['a:a6']])
})

test('a small send goes through as it is', () => {
  const topics = [{ topic: 'a', messages: [{ value: 'x' }] }]
  const chunks = [...requestChunks(topics, { maxPerTopic: 3 })]
  assert.equal(chunks.length, 1)
  assert.equal(chunks[0]![0], topics[0])
})

test('requests stay under the byte budget: large records are spread over several, in order; one over it goes alone', () => {
  const big = (name: string, bytes: number) => ({ key: name, value: Buffer.alloc(bytes, 120) })
  const chunks = [
    ...requestChunks(
      [
        { topic: 'dlq', messages: [big('d0', 4000), big('d1', 4000), big('d2', 4000), big('huge', 25_000), big('d3', 100)] },
        { topic: 'out', messages: [big('o0', 100)] },
      ],
      { maxPerTopic: 100, maxRequestBytes: 10_000 },
    ),
  ]
  // Each topic keeps its order; another topic's small record may fill the rest of a request.
  assert.deepEqual(show(chunks, 'key'), [['dlq:d0,d1', 'out:o0'], ['dlq:d2'], ['dlq:huge'], ['dlq:d3']])
  for (const c of chunks.slice(0, 2)) assert.ok(c.flatMap((t) => t.messages).reduce((n, m) => n + (m.value as Buffer).length, 0) <= 10_000)
})
