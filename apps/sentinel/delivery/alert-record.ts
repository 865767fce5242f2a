/**
 * Reads an AlertEvent from an alerts-topic record in JSON (the format without a schema registry; with
 * one the dispatcher decodes with its `alertSerde` instead). The alert manager writes them, but the
 * topic is a boundary: a record that is not an alert is refused with the reason (the dispatcher
 * records it as a failed delivery and moves on), never half-delivered. Only the fields the payload
 * builders rely on are checked.
 */
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'

export class MalformedAlertError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'MalformedAlertError'
  }
}

const SEVERITIES = ['info', 'warning', 'critical']

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function parseAlertRecord(value: Buffer | null): AlertEvent {
  if (value === null || value.length === 0) throw new MalformedAlertError('empty record value (tombstone?); expected an AlertEvent as JSON')
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch (err) {
    throw new MalformedAlertError(`value is not JSON: ${(err as Error).message}`)
  }
  if (!isObject(parsed)) throw new MalformedAlertError('value is not a JSON object')
  const problems: string[] = []
  const string = (o: Record<string, unknown>, field: string, prefix = ''): void => {
    if (typeof o[field] !== 'string') problems.push(`${prefix}${field} must be a string`)
  }
  for (const field of ['alert_id', 'rule_id', 'rule_name', 'timestamp', 'title', 'description']) string(parsed, field)
  if (!SEVERITIES.includes(parsed.severity as string)) problems.push(`severity must be one of ${SEVERITIES.join(', ')}`)
  if (!isObject(parsed.group) || Object.values(parsed.group).some((v) => typeof v !== 'string')) problems.push('group must be an object of strings')
  if (parsed.application_id !== null && typeof parsed.application_id !== 'string') problems.push('application_id must be a string or null')
  if (!Array.isArray(parsed.anomaly_ids)) problems.push('anomaly_ids must be an array')
  if (typeof parsed.suppressed_count !== 'number') problems.push('suppressed_count must be a number')
  if (!Array.isArray(parsed.actions) || parsed.actions.some((a) => !isObject(a) || typeof a.type !== 'string' || (a.config !== undefined && !isObject(a.config))))
    problems.push('actions must be an array of { type, config }')
  const anomaly = parsed.anomaly
  if (!isObject(anomaly)) problems.push('anomaly must be an AnomalyEvent object')
  else {
    string(anomaly, 'anomaly_id', 'anomaly.')
    string(anomaly, 'detector_id', 'anomaly.')
    if (typeof anomaly.score !== 'number') problems.push('anomaly.score must be a number')
  }
  if (problems.length > 0) throw new MalformedAlertError(`not an AlertEvent: ${problems.join('; ')}`)
  const alert = parsed as unknown as AlertEvent
  // Actions written without a config get an empty one, so routing and builders can read config.x.
  return { ...alert, actions: alert.actions.map((a) => ({ type: a.type, config: a.config ?? {} })) }
}
