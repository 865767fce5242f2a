/**
 * KTable-KTable joins on the real broker, updates of either side in any order; the latest joined row
 * per key must equal the join of the two tables' final contents:
 *  - a leftJoin of API keys (table) with their owners' tiers (table), co-partitioned by key;
 *  - a foreign-key leftJoin of orders (3 partitions) with the products (2 partitions) they
 *    reference, orders moving from one product to another and products renamed, which needs the
 *    registration and response topics partitioned like the tables they meet (2 and 3 partitions).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka, Producer } from 'kafkajs'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder, type Topology } from '../../../topology/index.js'
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

/** Runs the topology, sends the input, and waits until the latest output row per key is `expected`'s. */
async function runUntilJoined(topology: Topology, applicationId: string, output: string, expected: ReadonlyMap<string, string>, send: (producer: Producer) => Promise<void>): Promise<void> {
  const streams = new SentinelStreams(topology, { applicationId, brokers: kafkaBrokers(), stateDir: stateDirs.create(), commitIntervalMs: 200 }, { logger: false })
  const collected = await collectTopic(output, (value) => value.toString())
  const latest = (): Map<string, string> => new Map([...collected.byKey].map(([k, v]) => [k, v[v.length - 1]!]))
  const producer = kafka.producer()
  await producer.connect()
  try {
    await streams.start()
    await streams.waitForState('running')
    await send(producer)
    const wrong = (): string[] => [...expected].filter(([k, v]) => latest().get(k) !== v).map(([k]) => `${k}: ${latest().get(k)} != ${expected.get(k)}`)
    await waitUntil(() => wrong().length === 0, () => `the final joined rows: ${wrong().slice(0, 5).join('; ')}`)
  } finally {
    await producer.disconnect()
    await streams.close()
    await collected.stop()
  }
  assert.deepEqual(new Map([...latest()].sort()), new Map([...expected].sort()))
}

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

  await runUntilJoined(b.build(), uniqueTopic('table-join'), output, expected, async (producer) => {
    for (const m of messages) await producer.send({ topic: m.topic, messages: [{ key: m.key, value: m.value }] })
  })
})

test('foreign-key leftJoin: the latest row per order joins its current product, after product changes and renames', async () => {
  const orders = uniqueTopic('orders')
  const products = uniqueTopic('products')
  const output = uniqueTopic('order-products')
  await createTopicsAndWait(admin, [
    { topic: orders, numPartitions: 3 },
    { topic: products, numPartitions: 2 },
    { topic: output, numPartitions: 3 },
  ])
  const applicationId = uniqueTopic('fk-join')
  const b = new StreamsBuilder()
  const orderTable = b.table(orders, { key: Serdes.string(), value: Serdes.json<{ product: string; qty: number }>(), name: 'orders' })
  const productTable = b.table(products, { key: Serdes.string(), value: Serdes.string(), name: 'products' })
  orderTable
    .leftJoin(productTable, (order) => order.product, (order, name) => `${order.qty}x${name ?? 'unknown'}`, { name: 'order-product' })
    .toStream()
    .to(output, { value: Serdes.string() })

  // 40 orders over 10 products; each order moves product twice; products renamed between the moves;
  // products 8 and 9 get no name until the end, product 9 never does.
  const finalOrder = new Map<string, { product: string; qty: number }>()
  const finalName = new Map<string, string>()
  const batches: { topic: string; key: string; value: string }[][] = []
  for (let round = 0; round < 3; round++) {
    const batch: { topic: string; key: string; value: string }[] = []
    for (let p = 0; p < 8; p++) {
      batch.push({ topic: products, key: `p${p}`, value: `name${p}-v${round}` })
      finalName.set(`p${p}`, `name${p}-v${round}`)
    }
    for (let o = 0; o < 40; o++) {
      const order = { product: `p${(o + round * 3) % 10}`, qty: o * 10 + round }
      batch.push({ topic: orders, key: `o${o}`, value: JSON.stringify(order) })
      finalOrder.set(`o${o}`, order)
    }
    batches.push(batch)
  }
  batches.push([{ topic: products, key: 'p8', value: 'name8-late' }])
  finalName.set('p8', 'name8-late')
  const expected = new Map([...finalOrder].map(([k, o]) => [k, `${o.qty}x${finalName.get(o.product) ?? 'unknown'}`]))

  await runUntilJoined(b.build(), applicationId, output, expected, async (producer) => {
    for (const batch of batches) {
      for (const topic of [products, orders]) {
        await producer.send({ topic, messages: batch.filter((m) => m.topic === topic).map(({ key, value }) => ({ key, value })) })
      }
    }
  })
  const internal = [`${applicationId}-order-product-subscription-registration-topic`, `${applicationId}-order-product-subscription-response-topic`]
  const metadata = await admin.fetchTopicMetadata({ topics: internal })
  const partitionsOf = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]))
  assert.deepEqual(
    internal.map((t) => partitionsOf.get(t)),
    [2, 3],
    'registration partitioned like products, responses like orders',
  )
})
