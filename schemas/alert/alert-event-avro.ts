/**
 * AlertEvent as Avro (AlertEvent.avsc beside this file is the same schema for other languages,
 * written from this one by scripts/write-avsc.ts; a test keeps the two equal). It embeds
 * AnomalyEvent.avsc whole, so one registry subject describes an alert completely and a consumer needs
 * no schema references; a change to AnomalyEvent is a change to AlertEvent too.
 *
 * One field differs in shape from the TS type: an action's `config` (free-form settings from the
 * rules file) is a JSON object encoded as a string, as Avro has no "any JSON" type. `toAvroAlert`
 * and `fromAvroAlert` convert, so TS code never sees the string.
 */
import avro from 'avsc'
import { anomalyEventSchema } from '../anomaly/anomaly-event.js'
import type { AlertAction, AlertEvent } from './alert-event.js'

export const alertEventSchema: avro.Schema = {
  type: 'record',
  name: 'AlertEvent',
  namespace: 'sentinel.alert',
  doc: 'An alert: one alert rule firing for one group in one aggregation window (LLM-Sentinel alert manager). Times are ISO-8601 strings.',
  fields: [
    { name: 'alert_id', type: 'string', doc: 'Deterministic UUID (v5) of rule id, group key and window start: a replay yields the same id.' },
    { name: 'rule_id', type: 'string' },
    { name: 'rule_name', type: 'string' },
    { name: 'timestamp', type: 'string', doc: 'Event time the alert fired (ISO-8601).' },
    { name: 'severity', type: { type: 'enum', name: 'AlertSeverity', symbols: ['info', 'warning', 'critical'] }, doc: 'The highest severity among its anomalies.' },
    { name: 'group', type: { type: 'map', values: 'string' }, doc: "The rule's throttling grouping fields and their values." },
    { name: 'title', type: 'string' },
    { name: 'description', type: 'string' },
    { name: 'application_id', type: ['null', 'string'], default: null },
    { name: 'anomaly_ids', type: { type: 'array', items: 'string' }, doc: 'Ids of the anomalies that made this alert (deduplicated).' },
    { name: 'anomaly', type: anomalyEventSchema, doc: 'The anomaly that made the rule fire (the latest one).' } as avro.schema.RecordType['fields'][number],
    {
      name: 'aggregation',
      type: [
        'null',
        {
          type: 'record',
          name: 'AlertAggregation',
          fields: [
            { name: 'function', type: { type: 'enum', name: 'AggregationFunction', symbols: ['count', 'avg', 'sum', 'max', 'min'] } },
            { name: 'value', type: 'double', doc: 'The aggregated value (of anomaly scores; count counts anomalies) that crossed the threshold.' },
            { name: 'threshold', type: 'double' },
            { name: 'window_start', type: 'string' },
            { name: 'window_end', type: 'string' },
          ],
        },
      ],
      default: null,
    },
    { name: 'suppressed_count', type: 'long', doc: 'Repeats of this group suppressed by throttling since the previous alert of the group.' },
    {
      name: 'actions',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'AlertAction',
          fields: [
            { name: 'type', type: { type: 'enum', name: 'AlertActionType', symbols: ['notification', 'shield', 'webhook', 'incident'] } },
            { name: 'config', type: 'string', doc: "The action's settings as written in the rule, as a JSON object (e.g. {\"receivers\":[\"slack-incidents\"]})." },
          ],
        },
      },
    },
  ],
}

/** An AlertEvent as its Avro record: action configs as JSON text. */
export type AlertEventAvroRecord = Omit<AlertEvent, 'actions'> & { readonly actions: readonly { readonly type: AlertAction['type']; readonly config: string }[] }

export function toAvroAlert(alert: AlertEvent): AlertEventAvroRecord {
  return { ...alert, actions: alert.actions.map((a) => ({ type: a.type, config: JSON.stringify(a.config ?? {}) })) }
}

/** Throws when a config is not a JSON object (a foreign writer): the serde makes that a SerdeError. */
export function fromAvroAlert(record: AlertEventAvroRecord): AlertEvent {
  return {
    ...record,
    actions: record.actions.map((a, i) => {
      const config: unknown = JSON.parse(a.config)
      if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error(`actions[${i}].config is not a JSON object`)
      return { type: a.type, config: config as Record<string, unknown> }
    }),
  }
}
