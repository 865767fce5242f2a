/**
 * Issue 13: the full runtime against a secured broker. The launcher's SASL_SSL listener (`npm run
 * kafka:secure:start`, or `npm test`, which starts one) requires SASL and a client certificate
 * signed by its CA; the application reaches it only through the `security` config section, secrets
 * from environment variables. Exactly-once, a count with its changelog, and a second instance on an
 * empty state directory that must restore the count from the changelog to continue it.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import kafkajs from 'kafkajs'
import { type StreamsConfig } from '../../../../runtime/config.js'
import { SentinelStreams } from '../../../../runtime/kafka/sentinel-streams.js'
import { readLocalBroker } from '../../../../runtime/local-broker.js'
import { kafkaSecurityOptions, type SecurityConfig } from '../../../../runtime/security-config.js'
import { Serdes } from '../../../../schemas/index.js'
import { StreamsBuilder } from '../../../../topology/index.js'
import { uniqueTopic } from '../../../kafka.js'

const { Kafka, logLevel } = kafkajs
const dirs: string[] = []
const closers: (() => Promise<unknown>)[] = []
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined)
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

test('SASL_SSL (SCRAM-SHA-512 and a client certificate): exactly-once count, changelog, restore on a fresh instance', { timeout: 180_000 }, async () => {
  const secure = readLocalBroker()?.secure
  assert.ok(secure, 'the broker has no SASL_SSL listener: run `npm run kafka:stop && npm run kafka:secure:start` (npm test starts one by itself)')
  process.env.SENTINEL_TEST_KAFKA_PASSWORD = secure.password
  process.env.SENTINEL_TEST_KEYSTORE_PASSWORD = secure.keystorePassword
  const security: SecurityConfig = {
    protocol: 'SASL_SSL',
    sasl: { mechanism: 'SCRAM-SHA-512', username: secure.username, passwordEnv: 'SENTINEL_TEST_KAFKA_PASSWORD' },
    tls: { caFile: secure.caFile, pkcs12File: secure.clientKeystore, keyPasswordEnv: 'SENTINEL_TEST_KEYSTORE_PASSWORD' },
  }
  const kafka = new Kafka({ clientId: 'secured-test', brokers: [secure.bootstrap], logLevel: logLevel.NOTHING, ...kafkaSecurityOptions(security) })
  const admin = kafka.admin()
  await admin.connect()
  closers.push(() => admin.disconnect())
  const topics = { input: uniqueTopic('secure-in'), output: uniqueTopic('secure-out') }
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true })
  const producer = kafka.producer()
  await producer.connect()
  closers.push(() => producer.disconnect())
  const outputs: string[] = []
  const consumer = kafka.consumer({ groupId: uniqueTopic('secure-reader') }) // read_committed: kafkajs' default
  await consumer.connect()
  closers.push(() => consumer.disconnect())
  await consumer.subscribe({ topic: topics.output, fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => void outputs.push(`${message.key?.toString()}=${message.value?.toString()}`) })
  const outputReaches = async (value: string): Promise<void> => {
    const deadline = Date.now() + 60_000
    while (!outputs.includes(value) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    assert.ok(outputs.includes(value), `${value} in ${outputs.join(', ')}`)
  }

  const builder = new StreamsBuilder()
  builder
    .stream(topics.input, { key: Serdes.string(), value: Serdes.string() })
    .groupByKey()
    .count({ name: 'counts' })
    .toStream()
    .mapValues((n) => String(n))
    .to(topics.output, { key: Serdes.string(), value: Serdes.string() })
  const topology = builder.build()
  const applicationId = uniqueTopic('secure-app')
  const config = (): StreamsConfig => {
    const stateDir = mkdtempSync(join(tmpdir(), 'secure-state-'))
    dirs.push(stateDir)
    return { applicationId, brokers: [secure.bootstrap], security, stateDir, processingGuarantee: 'exactly-once', forwardingCacheMaxEntries: 0 }
  }

  const first = new SentinelStreams(topology, config(), { logger: false })
  closers.push(() => first.close())
  await first.start()
  await first.waitForState('running')
  await producer.send({ topic: topics.input, messages: ['1', '2', '3'].map((value) => ({ key: 'tenant', value })) })
  await outputReaches('tenant=3')
  await first.close()

  // A new instance with no local state: the count goes on only if it restored from the changelog.
  const second = new SentinelStreams(topology, config(), { logger: false })
  closers.push(() => second.close())
  await second.start()
  await second.waitForState('running')
  assert.ok(second.tasks().reduce((sum, t) => sum + t.restored, 0) >= 1, 'the fresh instance restored from the changelog')
  await producer.send({ topic: topics.input, messages: [{ key: 'tenant', value: '4' }] })
  await outputReaches('tenant=4')
  await second.close()

  const changelogs = (await admin.listTopics()).filter((t) => t.startsWith(`${applicationId}-`) && t.endsWith('-changelog'))
  assert.equal(changelogs.length, 1, 'the count has its changelog')
  assert.deepEqual(outputs, ['tenant=1', 'tenant=2', 'tenant=3', 'tenant=4'], 'each count once (exactly-once, read_committed)')
  await admin.deleteTopics({ topics: [...Object.values(topics), ...changelogs, `${applicationId}-dlq`] })
})
