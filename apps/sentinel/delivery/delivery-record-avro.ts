/**
 * DeliveryRecord as Avro, for the deliveries topic in the Schema Registry wire format.
 * DeliveryRecord.avsc beside this file is the same schema (a test keeps the two equal). It lives in
 * the app, beside its TS type, because the library (schemas/) must not depend on the app.
 *
 * `type`, `action` and `status` are strings, not Avro enums: a receiver type such as
 * `incident-manager` is no valid enum symbol, and a new status must not break old readers.
 */
import type avro from 'avsc'
import { RegistryAvroSerde, type RegistryAvroSerdeOptions } from '../../../schemas/registry/registry-avro-serde.js'
import type { DeliveryRecord } from './delivery-record.js'

const nullableString = (name: string, doc: string): avro.schema.RecordType['fields'][number] => ({ name, type: ['null', 'string'], default: null, doc })

export const deliveryRecordSchema: avro.Schema = {
  type: 'record',
  name: 'DeliveryRecord',
  namespace: 'sentinel.delivery',
  doc: 'One delivery of one alert to one receiver and how it went (LLM-Sentinel alert dispatcher).',
  fields: [
    nullableString('alert_id', 'Null only for a record that could not be read as an alert and had no key.'),
    nullableString('rule_id', 'Null for an unreadable alert.'),
    nullableString('receiver', 'Receiver name (webhook:<url> for an inline webhook); null when no receiver was resolved.'),
    nullableString('type', 'Receiver type: webhook | slack | pagerduty | incident-manager | shield; null when no receiver was resolved.'),
    nullableString('action', 'The rule action that routed the alert here: notification | shield | webhook | incident; null for an unreadable alert.'),
    { name: 'status', type: 'string', doc: 'success | failed | circuit_open | skipped' },
    { name: 'attempts', type: 'int' },
    nullableString('last_error', 'Why the last attempt failed, or why it was skipped.'),
    { name: 'http_status', type: ['null', 'int'], default: null },
    { name: 'duration_ms', type: 'double' },
    { name: 'at', type: 'string', doc: 'When the outcome was known (ISO-8601).' },
  ],
}

/** DeliveryRecord.avsc in the registry wire format, registered under the topic's subject at start. */
export function deliveryRecordRegistrySerde(options: Omit<RegistryAvroSerdeOptions, 'schema'>): RegistryAvroSerde<DeliveryRecord> {
  return new RegistryAvroSerde<DeliveryRecord>({ ...options, schema: deliveryRecordSchema })
}
