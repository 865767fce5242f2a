/**
 * Global tables on the real broker, two instances of one application: each holds every row of the
 * global topic (all its partitions, whichever tasks it owns), joins its stream records by a key they
 * compute, answers interactive queries for any key, and, restarted, restores from its checkpoint.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Admin, Kafka, Producer } from 'kafkajs'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder } from '../../../topology/index.js'
import { collectTopic, kafkaBrokers, testKafka, uniqueTopic, waitUntil } from '../../kafka.js'
import { TempStateDirs } from './request-fixtures.js'

let kafka: Kafka
let admin: Admin
let producer: Producer
const stateDirs = new TempStateDirs()

before(async () => {
  kafka = testKafka('global-table-it')
  admin = kafka.admin()
  await admin.connect()
  producer = kafka.producer()
  await producer.connect()
})
after(async () => {
  await producer.disconnect()
  await admin.disconnect()
  stateDirs.removeAll()
})

/** Calls (keyed by call id) priced by their model through the global `prices` table. */
function pricing(calls: string, prices: string, output: string) {
  const b = new StreamsBuilder()
  const table = b.globalTable(prices, { key: Serdes.string(), value: Serdes.string(), store: 'prices' })
  b.stream(calls, { key: Serdes.string(), value: Serdes.string() })
    .leftJoin(table, (_id, model) => model, (model, price) => `${model}=${price ?? 'unknown'}`)
    .to(output, { value: Serdes.string() })
  return b.build()
}

test('two instances each hold every global row, join by it, answer queries for any key, and restore from their checkpoint', async () => {
  const [calls, prices, output] = [uniqueTopic('calls'), uniqueTopic('prices'), uniqueTopic('priced')]
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: calls, numPartitions: 4 },
      { topic: prices, numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: output, numPartitions: 4 },
    ],
  })
  const models = Array.from({ length: 30 }, (_, i) => `model-${i}`)
  // Rows before any instance starts: restored before the first task processes.
  await producer.send({ topic: prices, messages: models.map((m, i) => ({ key: m, value: `${i}` })) })
  const applicationId = uniqueTopic('global-app')
  const dirs = [stateDirs.create(), stateDirs.create()]
  const instance = (i: number): SentinelStreams =>
    new SentinelStreams(pricing(calls, prices, output), { applicationId, brokers: kafkaBrokers(), stateDir: dirs[i]!, commitIntervalMs: 200, sessionTimeoutMs: 6_000 }, { logger: false })
  const collected = await collectTopic(output, (v) => v.toString())
  let a = instance(0)
  const b = instance(1)
  try {
    await Promise.all([a.start(), b.start()])
    await Promise.all([a.waitForState('running', 60_000), b.waitForState('running', 60_000)])
    assert.deepEqual(a.globalTables(), [{ store: 'prices', rows: 30, restored: 30 }], 'a first start restores the whole topic')
    // Each call references a model whose row lives on some partition of the global topic: every
    // task, whichever instance runs it, must find it.
    const callModel = (n: number): string => models[(n * 7) % models.length]!
    await producer.send({ topic: calls, messages: Array.from({ length: 60 }, (_, n) => ({ key: `call-${n}`, value: callModel(n) })) })
    const expected = (n: number, price: (m: string) => string): string => `${callModel(n)}=${price(callModel(n))}`
    const wrong = (count: number, price: (m: string) => string): string[] =>
      Array.from({ length: count }, (_, n) => n).filter((n) => collected.byKey.get(`call-${n}`)?.at(-1) !== expected(n, price)).map((n) => `call-${n}: ${collected.byKey.get(`call-${n}`)?.at(-1)}`)
    const initial = (m: string): string => String(models.indexOf(m))
    await waitUntil(() => wrong(60, initial).length === 0, () => `joined calls: ${wrong(60, initial).slice(0, 5).join('; ')}`)

    // Updates reach both instances while they run: each answers for every key.
    await producer.send({ topic: prices, messages: models.slice(0, 10).map((m) => ({ key: m, value: `new-${m}` })) })
    const updated = (m: string): string => (models.indexOf(m) < 10 ? `new-${m}` : initial(m))
    for (const [name, app] of [['a', a], ['b', b]] as const) {
      let rows: [string, string][] = []
      const deadline = Date.now() + 30_000
      do {
        rows = []
        for await (const row of app.keyValueStore<string, string>('prices').all()) rows.push(row)
        if (rows.length === models.length && rows.every(([m, p]) => p === updated(m))) break
        await new Promise((r) => setTimeout(r, 200))
      } while (Date.now() < deadline)
      assert.deepEqual(new Map(rows), new Map(models.map((m) => [m, updated(m)])), `instance ${name} holds every row, updated`)
      assert.equal(await app.keyValueStore<string, string>('prices').get('model-3'), 'new-model-3')
      assert.deepEqual(app.queryMetadataForKey('prices', 'model-3', Serdes.string()).local, true)
    }
    await producer.send({ topic: calls, messages: Array.from({ length: 60 }, (_, n) => ({ key: `call-${n}`, value: callModel(n) })) })
    await waitUntil(() => wrong(60, updated).length === 0, () => `joined calls after the update: ${wrong(60, updated).slice(0, 5).join('; ')}`)

    // Restart one instance: its checkpoint covers every partition, so it restores only what came since.
    await a.close()
    const checkpoint = JSON.parse(await readFile(join(dirs[0]!, applicationId, 'global', '.checkpoint'), 'utf8')) as { offsets: Record<string, number> }
    assert.deepEqual(Object.keys(checkpoint.offsets).sort(), ['prices@0', 'prices@1', 'prices@2'])
    assert.equal(Object.values(checkpoint.offsets).reduce((s, o) => s + o, 0), 40, 'every record of the global topic applied and checkpointed')
    await producer.send({ topic: prices, messages: [{ key: 'model-29', value: 'while-down' }] })
    a = instance(0)
    await a.start()
    await a.waitForState('running', 60_000)
    assert.deepEqual(a.globalTables(), [{ store: 'prices', rows: 30, restored: 1 }], 'only the record sent while it was down is restored')
    assert.equal(await a.keyValueStore<string, string>('prices').get('model-29'), 'while-down')
    assert.equal(await a.keyValueStore<string, string>('prices').get('model-4'), 'new-model-4', 'rows from before the restart kept')
  } finally {
    await Promise.allSettled([a.close(), b.close()])
    await collected.stop()
  }
})
