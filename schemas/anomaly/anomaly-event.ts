/**
 * AnomalyEvent: what every detector emits (seed 001's JSON schema, as Avro in AnomalyEvent.avsc).
 * Field names stay snake_case so the JSON and Avro forms are the same object.
 *
 * Severity is the seed's three levels (info / warning / critical); detectors grade a deviation on four
 * (low / medium / high / critical) and `anomalySeverity` in operators/detectors/severity.ts folds them.
 */
import avro from 'avsc'
import type { AnomalySeverity } from './anomaly-severity.js'

export type DetectorType = 'statistical' | 'rule' | 'ml' | 'behavioral'
export type AnomalyStatus = 'active' | 'acknowledged' | 'resolved' | 'suppressed'
export type EntityType = 'application' | 'model' | 'user' | 'endpoint'

export interface AffectedEntity {
  type: EntityType | null
  id: string | null
  name: string | null
}

export interface AnomalyMetrics {
  baseline_value: number | null
  observed_value: number | null
  deviation: number | null
  threshold: number | null
}

export interface AnomalyContext {
  window_start: string | null
  window_end: string | null
  sample_events: string[]
  related_anomalies: string[]
}

export interface ActionTaken {
  action: 'alert' | 'shield_block' | 'shield_rate_limit' | 'log'
  target: string | null
  status: 'pending' | 'success' | 'failed'
  timestamp: string | null
}

export interface AnomalyEvent {
  anomaly_id: string
  /** ISO-8601: when the anomaly was detected. */
  timestamp: string
  detector_id: string
  detector_type: DetectorType | null
  severity: AnomalySeverity
  /** In [0, 1]. */
  score: number
  status: AnomalyStatus
  application_id: string | null
  tenant_id: string | null
  title: string | null
  description: string | null
  affected_entity: AffectedEntity | null
  metrics: AnomalyMetrics | null
  context: AnomalyContext | null
  actions_taken: ActionTaken[]
  /**
   * The detector's groupBy field paths and the group's values (`{ "metadata.tags.region": "eu-west-1" }`),
   * so alerting can group and route by them. At most the groupBy fields, values at most
   * MAX_DIMENSION_VALUE_LENGTH characters. Null (or absent in code written before it) when the
   * detector said nothing; records written before the field existed read as null.
   */
  dimensions?: Readonly<Record<string, string>> | null
}

/** A dimension value's bound: that of a telemetry tag value, which most group values come from. */
export const MAX_DIMENSION_VALUE_LENGTH = 256

/**
 * The Avro schema. AnomalyEvent.avsc beside this file is the same schema for other languages and the
 * Schema Registry (a test keeps the two equal); it is inlined here so the built library needs no
 * file lookup at run time.
 */
export const anomalyEventSchema: avro.Schema = {
  type: 'record',
  name: 'AnomalyEvent',
  namespace: 'sentinel.anomaly',
  doc: 'An anomaly found by a detector (LLM-Sentinel AnomalyEvent). Times are ISO-8601 strings, as in the seed\'s JSON schema. severity: see operators/detectors/severity.ts for how it and score derive from the deviation.',
  fields: [
    {
      name: 'anomaly_id',
      type: 'string',
      doc: 'Deterministic UUID (v5-style) of detector_id, key and window start, so a replay yields the same id.'
    },
    {
      name: 'timestamp',
      type: 'string',
      doc: 'When the anomaly was detected (ISO-8601).'
    },
    {
      name: 'detector_id',
      type: 'string'
    },
    {
      name: 'detector_type',
      type: [
        'null',
        {
          type: 'enum',
          name: 'DetectorType',
          symbols: [
            'statistical',
            'rule',
            'ml',
            'behavioral'
          ]
        }
      ],
      default: null
    },
    {
      name: 'severity',
      type: {
        type: 'enum',
        name: 'Severity',
        symbols: ['info', 'warning', 'critical']
      }
    },
    {
      name: 'score',
      type: 'double',
      doc: 'Anomaly confidence in [0, 1].'
    },
    {
      name: 'status',
      type: {
        type: 'enum',
        name: 'AnomalyStatus',
        symbols: [
          'active',
          'acknowledged',
          'resolved',
          'suppressed'
        ]
      }
    },
    {
      name: 'application_id',
      type: [
        'null',
        'string'
      ],
      default: null
    },
    {
      name: 'tenant_id',
      type: [
        'null',
        'string'
      ],
      default: null
    },
    {
      name: 'title',
      type: [
        'null',
        'string'
      ],
      default: null
    },
    {
      name: 'description',
      type: [
        'null',
        'string'
      ],
      default: null
    },
    {
      name: 'affected_entity',
      type: [
        'null',
        {
          type: 'record',
          name: 'AffectedEntity',
          fields: [
            {
              name: 'type',
              type: [
                'null',
                {
                  type: 'enum',
                  name: 'EntityType',
                  symbols: [
                    'application',
                    'model',
                    'user',
                    'endpoint'
                  ]
                }
              ],
              default: null
            },
            {
              name: 'id',
              type: [
                'null',
                'string'
              ],
              default: null
            },
            {
              name: 'name',
              type: [
                'null',
                'string'
              ],
              default: null
            }
          ]
        }
      ],
      default: null
    },
    {
      name: 'metrics',
      type: [
        'null',
        {
          type: 'record',
          name: 'AnomalyMetrics',
          fields: [
            {
              name: 'baseline_value',
              type: [
                'null',
                'double'
              ],
              default: null
            },
            {
              name: 'observed_value',
              type: [
                'null',
                'double'
              ],
              default: null
            },
            {
              name: 'deviation',
              type: [
                'null',
                'double'
              ],
              default: null
            },
            {
              name: 'threshold',
              type: [
                'null',
                'double'
              ],
              default: null
            }
          ]
        }
      ],
      default: null
    },
    {
      name: 'context',
      type: [
        'null',
        {
          type: 'record',
          name: 'AnomalyContext',
          fields: [
            {
              name: 'window_start',
              type: [
                'null',
                'string'
              ],
              default: null
            },
            {
              name: 'window_end',
              type: [
                'null',
                'string'
              ],
              default: null
            },
            {
              name: 'sample_events',
              type: {
                type: 'array',
                items: 'string'
              },
              default: []
            },
            {
              name: 'related_anomalies',
              type: {
                type: 'array',
                items: 'string'
              },
              default: []
            }
          ]
        }
      ],
      default: null
    },
    {
      name: 'actions_taken',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'ActionTaken',
          fields: [
            {
              name: 'action',
              type: {
                type: 'enum',
                name: 'ActionKind',
                symbols: [
                  'alert',
                  'shield_block',
                  'shield_rate_limit',
                  'log'
                ]
              }
            },
            {
              name: 'target',
              type: [
                'null',
                'string'
              ],
              default: null
            },
            {
              name: 'status',
              type: {
                type: 'enum',
                name: 'ActionStatus',
                symbols: [
                  'pending',
                  'success',
                  'failed'
                ]
              }
            },
            {
              name: 'timestamp',
              type: [
                'null',
                'string'
              ],
              default: null
            }
          ]
        }
      },
      default: []
    },
    {
      name: 'dimensions',
      type: [
        'null',
        {
          type: 'map',
          values: 'string'
        }
      ],
      default: null,
      doc: "The detector's groupBy field paths and the group's values, e.g. {\"metadata.tags.region\": \"eu-west-1\"}. Added with a null default (BACKWARD compatible): older records read as null."
    }
  ]
}

/** The avsc type of AnomalyEvent (encode with `toBuffer`, decode with `fromBuffer`). */
export const anomalyEventType = avro.Type.forSchema(anomalyEventSchema) as avro.Type & {
  toBuffer(value: AnomalyEvent): Buffer
  fromBuffer(buffer: Buffer): AnomalyEvent
}

/** What a detector knows when it emits; everything else takes its default. */
export type AnomalyEventInput = Pick<AnomalyEvent, 'anomaly_id' | 'timestamp' | 'detector_id' | 'severity' | 'score'> & Partial<Omit<AnomalyEvent, 'context'>> & { context?: Partial<AnomalyContext> | null }

export function createAnomalyEvent(input: AnomalyEventInput): AnomalyEvent {
  if (!(input.score >= 0 && input.score <= 1)) throw new Error(`AnomalyEvent.score must be in [0, 1], got ${input.score}`)
  return {
    detector_type: null,
    status: 'active',
    application_id: null,
    tenant_id: null,
    title: null,
    description: null,
    affected_entity: null,
    metrics: null,
    actions_taken: [],
    dimensions: null,
    ...input,
    context: input.context ? { window_start: null, window_end: null, sample_events: [], related_anomalies: [], ...input.context } : null,
  }
}
