/**
 * A KTable-KTable leftJoin on the real broker: API keys (table) joined with their owners' tiers
 * (table), both topics co-partitioned by key, updates of either side in any order. The latest joined
 * row per key equals the join of the two tables' final contents.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka } from 'kafkajs'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder } from '../../../topology/index.js'
import { collectTopic, createTopicsAndWait, kafkaBrokers, testKafka, uniqueTopic, waitUntil } from '../../kafka.js'
import { TempStateDirs } from './request-fixtures.js'

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()

before(async () => {
  kafka = testKafka('table-join-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  await admin.disconnect()
  stateDirs.removeAll()
})

test('table leftJoin: the latest joined row per key is the join of both tables, whichever side changed last', async () => {
  const owners = uniqueTopic('key-owners')
  const tiers = uniqueTopic('owner-tiers')
  const output = uniqueTopic('key-tiers')
  await createTopicsAndWait(admin, [owners, tiers, output].map((topic) => ({ topic, numPartitions: 2 })))
  const b = new StreamsBuilder()
  const ownerTable = b.table(owners, { key: Serdes.string(), value: Serdes.string(), name: 'owners' })
  const tierTable = b.table(tiers, { key: Serdes.string(), value: Serdes.string(), name: 'tiers' })
  ownerTable
    .leftJoin(tierTable, (owner, tier) => `${owner}/${tier ?? 'no-tier'}`, { name: 'owner-tier' })
    .toStream()
    .to(output, { value: Serdes.string() })

  // 60 keys; owners updated three times, tiers twice, interleaved; a third of the keys never get a tier.
  const finalOwner = new Map<string, string>()
  const finalTier = new Map<string, string>()
  const messages: { topic: string; key: string; value: string }[] = []
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 60; i++) {
      const key = `key-${i}`
      messages.push({ topic: owners, key, value: `owner-${i}-v${round}` })
      finalOwner.set(key, `owner-${i}-v${round}`)
      if (i % 3 !== 0 && round < 2) {
        messages.push({ topic: tiers, key, value: `tier-${(i + round) % 4}` })
        finalTier.set(key, `tier-${(i + round) % 4}`)
      }
    }
  }
  const expected = new Map([...finalOwner].map(([k, owner]) => [k, `${owner}/${finalTier.get(k) ?? 'no-tier'}`]))

  const streams = new SentinelStreams(b.build(), { applicationId: uniqueTopic('table-join'), brokers: kafkaBrokers(), stateDir: stateDirs.create(), commitIntervalMs: 200 }, { logger: false })
  const collected = await collectTopic(output, (value) => value.toString())
  const latest = (): Map<string, string> => new Map([...collected.byKey].map(([k, v]) => [k, v[v.length - 1]!]))
  const producer = kafka.producer()
  await producer.connect()
  try {
    await streams.start()
    await streams.waitForState('running')
    for (const m of messages) await producer.send({ topic: m.topic, messages: [{ key: m.key, value: m.value }] })
    const wrong = (): string[] => [...expected].filter(([k, v]) => latest().get(k) !== v).map(([k]) => `${k}: ${latest().get(k)} != ${expected.get(k)}`)
    await waitUntil(() => wrong().length === 0, () => `the final joined rows: ${wrong().slice(0, 5).join('; ')}`)
  } finally {
    await producer.disconnect()
    await streams.close()
    await collected.stop()
  }
  assert.deepEqual(new Map([...latest()].sort()), new Map([...expected].sort()))
})
