/**
 * Alerts for the actions a detector asks for (detector-actions.ts: pending `actions_taken` entries
 * of the anomaly, and shield actions withheld by the gate).
 *
 * Rules decide when an anomaly alerts (filters, aggregation, throttling, schedule, maintenance); a
 * detector's actions add where: they join every alert its anomaly makes (the router delivers once
 * per receiver per alert). An anomaly that no enabled rule matches makes an alert of its own, rule
 * `detector:<detector id>`: one per anomaly, no throttling, maintenance windows for every rule apply,
 * routes match it as `rule: detector:<id>`.
 */
import type { AlertAction } from '../../../schemas/alert/alert-event.js'
import type { AnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'
import { requestedActions } from '../detector-actions.js'
import { type AlertRule, DEFAULT_GROUPING } from './alert-rules-config.js'
import { type RuleMatch, groupOf } from './rule-matcher.js'

export const DETECTOR_RULE_PREFIX = 'detector:'

/** The implicit rule of a detector's own alerts, or null when `ruleId` is not one. */
export function detectorActionsRule(ruleId: string): AlertRule | null {
  if (!ruleId.startsWith(DETECTOR_RULE_PREFIX)) return null
  const detector = ruleId.slice(DETECTOR_RULE_PREFIX.length)
  return {
    id: ruleId,
    name: `Detector ${detector} actions`,
    description: `The actions detector ${detector} asks for; no alert rule matched the anomaly.`,
    enabled: true,
    filters: { severity: null, detectorIds: [detector], applicationIds: null, scoreThreshold: null },
    aggregation: null,
    actions: [],
    throttling: { maxFrequencyMs: 0, grouping: DEFAULT_GROUPING },
    schedule: null,
    labels: {},
  }
}

/** The `rule` label of the alerting metrics: detector ids come from the anomalies topic, so their rules share one value. */
export function ruleLabel(ruleId: string): string {
  return ruleId.startsWith(DETECTOR_RULE_PREFIX) ? 'detector-actions' : ruleId
}

/** The rules' matches of `anomaly`, or, when there are none and its detector asked for actions, the detector's own. */
export function withDetectorMatch(matches: [string, RuleMatch][], anomaly: AnomalyEvent): [string, RuleMatch][] {
  if (matches.length > 0) return matches
  const { actions, withheld } = requestedActions(anomaly)
  if (actions.length === 0 && withheld.length === 0) return matches
  const rule = detectorActionsRule(`${DETECTOR_RULE_PREFIX}${anomaly.detector_id}`)!
  const { key, group } = groupOf(rule, anomaly)
  return [[key, { rule_id: rule.id, group, anomaly }]]
}

/** An alert's actions and description with what the anomaly's detector asked for added. */
export function withDetectorRequests(
  actions: readonly AlertAction[],
  description: string,
  anomaly: AnomalyEvent,
): { actions: readonly AlertAction[]; description: string } {
  const requested = requestedActions(anomaly)
  return {
    actions: requested.actions.length === 0 ? actions : [...actions, ...requested.actions],
    description:
      requested.withheld.length === 0 ? description : [description, ...requested.withheld.map((w) => `Detector ${anomaly.detector_id}: ${w}.`)].join('\n'),
  }
}
