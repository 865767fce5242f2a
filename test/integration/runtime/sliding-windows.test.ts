/**
 * Sliding-window counts with suppression on the real broker, RocksDB stores: events arrive out of
 * order (within grace) on two partitions, the instance is stopped halfway and a new one continues
 * from its state directory and changelogs. Every window's final count is emitted exactly once and
 * equals the count by the definition (test/sliding-window-model.ts).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka } from 'kafkajs'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { Serdes } from '../../../schemas/index.js'
import { SlidingWindows, StreamsBuilder, Suppressed } from '../../../topology/index.js'
import { collectTopic, createTopicsAndWait, kafkaBrokers, testKafka, uniqueTopic, waitUntil } from '../../kafka.js'
import { slidingWindowCounts } from '../../sliding-window-model.js'
import { TempStateDirs } from './request-fixtures.js'

const D = 120_000
const GRACE = 60_000
const START = Date.parse('2026-03-01T00:00:00Z')

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()

before(async () => {
  kafka = testKafka('sliding-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  await admin.disconnect()
  stateDirs.removeAll()
})

function topology(input: string, output: string) {
  const b = new StreamsBuilder()
  b.stream(input, { key: Serdes.string(), value: Serdes.string() })
    .groupByKey()
    .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(D, GRACE))
    .count({ name: 'errors-in-2m' })
    .suppress(Suppressed.untilWindowCloses({ name: 'final-errors' }))
    .toStream()
    .map((w, n): [string, number] => [`${w.key}@${w.window.start - START}`, n])
    .to(output, { key: Serdes.string(), value: Serdes.long() })
  return b.build()
}

/** Deterministic pseudo-random numbers (a test must fail the same way twice). */
function lcg(seed: number): () => number {
  let s = seed
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
}

test('sliding-window counts, out of order within grace, across a restart: each window once, by the definition', async () => {
  const input = uniqueTopic('errors')
  const output = uniqueTopic('error-bursts')
  await createTopicsAndWait(admin, [{ topic: input, numPartitions: 2 }, { topic: output, numPartitions: 2 }])
  const random = lcg(7)
  const keys = ['svc-a', 'svc-b', 'svc-c', 'svc-d']
  // 400 events over ~40 minutes; each arrives up to 40 s after events dated later (grace is 60 s).
  const events = Array.from({ length: 400 }, (_, i) => ({ key: keys[i % keys.length]!, ts: START + D + i * 6_000 + Math.floor(random() * 5_000) }))
  const arrival = events.map((e) => ({ e, at: e.ts + random() * 40_000 })).sort((a, b) => a.at - b.at).map((x) => x.e)
  const produce = async (batch: { key: string; ts: number }[]): Promise<void> => {
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: input, messages: batch.map((e) => ({ key: e.key, value: 'error', timestamp: String(e.ts) })) })
    await producer.disconnect()
  }
  // Relative times (from D on, so no record is "early" for the model as none is for the epoch).
  const expected = slidingWindowCounts(events.map((e) => ({ key: e.key, ts: e.ts - START })), D)
  const far = START + 24 * 3_600_000

  const applicationId = uniqueTopic('sliding')
  const stateDir = stateDirs.create()
  const instance = (): SentinelStreams =>
    new SentinelStreams(topology(input, output), { applicationId, brokers: kafkaBrokers(), stateDir, commitIntervalMs: 200 }, { logger: false })

  const collected = await collectTopic(output, (value) => Number(value.readBigInt64BE(0)))
  const emitted = collected.byKey
  try {
    const first = instance()
    await first.start()
    await first.waitForState('running')
    await produce(arrival.slice(0, 200))
    // Some windows close while the first instance runs.
    await waitUntil(() => emitted.size > 20, () => 'windows to close on the first instance')
    await first.close()

    const second = instance()
    await second.start()
    try {
      await second.waitForState('running')
      // Then the rest, and one record per key a day later, which closes every window.
      await produce([...arrival.slice(200), ...keys.map((key) => ({ key, ts: far }))])
      const missing = (): string[] => [...expected.keys()].filter((k) => !emitted.has(k))
      await waitUntil(() => missing().length === 0, () => `every window (${expected.size}): ${emitted.size} emitted, missing ${missing().slice(0, 10).join(', ')}`)
      await new Promise((r) => setTimeout(r, 1_000)) // anything extra would arrive now
    } finally {
      await second.close()
    }
  } finally {
    await collected.stop()
  }
  const duplicates = [...emitted].filter(([, values]) => values.length > 1)
  assert.deepEqual(duplicates, [], 'each window is emitted once')
  assert.deepEqual(new Map([...emitted].map(([k, v]): [string, number] => [k, v[0]!]).sort()), new Map([...expected].sort()))
})
