/**
 * SentinelStreams as a StreamsRuntime on the real broker: interactive queries across two instances
 * (host map through the group's assignment, key → instance, local stores), and send / consume beside
 * the topology.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka } from 'kafkajs'
import pino from 'pino'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder } from '../../../topology/index.js'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { StoreNotQueryableError, type HostInfo, type IncomingRecord } from '../../../runtime/streams-runtime.js'
import { createTopicsAndWait, kafkaBrokers, testKafka, uniqueTopic } from '../../kafka.js'
import { TempStateDirs } from './request-fixtures.js'

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()

before(async () => {
  kafka = testKafka('iq-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  await admin.disconnect()
  stateDirs.removeAll()
})

const STORE = 'requests-per-tenant'
const keySerde = Serdes.string()

/** Requests counted per tenant (the record key) into a key-value store. */
function countByTenant(input: string) {
  const builder = new StreamsBuilder()
  builder.stream(input, { key: Serdes.string(), value: Serdes.string() }).groupByKey().count({ store: STORE })
  return builder.build()
}

function instance(input: string, applicationId: string, applicationServer?: string): SentinelStreams {
  return new SentinelStreams(
    countByTenant(input),
    { applicationId, brokers: kafkaBrokers(), stateDir: stateDirs.create(), commitIntervalMs: 200, sessionTimeoutMs: 6_000, ...(applicationServer ? { applicationServer } : {}) },
    { logger: false },
  )
}

async function createTopic(partitions: number): Promise<string> {
  const topic = uniqueTopic('iq-input')
  await createTopicsAndWait(admin, [{ topic, numPartitions: partitions }])
  return topic
}

async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, detail: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await check()) return
    } catch (e) {
      if (!(e instanceof StoreNotQueryableError)) throw e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what} ${JSON.stringify(detail())}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const address = (h: HostInfo | null): string | null => (h ? `${h.host}:${h.port}` : null)

describe('interactive queries across instances', () => {
  test('both instances agree who holds each key; its local store has the count, the other’s does not; after one leaves the other holds all', async () => {
    const input = await createTopic(4)
    const applicationId = uniqueTopic('iq-app')
    const a = instance(input, applicationId, 'a:1')
    const b = instance(input, applicationId, 'b:2')
    const byHost = new Map([
      ['a:1', a],
      ['b:2', b],
    ])
    assert.equal(a.mode, 'kafka')
    assert.equal(a.applicationId, applicationId)
    assert.deepEqual(a.hostInfo, { host: 'a', port: 1 })
    try {
      await Promise.all([a.start(), b.start()])
      await Promise.all([a.waitForState('running'), b.waitForState('running')])

      const tenants = Array.from({ length: 60 }, (_, i) => `tenant-${i}`)
      const expected = new Map<string, number>()
      const producer = kafka.producer()
      await producer.connect()
      const messages = Array.from({ length: 900 }, (_, i) => {
        const tenant = tenants[(i * 7) % tenants.length]!
        expected.set(tenant, (expected.get(tenant) ?? 0) + (1 + (i % 3)))
        return Array.from({ length: 1 + (i % 3) }, () => ({ key: tenant, value: 'request' }))
      }).flat()
      await producer.send({ topic: input, messages })
      await producer.disconnect()

      // Both instances know the assignment (each has tasks, so each saw a map naming both).
      await eventually('both instances know the host map', () =>
        [a, b].every((s) => s.allHosts().map(address).sort().join() === 'a:1,b:2' && tenants.every((t) => s.queryMetadataForKey(STORE, t, keySerde).active !== null)),
      )
      await eventually('every count is queryable where it lives', async () => {
        for (const tenant of tenants) {
          const owner = byHost.get(address(a.queryMetadataForKey(STORE, tenant, keySerde).active)!)!
          if ((await owner.keyValueStore<string, number>(STORE).get(tenant)) !== expected.get(tenant)) return false
        }
        return true
      })

      const owners = new Set<string>()
      for (const tenant of tenants) {
        const fromA = a.queryMetadataForKey(STORE, tenant, keySerde)
        const fromB = b.queryMetadataForKey(STORE, tenant, keySerde)
        assert.deepEqual({ active: fromA.active, partition: fromA.partition }, { active: fromB.active, partition: fromB.partition }, `instances disagree on ${tenant}`)
        const ownerAddress = address(fromA.active)!
        owners.add(ownerAddress)
        assert.equal(fromA.local, ownerAddress === 'a:1', `a.local for ${tenant}`)
        assert.equal(fromB.local, ownerAddress === 'b:2', `b.local for ${tenant}`)
        const owner = byHost.get(ownerAddress)!
        const other = owner === a ? b : a
        assert.equal(await owner.keyValueStore<string, number>(STORE).get(tenant), expected.get(tenant), `count of ${tenant} on ${ownerAddress}`)
        await assert.rejects(
          other.keyValueStore<string, number>(STORE).get(tenant),
          (e: unknown) => e instanceof StoreNotQueryableError && e.message.includes(`it is on ${ownerAddress}`),
        )
      }
      assert.deepEqual([...owners].sort(), ['a:1', 'b:2'], 'the keys are spread over both instances')

      // Each instance's scan has its own keys; together, every key once.
      const scanned = new Map<string, number>()
      for (const s of [a, b]) for await (const [tenant, count] of s.keyValueStore<string, number>(STORE).all()) scanned.set(tenant, count)
      assert.deepEqual(new Map([...scanned].sort()), new Map([...expected].sort()))

      await b.close()
      await eventually('a holds every key after b left', async () => {
        if (a.state !== 'running') return false
        for (const tenant of tenants) {
          const meta = a.queryMetadataForKey(STORE, tenant, keySerde)
          if (address(meta.active) !== 'a:1' || !meta.local) return false
          if ((await a.keyValueStore<string, number>(STORE).get(tenant)) !== expected.get(tenant)) return false
        }
        return true
      })
      assert.deepEqual(a.allHosts().map(address), ['a:1'])
      assert.equal(await a.keyValueStore<string, number>(STORE).approximateCount() >= tenants.length, true)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
    assert.throws(() => a.keyValueStore(STORE), (e: unknown) => e instanceof StoreNotQueryableError && /closed/.test(e.message))
  })

  test('queries name the store and the fix when they cannot be answered', async () => {
    const input = await createTopic(1)
    const s = instance(input, uniqueTopic('iq-errors'))
    assert.throws(() => s.keyValueStore(STORE), (e: unknown) => e instanceof StoreNotQueryableError && /not been started/.test(e.message))
    assert.throws(() => s.queryMetadataForKey(STORE, 'k', keySerde), (e: unknown) => e instanceof StoreNotQueryableError && /start it first/.test(e.message))
    assert.throws(() => s.keyValueStore('nope'), (e: unknown) => e instanceof StoreNotQueryableError && new RegExp(`'nope' is not in this topology.*'${STORE}'`).test(e.message))
    assert.throws(() => s.windowStore(STORE), (e: unknown) => e instanceof StoreNotQueryableError && /key-value store, not a window store: use keyValueStore/.test(e.message))
    assert.equal(s.hostInfo, null)
    assert.deepEqual(s.allHosts(), [])
    await s.close()
  })
})

describe('send and consume beside the topology', () => {
  test('send writes with headers and timestamps; consume commits after the handler, retries a failing batch, stops on close', async () => {
    const topic = await createTopic(2)
    const groupId = uniqueTopic('iq-reader')
    // Warnings of the reader (retries, failed commits, crashes) go into the failure message, if any.
    const warnings: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line.trim()) })
    const runtime = new SentinelStreams(countByTenant(await createTopic(1)), { applicationId: uniqueTopic('iq-send'), brokers: kafkaBrokers() }, { logger })
    const at = Date.parse('2026-03-01T00:00:00Z')
    await runtime.send(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { source: 'api', n: String(i) }, timestamp: at + i })),
    )

    const committed = async (): Promise<number> => {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
      return offsets!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
    }
    const delivered: IncomingRecord[] = []
    let calls = 0
    let failed: string | undefined
    let release!: () => void
    const released = new Promise<void>((r) => (release = r))
    let holding = false
    const consumption = await runtime.consume(topic, { groupId, from: 'earliest' }, async (records) => {
      calls++
      const first = `${records[0]!.partition}:${records[0]!.offset}`
      if (failed === undefined) {
        failed = first
        throw new Error('receiver down')
      }
      if (!holding) {
        holding = true
        await released
      }
      delivered.push(...records)
    })
    try {
      await eventually('a handler holds a batch', () => holding)
      // Nothing is committed while the handler has not resolved.
      assert.equal(await committed(), 0)
      release()
      await eventually(
        'every record delivered',
        () => new Set(delivered.map((r) => r.value!.toString())).size === 20,
        30_000,
        () => ({ calls, failed, delivered: delivered.map((r) => `${r.partition}:${r.offset}`), warnings }),
      )
      await eventually('offsets committed after the handlers', async () => (await committed()) === 20)
      const values = new Set(delivered.map((r) => r.value!.toString()))
      assert.deepEqual(values, new Set(Array.from({ length: 20 }, (_, i) => `v${i}`)), 'nothing skipped')
      assert.ok(
        delivered.some((r) => `${r.partition}:${r.offset}` === failed),
        `the batch whose handler threw (first record ${failed}) was delivered again`,
      )
      const r5 = delivered.find((r) => r.key?.toString() === 'k5')!
      assert.deepEqual(r5.headers, { source: 'api', n: '5' })
      assert.equal(r5.timestamp, at + 5)
      assert.equal(r5.topic, topic)
    } finally {
      release()
      await runtime.close()
    }
    // close() stopped the reader: later records reach no handler.
    const before = calls
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic, messages: [{ key: 'late', value: 'late' }] })
    await producer.disconnect()
    await new Promise((r) => setTimeout(r, 1_500))
    assert.equal(calls, before)
    await assert.rejects(runtime.send(topic, [{ key: null, value: 'x' }]), /after close/)
    void consumption
  })
})
