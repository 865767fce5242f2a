/**
 * AnomalyEvent (and AlertEvent, which embeds it) gained `dimensions`: the new schemas must stay
 * compatible with the ones published before it, both ways, as the Schema Registry's BACKWARD and
 * FORWARD checks require. The previous schemas are kept verbatim in fixtures/ (as released); avsc's
 * resolver applies Avro's schema-resolution rules, the same the registry checks against.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import avro from 'avsc'
import { alertEventSchema, toAvroAlert } from '../../../schemas/alert/alert-event-avro.js'
import { anomalyEventSchema, createAnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'
import { sampleAlert } from '../apps/sentinel/delivery/fixtures.js'

const fixture = (name: string): avro.Schema => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as avro.Schema
const plain = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>

const anomaly = createAnomalyEvent({
  anomaly_id: 'a-1',
  timestamp: '2026-01-01T00:00:00.000Z',
  detector_id: 'cost-streak',
  severity: 'warning',
  score: 0.7,
  application_id: 'chatbot',
  dimensions: { region: 'eu-west-1' },
})

describe('AnomalyEvent with dimensions against the schema before it', () => {
  const before = avro.Type.forSchema(fixture('AnomalyEvent.before-dimensions.avsc'))
  const now = avro.Type.forSchema(anomalyEventSchema)

  test('the only difference is the optional dimensions field, with a null default', () => {
    const names = (schema: avro.Schema) => (schema as avro.schema.RecordType).fields.map((f) => f.name)
    const added = names(anomalyEventSchema).filter((n) => !names(fixture('AnomalyEvent.before-dimensions.avsc')).includes(n))
    assert.deepEqual(added, ['dimensions'])
    const field = (anomalyEventSchema as avro.schema.RecordType).fields.find((f) => f.name === 'dimensions')
    assert.equal(field?.default, null, 'a default lets readers of the new schema read old records (BACKWARD)')
  })

  test('BACKWARD: the new schema reads records written with the old one, dimensions null', () => {
    const { dimensions: _, ...old } = anomaly
    const read = plain(now.fromBuffer(before.toBuffer(old), now.createResolver(before)))
    assert.deepEqual(read, { ...plain(old), dimensions: null })
  })

  test('FORWARD: the old schema reads records written with the new one, without dimensions', () => {
    const read = plain(before.fromBuffer(now.toBuffer(anomaly), before.createResolver(now)))
    const { dimensions: _, ...expected } = anomaly
    assert.deepEqual(read, plain(expected))
  })

  test('a change without a default would not be compatible (the check can fail)', () => {
    const strict = {
      ...(anomalyEventSchema as avro.schema.RecordType),
      fields: (anomalyEventSchema as avro.schema.RecordType).fields.map((f) =>
        f.name === 'dimensions' ? { name: 'dimensions', type: { type: 'map', values: 'string' } } : f,
      ),
    }
    assert.throws(() => avro.Type.forSchema(strict as avro.Schema).createResolver(before), /dimensions/)
  })
})

describe('AlertEvent (embedding AnomalyEvent) against the schema before dimensions', () => {
  const before = avro.Type.forSchema(fixture('AlertEvent.before-dimensions.avsc'))
  const now = avro.Type.forSchema(alertEventSchema)
  const alert = toAvroAlert(sampleAlert())

  test('BACKWARD and FORWARD: each reads the other', () => {
    const anomalyOf = (record: Record<string, unknown>) => record.anomaly as Record<string, unknown>
    const oldRecord = { ...alert, anomaly: { ...alert.anomaly, dimensions: undefined } }
    const byNew = plain(now.fromBuffer(before.toBuffer(oldRecord), now.createResolver(before)))
    assert.equal(anomalyOf(byNew).dimensions, null)
    const byOld = plain(before.fromBuffer(now.toBuffer(alert), before.createResolver(now)))
    assert.equal('dimensions' in anomalyOf(byOld), false)
    assert.equal(anomalyOf(byOld).anomaly_id, alert.anomaly.anomaly_id)
  })
})
