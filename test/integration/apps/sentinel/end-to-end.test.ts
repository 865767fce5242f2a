/**
 * LLM-Sentinel end to end on the real broker and the real schema registry: telemetry in (Avro in the
 * registry wire format, and JSON), anomalies out, alerts through the alert manager to two local
 * webhook receivers — one healthy and checked for a valid HMAC signature, one failing twice before it
 * answers — with throttling and deduplication holding, and the stream going on meanwhile. With the
 * registry configured every output is in the Confluent wire format, and Confluent's own Python
 * client reads the anomalies and alerts knowing nothing but the registry URL.
 */
import { spawn } from 'node:child_process'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import kafkajs from 'kafkajs'
import pino from 'pino'
import { Registry } from 'prom-client'
import { buildSentinelAppTopology, loadSentinelApp, startSentinelServices, type SentinelServices } from '../../../../apps/sentinel/sentinel-app.js'
import { verifyWebhookSignature } from '../../../../apps/sentinel/delivery/index.js'
import { SentinelStreams } from '../../../../runtime/kafka/sentinel-streams.js'
import type { AlertEvent } from '../../../../schemas/alert/alert-event.js'
import { sentinelTopicSerdes } from '../../../../apps/sentinel/topic-serdes.js'
import { SchemaNotReadyError } from '../../../../schemas/registry/errors.js'
import type { Serde } from '../../../../schemas/serde.js'
import { telemetryRegistrySerde } from '../../../../schemas/telemetry/index.js'
import { pythonRegistryConsumer, REGISTRY_CONSUMER_SCRIPT } from '../../../../scripts/python-registry-consumer.js'
import type { SchemaRegistryLease } from '../../../../scripts/schema-registry.js'
import { kafkaBrokers, testKafka, uniqueTopic } from '../../../kafka.js'
import { useSchemaRegistry } from '../../../schema-registry.js'
import { T0, createSentinelTopics, response } from './sentinel-fixtures.js'

const SECRET = 'e2e-webhook-secret'

interface Received {
  readonly path: string
  readonly body: string
  readonly headers: IncomingMessage['headers']
}

/** Two receivers on one local server: /hook answers 200; /flaky answers 503 twice, then 200. */
async function startReceivers(): Promise<{ server: Server; url: string; received: Received[]; flakyCalls: () => number }> {
  const received: Received[] = []
  let flaky = 0
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      const path = request.url ?? ''
      if (path === '/flaky' && ++flaky <= 2) {
        response.writeHead(503).end()
        return
      }
      received.push({ path, body: Buffer.concat(chunks).toString('utf8'), headers: request.headers })
      response.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, flakyCalls: () => flaky }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

let registry: SchemaRegistryLease
before(async () => {
  registry = await useSchemaRegistry()
})
after(async () => {
  await registry.release()
})

for (const format of ['registry-avro', 'json'] as const) {
  test(`telemetry as ${format}: anomalies out, alerts delivered signed, a failing receiver retried, throttling and dedup hold`, { timeout: 300_000 }, async (t) => {
    const kafka = testKafka()
    const admin = kafka.admin()
    await admin.connect()
    const topics = await createSentinelTopics(admin, 'e2e', 2)
    const receivers = await startReceivers()
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-e2e-'))
    const receiversFile = join(dir, 'receivers.yaml')
    writeFileSync(
      receiversFile,
      [
        'receivers:',
        '  - name: hook',
        '    type: webhook',
        `    config: { url: "${receivers.url}/hook", secret: ${SECRET} }`,
        '  - name: flaky',
        '    type: webhook',
        `    config: { url: "${receivers.url}/flaky" }`,
        '    delivery: { retry: { maxAttempts: 4, initialBackoff: 50ms, maxBackoff: 200ms } }',
      ].join('\n'),
    )
    const rulesFile = join(dir, 'rules.yaml')
    writeFileSync(
      rulesFile,
      [
        'rules:',
        '  - alert_id: costly',
        '    name: Costly calls',
        '    conditions: { trigger: anomaly, filters: { detector_ids: [cost-threshold] } }',
        '    actions: [{ type: notification, config: { receivers: [hook, flaky] } }]',
        '    throttling: { max_frequency: 5m, grouping: [application_id, detector_id] }',
      ].join('\n'),
    )
    const applicationId = uniqueTopic('e2e-sentinel')
    const runConfig = {
      applicationId,
      sentinel: {
        alertRules: rulesFile,
        receivers: receiversFile,
        topics,
        input: { format: format, ...(format === 'registry-avro' ? { schemaRegistryUrl: registry.url } : {}) },
        api: { enabled: false },
      },
    }
    const app = loadSentinelApp(runConfig, {})
    // The test reads and writes Sentinel's topics as the app does: in the format the settings pick.
    const serdes = sentinelTopicSerdes(app.settings)
    assert.equal(serdes.outputFormat, format === 'registry-avro' ? 'registry' : 'plain')
    const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'silent' })
    const metrics = new Registry()
    const streams = new SentinelStreams(buildSentinelAppTopology(app, { metrics, logger }), { applicationId, brokers: kafkaBrokers(), stateDir: join(dir, 'state'), commitIntervalMs: 200 }, { logger, metrics })
    let services: SentinelServices | undefined
    const producer = kafka.producer()
    try {
      await streams.start()
      await streams.waitForState('running')
      services = await startSentinelServices(app, { runtime: streams, logger, metrics })
      await producer.connect()

      const serde = format === 'json' ? undefined : telemetryRegistrySerde({ registry: registry.url })
      await serde?.prepare?.(topics.telemetry)
      let n = 0
      const send = async (calls: readonly (readonly [number, number])[]): Promise<void> => {
        const messages = calls.map(([second, cost]) => {
          const event = response('billing-bot', second, cost, ++n)
          return { key: 'billing-bot', value: serde ? serde.serialize(event, topics.telemetry) : JSON.stringify(event), timestamp: String(T0 + second * 1000) }
        })
        await producer.send({ topic: topics.telemetry, messages })
      }

      // A streak of three calls over $1: one cost-threshold anomaly, one alert to both receivers.
      await send([[0, 1.5], [1, 2], [2, 3]])
      const first = await waitFor('the first alert at /hook', () => receivers.received.find((r) => r.path === '/hook'))
      const verified = verifyWebhookSignature(first.body, first.headers as Record<string, string>, SECRET)
      assert.equal(verified.ok, true, `the HMAC signature verifies: ${JSON.stringify(verified)}`)
      assert.equal(verifyWebhookSignature(first.body.replace('billing-bot', 'other-bot'), first.headers as Record<string, string>, SECRET).ok, false)
      const alert = JSON.parse(first.body) as AlertEvent
      assert.equal(alert.rule_id, 'costly')
      assert.equal(alert.anomaly.detector_id, 'cost-threshold')

      // The flaky receiver failed twice and got it on the third attempt, recorded on the deliveries topic.
      await waitFor('the flaky receiver to get the alert', () => receivers.received.find((r) => r.path === '/flaky'))
      assert.equal(receivers.flakyCalls(), 3)

      // A second streak 90 s later is inside max_frequency (5m): throttled, nothing sent. The same
      // anomaly written again (an at-least-once replay) is deduplicated. A third streak 7 minutes on
      // pages again, counting the suppressed one — and proves the stream went on meanwhile.
      await send([[3, 0.1], [90, 1.2], [91, 1.3], [92, 1.4], [93, 0.1]])
      // The throttle decision before the third streak: events reach the detectors through a
      // repartition by event id (the deduplication), so a later streak can overtake an earlier one
      // when one of those tasks lags (seen when a task's start retried), and the suppressed count
      // then goes to the alert after.
      await waitFor('the second streak throttled', async () => {
        const suppressed = await metrics.getSingleMetric('sentinel_alerts_suppressed_total')?.get()
        return suppressed?.values.some((v) => v.labels.reason === 'throttled' && v.value >= 1) ? true : undefined
      })
      await serdes.anomalies.prepare?.(topics.anomalies)
      await producer.send({ topic: topics.anomalies, messages: [{ key: 'billing-bot', value: serdes.anomalies.serialize(alert.anomaly, topics.anomalies), timestamp: String(Date.parse(alert.anomaly.timestamp)) }] })
      await send([[420, 5], [421, 5], [422, 5]])
      const hooks = await waitFor('the second alert at /hook', () => {
        const got = receivers.received.filter((r) => r.path === '/hook')
        return got.length >= 2 ? got : undefined
      })
      await new Promise((r) => setTimeout(r, 1500)) // anything extra would have arrived by now
      const sent = receivers.received.filter((r) => r.path === '/hook').map((r) => JSON.parse(r.body) as AlertEvent)
      assert.equal(sent.length, 2, `two alerts, not ${sent.length}: ${sent.map((a) => a.timestamp).join(', ')}`)
      assert.equal(sent[1]?.suppressed_count, 1)
      assert.equal(sent[1]?.timestamp, new Date(T0 + 422_000).toISOString())
      assert.ok(hooks.every((h) => verifyWebhookSignature(h.body, h.headers as Record<string, string>, SECRET).ok))

      // The delivery history: every (alert, receiver) recorded, the flaky one with its attempts.
      const deliveries = await readAll(kafka, topics.deliveries, 4, serdes.deliveries)
      const flaky = deliveries.find((d) => d.receiver === 'flaky' && d.alert_id === alert.alert_id)
      assert.equal(flaky?.status, 'success')
      assert.equal(flaky?.attempts, 3)
      const anomalies = await readAll(kafka, topics.anomalies, 3, serdes.anomalies)
      assert.ok(anomalies.filter((a) => a.detector_id === 'cost-threshold').length >= 3)

      if (format === 'registry-avro') {
        await t.test("Confluent's Python client reads the anomalies, alerts and deliveries knowing only the registry URL", async (st) => {
          const consumer = pythonRegistryConsumer()
          if ('unavailable' in consumer) {
            st.skip(`skipped: ${consumer.unavailable}`)
            return
          }
          const args = [REGISTRY_CONSUMER_SCRIPT, '--brokers', kafkaBrokers().join(','), '--registry', registry.url, '--topic', topics.anomalies, '--topic', topics.alerts, '--topic', topics.deliveries, '--min-per-topic', '2', '--timeout', '90']
          // Not spawnSync: the app runs in this process and must keep committing its transactions,
          // or the Python consumer (read_committed, librdkafka's default) waits behind an open one.
          const run = await runPython(consumer.python, args, 120_000)
          assert.equal(run.status, 0, `the Python consumer failed: ${run.stderr}`)
          const records = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { topic: string; schema_id: number; value: Record<string, unknown> })
          const pyAnomaly = records.find((r) => r.topic === topics.anomalies && r.value.detector_id === 'cost-threshold')
          assert.ok(pyAnomaly, `an anomaly read by Python: ${run.stdout.slice(0, 500)}`)
          assert.equal(pyAnomaly.value.severity, alert.anomaly.severity)
          const pyAlert = records.find((r) => r.topic === topics.alerts)
          assert.ok(pyAlert, 'an alert read by Python')
          assert.equal(pyAlert.value.rule_id, 'costly')
          assert.equal((pyAlert.value.anomaly as Record<string, unknown>).detector_id, 'cost-threshold')
          assert.deepEqual(JSON.parse((pyAlert.value.actions as { config: string }[])[0]!.config), { receivers: ['hook', 'flaky'] })
          // The ids in the records are the ones registered under the TopicNameStrategy subjects.
          const client = new SchemaRegistry({ host: registry.url })
          assert.equal(pyAlert.schema_id, await client.getLatestSchemaId(`${topics.alerts}-value`))
          assert.equal(pyAnomaly.schema_id, await client.getLatestSchemaId(`${topics.anomalies}-value`))
          const pyDelivery = records.find((r) => r.topic === topics.deliveries && r.value.receiver === 'hook')
          assert.equal(pyDelivery?.value.status, 'success')
        })
      }
    } finally {
      await producer.disconnect()
      await services?.close()
      await streams.close()
      await admin.disconnect()
      receivers.server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** Runs a Python script without blocking the event loop; its output once it exits. */
function runPython(python: string, args: readonly string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { timeout: timeoutMs })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

/** Reads a topic from the start until `atLeast` records arrived, fetching an unknown registry schema id once. */
async function readAll<T>(kafka: kafkajs.Kafka, topic: string, atLeast: number, serde: Serde<T>): Promise<T[]> {
  const values: T[] = []
  const consumer = kafka.consumer({ groupId: uniqueTopic('e2e-reader') })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.value) return
      try {
        values.push(serde.deserialize(message.value, topic))
      } catch (err) {
        if (!(err instanceof SchemaNotReadyError)) throw err
        await err.ready()
        values.push(serde.deserialize(message.value, topic))
      }
    },
  })
  await waitFor(`${atLeast} records on ${topic}`, () => (values.length >= atLeast ? true : undefined), 30_000)
  await consumer.disconnect()
  return values
}
