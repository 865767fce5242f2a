/**
 * Detector-level `actions` (seed 001: `- alert: <name>`, `- shield: block | rate_limit`) as the
 * anomaly carries them from detection to the alert manager, in the seed's own field: `actions_taken`.
 *
 * At detection (after the severity floor, with the definition in force, so live with versions):
 * - `alert: <receiver>` → `{ action: alert, target: <receiver>, status: pending }`;
 * - `shield: <action>` through its gate (ShieldGate: severity, score, a named entity) →
 *   `{ action: shield_block | shield_rate_limit, target: null, status: pending }`; below the gate →
 *   `{ action: log, target: "shield <action> withheld: <why>", status: success }` (what was done: it
 *   was recorded instead of acted on).
 *
 * The alert manager reads the pending entries back (`requestedActions`): they join the alerts the
 * anomaly makes, or make one of their own when no rule takes it (alerting/alert-rules-processor.ts).
 * Delivery outcomes then replace the pending entries in the anomaly view (same action and target).
 *
 * Why on the anomaly and not looked up by detector id in the alert manager: the verdict is made once,
 * with the version the detector ran under, the alert manager needs no detector configuration (it
 * reads anomalies of any producer, as a separate application too), and the record says what was
 * asked. A producer that can write the anomalies topic can ask for actions, as it can already write
 * a critical anomaly that the Shield block rule acts on: the topic is trusted input either way.
 */
import type { AlertAction } from '../../schemas/alert/alert-event.js'
import type { ActionTaken, AnomalyEvent } from '../../schemas/anomaly/anomaly-event.js'
import type { DetectorConfig, DetectorConfigIssue, ShieldGate } from './detectors-config.js'
import type { ReceiversConfig } from './delivery/receivers-config.js'
import { severityFloor, withSeverityFloor } from './severity-floor.js'

const RANK = { info: 0, warning: 1, critical: 2 } as const
const WITHHELD = / withheld: /

/** Why a shield action may not act on `anomaly`, or null when it passes the gate. */
export function shieldWithheldReason(gate: ShieldGate, anomaly: AnomalyEvent): string | null {
  const reasons: string[] = []
  if (RANK[anomaly.severity] < RANK[gate.minSeverity]) reasons.push(`severity ${anomaly.severity} is below ${gate.minSeverity}`)
  if (!(anomaly.score >= gate.minScore)) reasons.push(`score ${anomaly.score.toFixed(2)} is below ${gate.minScore}`)
  // Shield would act on the anomaly's entity; without one the request would fall back to a whole application.
  if (!anomaly.affected_entity?.id) reasons.push('the anomaly names no entity to act on')
  return reasons.length === 0 ? null : reasons.join('; ')
}

/** The `actions_taken` entries a detector's actions ask for, for one of its anomalies. */
export function requestedActionsTaken(detector: Pick<DetectorConfig, 'actions'>, anomaly: AnomalyEvent): ActionTaken[] {
  const entries: ActionTaken[] = []
  for (const action of detector.actions) {
    if (action.kind === 'alert') entries.push({ action: 'alert', target: action.name, status: 'pending', timestamp: anomaly.timestamp })
    else if (action.kind === 'shield') {
      const why = shieldWithheldReason(action.gate, anomaly)
      const name = action.action === 'block' ? 'shield_block' : 'shield_rate_limit'
      entries.push(
        why === null
          ? { action: name, target: null, status: 'pending', timestamp: anomaly.timestamp }
          : { action: 'log', target: `shield ${action.action} withheld: ${why}`, status: 'success', timestamp: anomaly.timestamp },
      )
    }
  }
  return entries
}

/** The anomaly as its detector's definition has it: the severity floor applied, then its actions asked for. */
export function withDetectorActions(detector: DetectorConfig, anomaly: AnomalyEvent): AnomalyEvent {
  const floor = severityFloor(detector)
  const floored = floor === null ? anomaly : withSeverityFloor(anomaly, floor)
  const asked = requestedActionsTaken(detector, floored)
  return asked.length === 0 ? floored : { ...floored, actions_taken: [...floored.actions_taken, ...asked] }
}

/** Whether `withDetectorActions` changes anything for this detector (else detection skips the step). */
export function hasDetectorActions(detector: DetectorConfig): boolean {
  return severityFloor(detector) !== null || detector.actions.some((a) => a.kind !== 'log')
}

/** What the anomaly's detector asked the alert manager for: rule actions to add, and the shield actions withheld (why). */
export function requestedActions(anomaly: AnomalyEvent): { readonly actions: AlertAction[]; readonly withheld: string[] } {
  const receivers: string[] = []
  const actions: AlertAction[] = []
  const withheld: string[] = []
  for (const entry of anomaly.actions_taken) {
    if (entry.status === 'pending' && entry.action === 'alert' && entry.target !== null && !receivers.includes(entry.target)) receivers.push(entry.target)
    else if (entry.status === 'pending' && (entry.action === 'shield_block' || entry.action === 'shield_rate_limit'))
      actions.push({ type: 'shield', config: { action: entry.action === 'shield_block' ? 'block' : 'rate_limit', detector: anomaly.detector_id } })
    else if (entry.action === 'log' && entry.target !== null && entry.target.startsWith('shield ') && WITHHELD.test(entry.target)) withheld.push(entry.target)
  }
  if (receivers.length > 0) actions.unshift({ type: 'notification', config: { receivers, detector: anomaly.detector_id } })
  return { actions, withheld }
}

/**
 * Problems of the detectors' actions against the receivers file: an `alert:` naming no receiver
 * (enabled or disabled), a `shield:` with no shield receiver to go to. Checked at start, as the
 * rules' receiver names are, and for each detector version the API or the watched file writes.
 */
export function detectorActionIssues(detectors: readonly Pick<DetectorConfig, 'id' | 'actions'>[], receivers: ReceiversConfig): DetectorConfigIssue[] {
  const known = [...receivers.receivers.map((r) => r.name), ...receivers.disabled.map((d) => d.name)]
  const issues: DetectorConfigIssue[] = []
  for (const detector of detectors)
    detector.actions.forEach((action, i) => {
      if (action.kind === 'alert' && !known.includes(action.name))
        issues.push({
          detector: detector.id,
          field: `actions[${i}].alert`,
          message: `receiver '${action.name}' is not defined in ${receivers.source}; name one of its receivers (known: ${known.join(', ') || 'none'}), or write the level as the detector's severity: instead`,
        })
      if (action.kind === 'shield' && receivers.routing.shield.length === 0)
        issues.push({
          detector: detector.id,
          field: `actions[${i}].shield`,
          message: `no shield receiver is configured in ${receivers.source}; add one (type: shield) or remove the action`,
        })
    })
  return issues
}
