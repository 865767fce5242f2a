/**
 * Sentinel's topic formats without a live registry: the .avsc files match the inlined schemas, the
 * registry serdes round-trip offline (pinned ids), topic-serdes.ts picks plain or registry formats
 * from the settings, and registry credentials reach the registry (a fake one here) but never a log
 * line or an error message.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import type avro from 'avsc'
import { after, describe, test } from 'node:test'
import { deliveryRecordRegistrySerde, deliveryRecordSchema } from '../../../../apps/sentinel/delivery/delivery-record-avro.js'
import type { DeliveryRecord } from '../../../../apps/sentinel/delivery/delivery-record.js'
import { AlertDispatcher } from '../../../../apps/sentinel/delivery/alert-dispatcher.js'
import { buildSentinelTopology } from '../../../../apps/sentinel/detection.js'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'
import { parseReceiversConfig } from '../../../../apps/sentinel/delivery/receivers-config.js'
import { resolveSentinelSettings } from '../../../../apps/sentinel/sentinel-config.js'
import { sentinelTopicSerdes } from '../../../../apps/sentinel/topic-serdes.js'
import { ConfigError } from '../../../../runtime/config.js'
import type { IncomingRecord, OutgoingRecord } from '../../../../runtime/streams-runtime.js'
import { alertEventSchema } from '../../../../schemas/alert/alert-event-avro.js'
import { alertEventRegistrySerde } from '../../../../schemas/alert/alert-event-serde.js'
import { anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { anomalyEventRegistrySerde } from '../../../../schemas/anomaly/anomaly-serdes.js'
import { createRegistryClient, redactedRegistryUrl, registryAuthFromEnv } from '../../../../schemas/registry/registry-client.js'
import { registryAvroSerde } from '../../../../schemas/registry/registry-avro-serde.js'
import { SchemaNotReadyError } from '../../../../schemas/registry/errors.js'
import { SerdeError } from '../../../../schemas/serde.js'
import { sampleAlert } from './delivery/fixtures.js'

const json = (path: string): unknown => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'))
/** Decoded Avro records are class instances; compare their JSON. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

const delivery: DeliveryRecord = {
  alert_id: 'a-1',
  rule_id: 'r-1',
  receiver: 'ops',
  type: 'incident-manager',
  action: 'incident',
  status: 'circuit_open',
  attempts: 0,
  last_error: 'circuit open',
  http_status: null,
  duration_ms: 1.5,
  at: '2025-11-06T12:35:00.000Z',
}

describe('Avro schemas of the alerts and deliveries topics', () => {
  test('AlertEvent.avsc and DeliveryRecord.avsc are the inlined schemas; the alert embeds AnomalyEvent.avsc whole', () => {
    const fix = 'the .avsc is out of date: run `npx tsx scripts/write-avsc.ts`'
    assert.deepEqual(json('../../../../schemas/alert/AlertEvent.avsc'), plain(alertEventSchema), fix)
    assert.deepEqual(json('../../../../apps/sentinel/delivery/DeliveryRecord.avsc'), plain(deliveryRecordSchema), fix)
    const anomalyField = (alertEventSchema as { fields: { name: string; type: unknown }[] }).fields.find((f) => f.name === 'anomaly')
    assert.deepEqual(plain(anomalyField?.type), json('../../../../schemas/anomaly/AnomalyEvent.avsc'))
  })

  test('offline registry serdes frame each value with its schema id and read it back as the TS type', async () => {
    const alerts = alertEventRegistrySerde({ useSchemaId: 11, knownSchemas: { 11: alertEventSchema } })
    await alerts.prepare?.('alerts')
    const alert = sampleAlert({ aggregation: { function: 'count', value: 3, threshold: 2, window_start: 'a', window_end: 'b' }, actions: [{ type: 'shield', config: { action: 'block', duration: '15m' } }] })
    const bytes = alerts.serialize(alert, 'alerts')
    assert.equal(bytes[0], 0)
    assert.equal(bytes.readInt32BE(1), 11)
    assert.deepEqual(plain(alerts.deserialize(bytes)), plain(alert))

    const deliveries = deliveryRecordRegistrySerde({ useSchemaId: 12, knownSchemas: { 12: deliveryRecordSchema } })
    await deliveries.prepare('alert-deliveries')
    assert.deepEqual(plain(deliveries.deserialize(deliveries.serialize(delivery, 'alert-deliveries'))), delivery)

    const anomalies = anomalyEventRegistrySerde({ useSchemaId: 13, knownSchemas: { 13: anomalyEventSchema } })
    await anomalies.prepare('anomalies')
    assert.deepEqual(plain(anomalies.deserialize(anomalies.serialize(alert.anomaly, 'anomalies'))), plain(alert.anomaly))
  })

  test('an alert that does not fit the schema is a SerdeError naming the field', async () => {
    const alerts = alertEventRegistrySerde({ useSchemaId: 11, knownSchemas: { 11: alertEventSchema } })
    await alerts.prepare?.('alerts')
    assert.throws(() => alerts.serialize({ ...sampleAlert(), severity: 'fatal' as 'critical' }, 'alerts'), (e: unknown) => e instanceof SerdeError && /severity/.test(e.message))
  })
})

describe('topic-serdes.ts: one decision per topic from the settings', () => {
  test('no registry: anomalies raw Avro, alerts and deliveries JSON', () => {
    const serdes = sentinelTopicSerdes(resolveSentinelSettings({}, {}))
    assert.equal(serdes.outputFormat, 'plain')
    assert.deepEqual([serdes.anomalies.name, serdes.alerts.name, serdes.deliveries.name], ['avro(AnomalyEvent)', 'json(AlertEvent)', 'json(DeliveryRecord)'])
  })

  test('a registry URL (config or SCHEMA_REGISTRY_URL): every output in the wire format', () => {
    for (const [config, env] of [[{ schemaRegistryUrl: 'http://r:8081' }, {}], [{}, { SCHEMA_REGISTRY_URL: 'http://r:8081' }], [{ sentinel: { schemaRegistry: { url: 'http://r:8081' } } }, {}]] as const) {
      const serdes = sentinelTopicSerdes(resolveSentinelSettings(config, env))
      assert.equal(serdes.outputFormat, 'registry')
      assert.deepEqual(
        [serdes.anomalies.name, serdes.alerts.name, serdes.deliveries.name],
        ['registry-avro(sentinel.anomaly.AnomalyEvent)', 'registry-avro(sentinel.alert.AlertEvent)', 'registry-avro(sentinel.delivery.DeliveryRecord)'],
      )
    }
  })
})

test("the detection stage alone: anomalyFormat 'registry-avro' needs the registry URL, and says so", () => {
  const detectors = loadDetectorsConfig(DEFAULT_DETECTORS_PATH)
  assert.throws(() => buildSentinelTopology({ detectors, anomalyFormat: 'registry-avro' }), /needs schemaRegistryUrl/)
  assert.doesNotThrow(() => buildSentinelTopology({ detectors, anomalyFormat: 'registry-avro', schemaRegistryUrl: 'http://r:8081' }))
})

test('with a registry, records written before it was configured are still read (JSON alerts and deliveries, raw Avro anomalies)', () => {
  const before = sentinelTopicSerdes(resolveSentinelSettings({}, {}))
  const after = sentinelTopicSerdes(resolveSentinelSettings({ schemaRegistryUrl: 'http://127.0.0.1:9' }, {}))
  const alert = sampleAlert()
  assert.deepEqual(plain(after.alerts.deserialize(before.alerts.serialize(alert, 'alerts'))), plain(alert))
  assert.deepEqual(plain(after.anomalies.deserialize(before.anomalies.serialize(alert.anomaly, 'anomalies'))), plain(alert.anomaly))
  assert.deepEqual(plain(after.deliveries.deserialize(before.deliveries.serialize(delivery, 'alert-deliveries'))), delivery)
  // The wire format still goes to the registry serde: an id not cached yet is fetched, not guessed.
  assert.throws(() => after.alerts.deserialize(Buffer.from([0, 0, 0, 0, 9, 2])), SchemaNotReadyError)
})

describe('registry settings', () => {
  const fails = (sentinel: unknown, env: NodeJS.ProcessEnv, field: string, message: RegExp): void => {
    assert.throws(() => resolveSentinelSettings({ sentinel }, env), (e: unknown) => e instanceof ConfigError && e.field === field && message.test(e.message))
  }

  test('defaults: TopicNameStrategy, no credentials', () => {
    assert.deepEqual(resolveSentinelSettings({}, {}).schemaRegistry, { url: null, subjectNameStrategy: 'TopicNameStrategy', auth: null })
  })

  test('strategy and credentials from the file; the environment overrides credentials', () => {
    const file = resolveSentinelSettings({ sentinel: { schemaRegistry: { subjectNameStrategy: 'RecordNameStrategy', auth: { username: 'u', password: 'file-secret' } } } }, {})
    assert.equal(file.schemaRegistry.subjectNameStrategy, 'RecordNameStrategy')
    assert.deepEqual({ ...file.schemaRegistry.auth }, { kind: 'basic', username: 'u', password: 'file-secret' })
    const env = resolveSentinelSettings({ sentinel: { schemaRegistry: { auth: { username: 'u', password: 'file-secret' } } } }, { SCHEMA_REGISTRY_TOKEN: 'env-token' })
    assert.deepEqual({ ...env.schemaRegistry.auth }, { kind: 'bearer', token: 'env-token' })
    assert.deepEqual(registryAuthFromEnv({ SCHEMA_REGISTRY_AUTH: 'svc:pa:ss' }), { kind: 'basic', username: 'svc', password: 'pa:ss' })
  })

  test('credentials never show in JSON, inspect, or an error', () => {
    const settings = resolveSentinelSettings({ sentinel: { schemaRegistry: { auth: { username: 'u', password: 'file-secret' } } } }, {})
    assert.ok(!JSON.stringify(settings).includes('file-secret'))
    assert.ok(!inspect(settings, { depth: 10 }).includes('file-secret'))
    assert.throws(
      () => resolveSentinelSettings({ sentinel: { schemaRegistry: { auth: { user: 'u', password: 'file-secret' } } } }, {}),
      (e: unknown) => e instanceof ConfigError && !e.message.includes('file-secret') && /SCHEMA_REGISTRY_AUTH/.test(e.message),
    )
    assert.throws(() => resolveSentinelSettings({}, { SCHEMA_REGISTRY_AUTH: 'no-colon-secret' }), (e: unknown) => e instanceof ConfigError && !e.message.includes('no-colon-secret'))
    assert.equal(redactedRegistryUrl('http://u:url-secret@r:8081/apis/ccompat/v7'), 'http://r:8081/apis/ccompat/v7')
  })

  test('bad values fail naming the field and the fix', () => {
    fails({ schemaRegistry: { subjectNameStrategy: 'TopicStrategy' } }, {}, 'sentinel.schemaRegistry.subjectNameStrategy', /TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy/)
    fails({ schemaRegistry: { url: 'ftp://x' } }, {}, 'sentinel.schemaRegistry.url', /http/)
    fails({ schemaRegistry: { retries: 3 } }, {}, 'sentinel.schemaRegistry.retries', /Known settings/)
    assert.throws(() => resolveSentinelSettings({}, { SCHEMA_REGISTRY_AUTH: 'u:p', SCHEMA_REGISTRY_TOKEN: 't' }), /keep the one/)
  })
})

/** A Confluent-compatible registry that knows one thing: registering. It records what it was sent. */
class FakeRegistry {
  readonly requests: { method: string; url: string; authorization: string | undefined }[] = []
  status = 200
  private server: Server | undefined
  url = ''

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      req.resume()
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization })
        const type = { 'content-type': 'application/vnd.schemaregistry.v1+json' }
        if (this.status !== 200) return void res.writeHead(this.status, type).end(JSON.stringify({ error_code: this.status, message: `fake registry says ${this.status}` }))
        if (req.method === 'GET' && req.url?.startsWith('/config/')) return void res.writeHead(404, type).end(JSON.stringify({ error_code: 40401, message: 'Subject not found' }))
        if (req.method === 'POST') return void res.writeHead(200, type).end(JSON.stringify({ id: 42 }))
        res.writeHead(200, type).end(JSON.stringify({ compatibility: 'BACKWARD' }))
      })
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  close(): void {
    this.server?.close()
  }

  subjects(): string[] {
    return this.requests.filter((r) => r.method === 'POST').map((r) => decodeURIComponent(/\/subjects\/([^/]+)\/versions/.exec(r.url)?.[1] ?? ''))
  }
}

describe('registry auth and subject strategies against a fake registry', () => {
  const fake = new FakeRegistry()
  after(() => fake.close())
  const schema = { type: 'record', name: 'Ping', namespace: 'sentinel.test', fields: [{ name: 'n', type: 'int' }] } satisfies avro.Schema

  test('basic auth (settings, URL userinfo) and bearer tokens are sent as Authorization headers', async () => {
    await fake.start()
    const prepare = (registry: ReturnType<typeof createRegistryClient>, topic: string) => registryAvroSerde({ registry, schema }).prepare(topic)
    await prepare(createRegistryClient({ url: fake.url, auth: { kind: 'basic', username: 'svc', password: 'pw' } }), 't1')
    await prepare(createRegistryClient({ url: fake.url.replace('http://', 'http://svc2:p%40ss@') }), 't2')
    await prepare(createRegistryClient({ url: fake.url, auth: { kind: 'bearer', token: 'tok-123' } }), 't3')
    const byTopic = (topic: string) => fake.requests.find((r) => r.method === 'POST' && r.url.includes(`/subjects/${topic}-value/`))?.authorization
    assert.equal(byTopic('t1'), `Basic ${Buffer.from('svc:pw').toString('base64')}`)
    assert.equal(byTopic('t2'), `Basic ${Buffer.from('svc2:p@ss').toString('base64')}`)
    assert.equal(byTopic('t3'), 'Bearer tok-123')
  })

  test('the configured subject strategy names the subjects of every output', async () => {
    fake.requests.length = 0
    for (const strategy of ['TopicNameStrategy', 'RecordNameStrategy', 'TopicRecordNameStrategy'] as const) {
      const serdes = sentinelTopicSerdes(resolveSentinelSettings({ schemaRegistryUrl: fake.url, sentinel: { schemaRegistry: { subjectNameStrategy: strategy } } }, {}))
      await serdes.anomalies.prepare?.('anomalies')
      await serdes.alerts.prepare?.('alerts')
      await serdes.deliveries.prepare?.('alert-deliveries')
    }
    assert.deepEqual(fake.subjects(), [
      'anomalies-value',
      'alerts-value',
      'alert-deliveries-value',
      'sentinel.anomaly.AnomalyEvent',
      'sentinel.alert.AlertEvent',
      'sentinel.delivery.DeliveryRecord',
      'anomalies-sentinel.anomaly.AnomalyEvent',
      'alerts-sentinel.alert.AlertEvent',
      'alert-deliveries-sentinel.delivery.DeliveryRecord',
    ])
  })

  test('refused credentials: the error names the subject, what the registry said and the fix, not the secret', async () => {
    fake.status = 401
    try {
      const serdes = sentinelTopicSerdes(resolveSentinelSettings({ schemaRegistryUrl: fake.url }, { SCHEMA_REGISTRY_AUTH: 'svc:very-secret' }))
      await assert.rejects(serdes.alerts.prepare!('alerts'), (e: unknown) => {
        const message = (e as Error).message
        assert.match(message, /subject alerts-value/)
        assert.match(message, /fake registry says 401/)
        assert.match(message, /SCHEMA_REGISTRY_AUTH/)
        assert.ok(!message.includes('very-secret'))
        return true
      })
    } finally {
      fake.status = 200
    }
  })

  test('the dispatcher writes deliveries with the registry serde it is given, prepared at start', async () => {
    fake.requests.length = 0
    const serdes = sentinelTopicSerdes(resolveSentinelSettings({ schemaRegistryUrl: fake.url }, {}))
    const sent: OutgoingRecord[] = []
    let handler: ((records: readonly IncomingRecord[]) => Promise<void>) | undefined
    const runtime = {
      consume: async (_topic: string, _options: unknown, h: (records: readonly IncomingRecord[]) => Promise<void>) => {
        handler = h
        return { stop: async () => {} }
      },
      send: async (_topic: string, records: readonly OutgoingRecord[]) => void sent.push(...records),
    }
    const dispatcher = new AlertDispatcher({ receivers: parseReceiversConfig('receivers: []'), runtime, alertSerde: serdes.alerts, deliverySerde: serdes.deliveries })
    await dispatcher.start()
    assert.deepEqual(fake.subjects(), ['alert-deliveries-value'])
    await serdes.alerts.prepare?.('alerts')
    const value = serdes.alerts.serialize(sampleAlert({ actions: [{ type: 'notification', config: { receivers: ['nobody'] } }] }), 'alerts')
    await handler!([{ topic: 'alerts', partition: 0, offset: '0', key: null, value, headers: {}, timestamp: 0 }])
    await handler!([{ topic: 'alerts', partition: 0, offset: '1', key: Buffer.from('k'), value: Buffer.from('{"not":"avro"}'), headers: {}, timestamp: 0 }])
    await dispatcher.stop()
    const records = sent.map((r) => serdes.deliveries.deserialize(r.value as Buffer))
    assert.equal(records[0]?.alert_id, sampleAlert().alert_id)
    assert.equal(records[0]?.status, 'failed')
    // Not the wire format: read as the JSON of before the registry, which it is not either.
    assert.match(records[1]?.last_error ?? '', /not an AlertEvent: .*alert_id: must be a string/)
  })
})
