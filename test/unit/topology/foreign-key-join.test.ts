/**
 * KTable-KTable foreign-key joins through the driver: orders (by order id) joined with products (by
 * product id) through the order's product. Every update of the result table is captured, deletes
 * included (`toStream()` would drop them).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import { type KTable, type Processor, resolvePartitions, StreamsBuilder, type StreamRecord } from '../../../topology/index.js'

interface Order {
  product: string | null
  qty: number
}

/** Records every update of a table, as `key:value` (`key:DELETE` for deletes). */
function capture<K, V>(table: KTable<K, V>, into: string[]): void {
  class Capture implements Processor<K, V | null> {
    process(record: StreamRecord<K, V | null>): void {
      into.push(`${String(record.key)}:${record.value === null ? 'DELETE' : String(record.value)}`)
    }
  }
  table.ctx.addProcessor('capture', [table.node], () => new Capture())
}

async function ordersWithProducts(kind: 'join' | 'leftJoin', partitions: Record<string, number> = {}) {
  const b = new StreamsBuilder()
  const orders = b.table('orders', { key: Serdes.string(), value: Serdes.nullable(Serdes.json<Order>()), name: 'orders' })
  const products = b.table('products', { key: Serdes.string(), value: Serdes.nullable(Serdes.string()), name: 'products' })
  const joiner = (order: Order | null, name: string | null | undefined): string => `${order!.qty}x${name ?? 'unknown'}`
  const joined =
    kind === 'join'
      ? orders.join(products, (order) => order!.product, joiner, { name: 'order-product' })
      : orders.leftJoin(products, (order) => order!.product, joiner, { name: 'order-product' })
  const updates: string[] = []
  capture(joined, updates)
  const topology = b.build()
  const driver = await TopologyTestDriver.create(topology, { partitions })
  const orderIn = driver.createInputTopic('orders', Serdes.string(), Serdes.nullable(Serdes.json<Order>()))
  const productIn = driver.createInputTopic('products', Serdes.string(), Serdes.nullable(Serdes.string()))
  return {
    topology,
    driver,
    order: (id: string, order: Order | null) => orderIn.pipe(id, order),
    orders: (records: [string, Order | null][]) => orderIn.pipeRecords(records.map(([key, value]) => ({ key, value }))),
    product: (id: string, name: string | null) => productIn.pipe(id, name),
    updates: (): string[] => updates.splice(0),
  }
}

test('inner: a row exists while the foreign key finds a right row; either side updates it; a foreign key change moves it', async () => {
  const { driver, order, product, updates } = await ordersWithProducts('join')
  await order('o1', { product: 'p1', qty: 2 })
  assert.deepEqual(updates(), ['o1:DELETE'], 'no product yet: no row (a delete of nothing)')
  await product('p1', 'apple')
  assert.deepEqual(updates(), ['o1:2xapple'], 'the right row arriving joins its subscribers')
  await order('o2', { product: 'p1', qty: 5 })
  await product('p2', 'pear')
  assert.deepEqual(updates(), ['o2:5xapple'], 'nobody subscribes to p2 yet')
  await product('p1', 'green apple')
  assert.deepEqual(updates().sort(), ['o1:2xgreen apple', 'o2:5xgreen apple'], 'every subscriber of p1')
  await order('o1', { product: 'p2', qty: 3 })
  assert.deepEqual(updates(), ['o1:3xpear'], 'foreign key change')
  await product('p1', 'red apple')
  assert.deepEqual(updates(), ['o2:5xred apple'], 'o1 left p1: not updated by it any more')
  await order('o2', { product: 'p2', qty: 6 })
  assert.deepEqual(updates(), ['o2:6xpear'])
  await product('p1', 'gone')
  assert.deepEqual(updates(), [], 'p1 has no subscribers left')
  await product('p2', null)
  assert.deepEqual(updates().sort(), ['o1:DELETE', 'o2:DELETE'], 'right row deleted: inner rows deleted')
  await order('o1', { product: null, qty: 1 })
  await order('o2', null)
  assert.deepEqual(updates(), ['o1:DELETE', 'o2:DELETE'], 'null foreign key and deleted left row: deletes, resolved on the left')
  await product('p2', 'pear')
  assert.deepEqual(updates(), [], 'o1 has no foreign key, o2 no row: neither subscribes to p2 any more')
  await driver.close()
})

test('leftJoin: every left row, with the right row or undefined', async () => {
  const { driver, order, product, updates } = await ordersWithProducts('leftJoin')
  await order('o1', { product: 'p1', qty: 2 })
  assert.deepEqual(updates(), ['o1:2xunknown'])
  await product('p1', 'apple')
  assert.deepEqual(updates(), ['o1:2xapple'])
  await order('o1', { product: 'p9', qty: 2 })
  assert.deepEqual(updates(), ['o1:2xunknown'], 'moved to a foreign key without a right row')
  await order('o1', { product: null, qty: 4 })
  assert.deepEqual(updates(), ['o1:4xunknown'], 'a null foreign key joins no right row')
  await order('o1', { product: 'p1', qty: 4 })
  await product('p1', null)
  assert.deepEqual(updates(), ['o1:4xapple', 'o1:4xunknown'], 'right row deleted: the left row stays')
  await order('o1', null)
  assert.deepEqual(updates(), ['o1:DELETE'])
  await driver.close()
})

test('a response to an older subscription is dropped: two updates of one key in a batch give the latest only', async () => {
  const { driver, orders, product, updates } = await ordersWithProducts('join')
  await product('p1', 'apple')
  await product('p2', 'pear')
  await orders([
    ['o1', { product: 'p1', qty: 1 }],
    ['o1', { product: 'p2', qty: 2 }],
  ])
  assert.deepEqual(updates(), ['o1:2xpear'], 'the p1 answer to the first subscription is stale by the time it arrives')
  await orders([
    ['o1', { product: 'p2', qty: 3 }],
    ['o1', { product: 'p2', qty: 4 }],
  ])
  assert.deepEqual(updates(), ['o1:4xpear'], 'same foreign key, new value: only the latest value joins')
  await driver.close()
})

test('partitions: the registration topic is partitioned like the right table, the response topic like the left', async () => {
  const partitions = { orders: 3, products: 2 }
  const { topology, driver, order, product, updates } = await ordersWithProducts('join', partitions)
  const plan = topology.plan('app')
  const resolved = resolvePartitions(plan, (t) => partitions[t as keyof typeof partitions])
  assert.equal(resolved.topicPartitions.get('app-order-product-subscription-registration-topic'), 2)
  assert.equal(resolved.topicPartitions.get('app-order-product-subscription-response-topic'), 3)
  assert.deepEqual(
    plan.subtopologies.map((s) => s.stores.map((st) => st.name).sort()),
    [
      ['order-product-foreign-key-store', 'orders-store'],
      ['order-product-subscription-store', 'products-store'],
    ],
  )
  for (let p = 0; p < 8; p++) await product(`p${p}`, `name${p}`)
  for (let o = 0; o < 12; o++) await order(`o${o}`, { product: `p${o % 8}`, qty: o })
  assert.deepEqual(updates().sort(), Array.from({ length: 12 }, (_, o) => `o${o}:${o}xname${o % 8}`).sort())
  await product('p3', 'three')
  assert.deepEqual(updates().sort(), ['o11:11xthree', 'o3:3xthree'])
  await driver.close()
})

test('build-time errors: an unmaterialized side', () => {
  const b = new StreamsBuilder()
  const left = b.table('l', { key: Serdes.string(), value: Serdes.string() })
  const right = b.table('r', { key: Serdes.string(), value: Serdes.string() })
  assert.throws(() => left.join(right.filter(() => true), (v: string) => v, (v: string) => v), /the right table is not materialized/)
  assert.throws(() => left.mapValues((v) => v).join(right, (v: string) => v, (v: string) => v), /the left table is not materialized/)
})
