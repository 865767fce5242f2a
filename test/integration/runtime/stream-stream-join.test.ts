/**
 * A windowed stream-stream leftJoin on the real broker: LLM responses meet their requests by
 * request id (the seed's responses leave `model` off). Responses arrive out of order within grace,
 * some requests get none. Each response joins its request once, and each request without a response
 * is emitted once, with `undefined`, only after its window closed: no spurious left results.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka } from 'kafkajs'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { Serdes } from '../../../schemas/index.js'
import { JoinWindows, StreamsBuilder } from '../../../topology/index.js'
import { collectTopic, createTopicsAndWait, kafkaBrokers, testKafka, uniqueTopic, waitUntil } from '../../kafka.js'
import { TempStateDirs } from './request-fixtures.js'

const START = Date.parse('2026-03-01T00:00:00Z')
const WINDOW = 30_000
const GRACE = 60_000

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()

before(async () => {
  kafka = testKafka('join-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  await admin.disconnect()
  stateDirs.removeAll()
})

test('responses meet their requests by id, out of order within grace; unanswered requests once, after their window', async () => {
  const requests = uniqueTopic('llm-requests')
  const responses = uniqueTopic('llm-responses')
  const output = uniqueTopic('llm-calls')
  await createTopicsAndWait(admin, [requests, responses, output].map((topic) => ({ topic, numPartitions: 2 })))
  const b = new StreamsBuilder()
  const requestStream = b.stream(requests, { key: Serdes.string(), value: Serdes.string() })
  const responseStream = b.stream(responses, { key: Serdes.string(), value: Serdes.string() })
  requestStream
    .leftJoin(responseStream, (model, latency) => `${model}:${latency ?? 'none'}`, JoinWindows.ofTimeDifferenceAndGrace(WINDOW, GRACE), { name: 'call' })
    .to(output, { value: Serdes.string() })

  // 300 requests 1 s apart; two in three answered 0.5-25 s later, produced up to 15 s late.
  const sent: { topic: string; key: string; value: string; ts: number; at: number }[] = []
  const expected = new Map<string, string>()
  for (let i = 0; i < 300; i++) {
    const id = `req-${i}`
    const ts = START + i * 1000
    const model = `model-${i % 3}`
    sent.push({ topic: requests, key: id, value: model, ts, at: ts })
    if (i % 3 === 2) {
      expected.set(id, `${model}:none`)
      continue
    }
    const latency = 500 + ((i * 7919) % 24_500)
    sent.push({ topic: responses, key: id, value: String(latency), ts: ts + latency, at: ts + latency + ((i * 104_729) % 15_000) })
    expected.set(id, `${model}:${latency}`)
  }
  sent.sort((x, y) => x.at - y.at)
  // Far later, one record per partition's keys: closes every window.
  const closers = Array.from({ length: 20 }, (_, i) => ({ topic: requests, key: `closer-${i}`, value: 'none', ts: START + 3_600_000, at: 0 }))
  const producer = kafka.producer()
  await producer.connect()
  const produce = async (records: typeof sent): Promise<void> => {
    for (const r of records) await producer.send({ topic: r.topic, messages: [{ key: r.key, value: r.value, timestamp: String(r.ts) }] })
  }

  const streams = new SentinelStreams(b.build(), { applicationId: uniqueTopic('join'), brokers: kafkaBrokers(), stateDir: stateDirs.create(), commitIntervalMs: 200 }, { logger: false })
  const collected = await collectTopic(output, (value) => value.toString())
  try {
    await streams.start()
    await streams.waitForState('running')
    const missing = (which: (value: string) => boolean): string[] => [...expected].filter(([id, v]) => which(v) && !collected.byKey.has(id)).map(([id]) => id)
    const answered = (v: string): boolean => !v.endsWith(':none')
    // The runtime does not order records across a task's partitions by time (Kafka Streams picks the
    // lowest timestamp first): on a busy machine one topic's fetches can run minutes of event time
    // ahead of the other's and close windows early. So records go out in chunks of ~20 s of event
    // time, each once the previous chunk's responses have been joined, and the closers last.
    for (let i = 0; i < sent.length; i += 40) {
      const chunk = sent.slice(i, i + 40)
      await produce(chunk)
      const ids = chunk.filter((r) => r.topic === responses).map((r) => r.key)
      await waitUntil(() => ids.every((id) => collected.byKey.has(id)), () => `the responses of chunk ${i / 40}: missing ${ids.filter((id) => !collected.byKey.has(id)).join(', ')}`)
    }
    const openBeforeClosers = missing((v) => !answered(v))
    assert.ok(openBeforeClosers.length > 0, 'the last unanswered requests are held back while their windows are open')
    await produce(closers)
    await waitUntil(() => missing(() => true).length === 0, () => `every request: missing ${missing(() => true).slice(0, 10).join(', ')}`)
    await new Promise((r) => setTimeout(r, 1_000)) // anything extra would arrive now
  } finally {
    await streams.close()
    await producer.disconnect()
    await collected.stop()
  }
  const results = new Map([...collected.byKey].filter(([k]) => !k.startsWith('closer-')))
  const twice = [...results].filter(([, values]) => values.length > 1)
  assert.deepEqual(twice, [], 'each request once: no spurious left results next to the joined one')
  assert.deepEqual(new Map([...results].map(([k, v]): [string, string] => [k, v[0]!]).sort()), new Map([...expected].sort()))
})
