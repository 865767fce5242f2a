/**
 * Sentinel's output schemas against a real registry (Apicurio, started by scripts/schema-registry.ts
 * unless SCHEMA_REGISTRY_URL names one), no broker needed:
 * - a v2 of AnomalyEvent / AlertEvent / DeliveryRecord with a new optional field (with default) is
 *   accepted under the same subject; v1 reads what v2 writes and v2 reads what v1 writes, each
 *   consumer fetching the other's writer schema from the registry by the id in the record;
 * - so is today's AnomalyEvent (with `dimensions`) over the one released before it (a fixture);
 * - an incompatible AnomalyEvent already registered under the anomalies subject makes the app's
 *   start fail, naming the subject, what the registry said and the fix.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import type avro from 'avsc'
import pino from 'pino'
import { deliveryRecordSchema } from '../../../../apps/sentinel/delivery/delivery-record-avro.js'
import { buildSentinelAppTopology, loadSentinelApp } from '../../../../apps/sentinel/sentinel-app.js'
import { sentinelTopicSerdes } from '../../../../apps/sentinel/topic-serdes.js'
import { StandaloneStreams } from '../../../../runtime/standalone/standalone-streams.js'
import { alertEventSchema } from '../../../../schemas/alert/alert-event-avro.js'
import { anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { registryAvroSerde, SchemaNotReadyError } from '../../../../schemas/registry/index.js'
import type { Serde } from '../../../../schemas/serde.js'
import type { SchemaRegistryLease } from '../../../../scripts/schema-registry.js'
import { uniqueTopic } from '../../../kafka.js'
import { useSchemaRegistry } from '../../../schema-registry.js'
import { sampleAlert } from '../../../unit/apps/sentinel/delivery/fixtures.js'

type Row = Record<string, unknown>
type RecordSchema = avro.schema.RecordType

/** v2: the same record with one optional field more (null default): a BACKWARD- and FORWARD-compatible change. */
const withOptionalField = (schema: avro.Schema, field: string): avro.Schema => {
  const record = schema as RecordSchema
  return { ...record, fields: [...record.fields, { name: field, type: ['null', 'string'], default: null }] }
}

/** Deserializes as the runtime does: an uncached writer id is fetched once, then the record is read. */
async function read<T>(serde: Serde<T>, data: Buffer): Promise<T> {
  try {
    return serde.deserialize(data)
  } catch (e) {
    if (!(e instanceof SchemaNotReadyError)) throw e
    await e.ready()
    return serde.deserialize(data)
  }
}

const plain = (value: unknown): Row => JSON.parse(JSON.stringify(value)) as Row

describe('Sentinel output schemas on a real registry', () => {
  let lease: SchemaRegistryLease
  before(async () => {
    lease = await useSchemaRegistry()
  })
  after(async () => {
    await lease?.release()
  })

  const settings = () => loadSentinelApp({ schemaRegistryUrl: lease.url }, {}).settings

  const anomaly = sampleAlert().anomaly
  const cases = [
    { what: 'AnomalyEvent', v1: anomalyEventSchema, value: anomaly as unknown as Row, serde: () => sentinelTopicSerdes(settings()).anomalies as Serde<unknown> },
    { what: 'DeliveryRecord', v1: deliveryRecordSchema, value: { alert_id: 'a', rule_id: 'r', receiver: 'ops', type: 'slack', action: 'notification', status: 'success', attempts: 1, last_error: null, http_status: 200, duration_ms: 12, at: '2025-11-06T12:35:00.000Z' }, serde: () => sentinelTopicSerdes(settings()).deliveries as Serde<unknown> },
  ] as const

  for (const { what, v1, value, serde } of cases) {
    test(`${what}: a new optional field written by v2 is read by v1, and v1's records by v2`, async () => {
      const topic = uniqueTopic(`evolve-${what.toLowerCase()}`)
      const v1Writer = serde()
      await v1Writer.prepare!(topic)
      const fromV1 = v1Writer.serialize(value, topic)

      const v2 = registryAvroSerde<Row>({ registry: lease.url, schema: withOptionalField(v1, 'added_in_v2') })
      await v2.prepare(topic) // the registry accepts v2 under BACKWARD compatibility
      const fromV2 = v2.serialize({ ...value, added_in_v2: 'new' }, topic)
      assert.notEqual(fromV1.readInt32BE(1), fromV2.readInt32BE(1), 'v2 has its own schema id')

      // Fresh consumers, as another process would be: each fetches the other's writer schema.
      assert.deepEqual(plain(await read(registryAvroSerde<Row>({ registry: lease.url, schema: withOptionalField(v1, 'added_in_v2') }), fromV1)), { ...plain(value), added_in_v2: null })
      assert.deepEqual(plain(await read(serde(), fromV2)), plain(value))
      const client = new SchemaRegistry({ host: lease.url })
      assert.equal(await client.getLatestSchemaId(`${topic}-value`), fromV2.readInt32BE(1))
    })
  }

  test('AnomalyEvent with dimensions is accepted over the AnomalyEvent released before it, and each reads the other', async () => {
    const topic = uniqueTopic('evolve-dimensions')
    const released = JSON.parse(readFileSync(new URL('../../../unit/schemas/fixtures/AnomalyEvent.before-dimensions.avsc', import.meta.url), 'utf8')) as avro.Schema
    const { dimensions: _, ...old } = plain(anomaly)
    const before = registryAvroSerde<Row>({ registry: lease.url, schema: released })
    await before.prepare(topic)
    const fromBefore = before.serialize(old, topic)
    const today = sentinelTopicSerdes(settings()).anomalies as Serde<unknown>
    await today.prepare!(topic) // the registry's BACKWARD check accepts the new optional field
    const fromToday = today.serialize({ ...anomaly, dimensions: { region: 'eu-west-1' } }, topic)
    assert.deepEqual(plain(await read(sentinelTopicSerdes(settings()).anomalies as Serde<unknown>, fromBefore)), { ...old, dimensions: null })
    assert.deepEqual(plain(await read(registryAvroSerde<Row>({ registry: lease.url, schema: released }), fromToday)), old)
  })

  test('AlertEvent: v1 and v2 read each other, action configs included', async () => {
    const topic = uniqueTopic('evolve-alerts')
    const v1 = sentinelTopicSerdes(settings()).alerts
    await v1.prepare!(topic)
    const alert = sampleAlert()
    const fromV1 = v1.serialize(alert, topic)
    const v2 = registryAvroSerde<Row>({ registry: lease.url, schema: withOptionalField(alertEventSchema, 'runbook_url') })
    await v2.prepare(topic)
    const v2Row = { ...plain(alert), actions: alert.actions.map((a) => ({ type: a.type, config: JSON.stringify(a.config) })), runbook_url: 'https://runbooks/x' }
    const fromV2 = v2.serialize(v2Row, topic)
    assert.equal(plain(await read(v2, fromV1)).runbook_url, null)
    assert.deepEqual(plain(await read(sentinelTopicSerdes(settings()).alerts, fromV2)), plain(alert))
  })

  test('RecordNameStrategy and TopicRecordNameStrategy subjects on the real registry', async () => {
    const topic = uniqueTopic('strategies-alerts')
    const client = new SchemaRegistry({ host: lease.url })
    for (const [subjectNameStrategy, subject] of [
      ['RecordNameStrategy', 'sentinel.alert.AlertEvent'],
      ['TopicRecordNameStrategy', `${topic}-sentinel.alert.AlertEvent`],
    ] as const) {
      const serdes = sentinelTopicSerdes(loadSentinelApp({ schemaRegistryUrl: lease.url, sentinel: { schemaRegistry: { subjectNameStrategy } } }, {}).settings)
      await serdes.alerts.prepare!(topic)
      const bytes = serdes.alerts.serialize(sampleAlert(), topic)
      assert.equal(bytes.readInt32BE(1), await client.getLatestSchemaId(subject), `${subjectNameStrategy} writes with the id of subject ${subject}`)
    }
  })

  test('an incompatible schema already under the anomalies subject fails the start: subject, registry answer, fix', async () => {
    const anomalies = uniqueTopic('incompatible-anomalies')
    // An earlier AnomalyEvent whose score was a string: today's double cannot read its records.
    const earlier = { ...(anomalyEventSchema as RecordSchema), fields: (anomalyEventSchema as RecordSchema).fields.map((f) => (f.name === 'score' ? { name: 'score', type: 'string' } : f)) }
    await new SchemaRegistry({ host: lease.url }).register({ type: SchemaType.AVRO, schema: JSON.stringify(earlier) }, { subject: `${anomalies}-value`, compatibility: COMPATIBILITY.BACKWARD })

    const dir = mkdtempSync(join(tmpdir(), 'sentinel-incompatible-'))
    const app = loadSentinelApp({ schemaRegistryUrl: lease.url, sentinel: { topics: { anomalies }, api: { enabled: false } } }, {})
    const streams = new StandaloneStreams(buildSentinelAppTopology(app), { applicationId: uniqueTopic('incompatible'), stateDir: dir }, { logger: pino({ level: 'silent' }) })
    try {
      await assert.rejects(streams.start(), (e: unknown) => {
        const message = (e as Error).message
        assert.match(message, new RegExp(`subject ${anomalies}-value`), message)
        assert.match(message, /the registry said: .*\S/, message)
        assert.match(message, /incompatible with the versions already registered: evolve it compatibly \(add fields with defaults/, message)
        return true
      })
    } finally {
      await streams.close().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
