/**
 * Which rules an anomaly concerns (their filters) and the group it belongs to in each (the rule's
 * throttling grouping: anomaly fields and detector dimensions). The group key `rule_id|field=value|...` keys the alert state, so one
 * group's windows and throttle live in one task.
 */
import type avro from 'avsc'
import { type AnomalyEvent, anomalyEventSchema } from '../../../schemas/anomaly/anomaly-event.js'
import type { AlertRule, GroupingField } from './alert-rules-config.js'

/** An anomaly matched by one rule, on its way to the group's state (the repartition topic's value). */
export interface RuleMatch {
  readonly rule_id: string
  /** The grouping fields and their values ('' for an anomaly without the field). */
  readonly group: Readonly<Record<string, string>>
  readonly anomaly: AnomalyEvent
}

/** RuleMatch in Avro (the group repartition topic): compact, and decodes faster than JSON. */
export const ruleMatchSchema: avro.Schema = {
  type: 'record',
  name: 'RuleMatch',
  namespace: 'sentinel.alerting',
  fields: [
    { name: 'rule_id', type: 'string' },
    { name: 'group', type: { type: 'map', values: 'string' } },
    { name: 'anomaly', type: anomalyEventSchema },
  ],
}

export function groupingValue(anomaly: AnomalyEvent, field: GroupingField): string | null {
  switch (field) {
    case 'affected_entity.type':
      return anomaly.affected_entity?.type ?? null
    case 'affected_entity.id':
      return anomaly.affected_entity?.id ?? null
    case 'detector_id':
    case 'application_id':
    case 'tenant_id':
    case 'severity':
    case 'detector_type':
      return anomaly[field as 'detector_id' | 'application_id' | 'tenant_id' | 'severity' | 'detector_type'] ?? null
    default:
      // A detector's dimension (checked against the detectors' groupBy when the rules loaded).
      return anomaly.dimensions?.[field] ?? null
  }
}

/**
 * The group key and the group of `anomaly` under `rule`. Parts are percent-encoded so a value
 * holding `|` or `=` cannot make two groups share a key; a missing field is written without `=`,
 * so it differs from an empty string.
 */
export function groupOf(rule: Pick<AlertRule, 'id' | 'throttling'>, anomaly: AnomalyEvent): { key: string; group: Record<string, string> } {
  const parts = [encodeURIComponent(rule.id)]
  const group: Record<string, string> = {}
  for (const field of rule.throttling.grouping) {
    const value = groupingValue(anomaly, field)
    parts.push(value === null ? field : `${field}=${encodeURIComponent(value)}`)
    group[field] = value ?? ''
  }
  return { key: parts.join('|'), group }
}

interface CompiledFilters {
  readonly rule: AlertRule
  readonly severity: ReadonlySet<string> | null
  readonly detectors: ReadonlySet<string> | null
  readonly applications: ReadonlySet<string> | null
  readonly minScore: number | null
}

export class RuleMatcher {
  private readonly compiled: readonly CompiledFilters[]

  constructor(rules: readonly AlertRule[]) {
    this.compiled = rules
      .filter((rule) => rule.enabled)
      .map((rule) => ({
        rule,
        severity: rule.filters.severity && new Set(rule.filters.severity),
        detectors: rule.filters.detectorIds && new Set(rule.filters.detectorIds),
        applications: rule.filters.applicationIds && new Set(rule.filters.applicationIds),
        minScore: rule.filters.scoreThreshold,
      }))
  }

  /** The (group key, match) of every enabled rule whose filters `anomaly` passes. */
  match(anomaly: AnomalyEvent): [string, RuleMatch][] {
    const out: [string, RuleMatch][] = []
    for (const c of this.compiled) {
      if (c.severity && !c.severity.has(anomaly.severity)) continue
      if (c.detectors && !c.detectors.has(anomaly.detector_id)) continue
      if (c.applications && (anomaly.application_id === null || !c.applications.has(anomaly.application_id))) continue
      if (c.minScore !== null && !(anomaly.score >= c.minScore)) continue
      const { key, group } = groupOf(c.rule, anomaly)
      out.push([key, { rule_id: c.rule.id, group, anomaly }])
    }
    return out
  }
}
