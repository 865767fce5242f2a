/** Titles and descriptions of alerts, written for the person paged by them. */
import type { AnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'
import type { AlertRule } from './alert-rules-config.js'
import { type AlertWindowState, aggregateValue } from './alert-window.js'

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  return `${ms}ms`
}

/** The group's fields that have a value: a model-keyed anomaly has no application, and saying "(none)" helps nobody. */
function describeGroup(group: Readonly<Record<string, string>>): string {
  const parts = Object.entries(group)
    .filter(([, value]) => value !== '')
    .map(([field, value]) => `${field.replace(/_id$/, '').replace('affected_entity.', 'entity ')} ${value}`)
  return parts.length > 0 ? parts.join(', ') : 'all anomalies'
}

/** Where an anomaly happened, for a person: its entity (model, user, ...) or else its application. */
function describeWhere(anomaly: AnomalyEvent): string {
  const entity = anomaly.affected_entity
  if (entity?.id) return ` on ${entity.type ?? 'entity'} ${entity.id}`
  return anomaly.application_id === null ? '' : ` on ${anomaly.application_id}`
}

const round = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2))

const FUNCTION_PHRASE = { count: 'anomaly count', avg: 'average anomaly score', sum: 'sum of anomaly scores', max: 'highest anomaly score', min: 'lowest anomaly score' } as const

export function alertTitle(rule: AlertRule, group: Readonly<Record<string, string>>, window: AlertWindowState | null, anomaly: AnomalyEvent): string {
  const severity = (window?.severity ?? anomaly.severity).toUpperCase()
  if (window === null || rule.aggregation === null) return `[${severity}] ${rule.name}: ${anomaly.title ?? `${anomaly.detector_id} anomaly`} (${describeGroup(group)})`
  const n = window.count
  return `[${severity}] ${rule.name}: ${n} ${n === 1 ? 'anomaly' : 'anomalies'} in ${formatDuration(rule.aggregation.windowMs)} (${describeGroup(group)})`
}

export function alertDescription(rule: AlertRule, group: Readonly<Record<string, string>>, window: AlertWindowState | null, anomaly: AnomalyEvent, suppressed: number): string {
  const lines: string[] = []
  if (window !== null && rule.aggregation !== null) {
    const { function: fn, threshold } = rule.aggregation
    lines.push(
      `The ${FUNCTION_PHRASE[fn]} reached ${round(aggregateValue(window, fn))} (threshold ${round(threshold)}) for ${describeGroup(group)} in the window ${new Date(window.start).toISOString()} to ${new Date(window.end).toISOString()}: ${window.count} ${window.count === 1 ? 'anomaly' : 'anomalies'} so far.`,
    )
  }
  const what = anomaly.description ?? anomaly.title ?? 'no description'
  lines.push(`${window === null ? 'Anomaly' : 'Latest anomaly'} from detector ${anomaly.detector_id}${describeWhere(anomaly)} at ${anomaly.timestamp} (${anomaly.severity}, score ${anomaly.score.toFixed(2)}): ${what}`)
  if (suppressed > 0) lines.push(`${suppressed} more ${suppressed === 1 ? 'firing' : 'firings'} of this alert ${suppressed === 1 ? 'was' : 'were'} suppressed since the previous one (throttling: at most one per ${formatDuration(rule.throttling.maxFrequencyMs)}).`)
  if (rule.description !== null) lines.push(`Rule: ${rule.description}`)
  return lines.join('\n')
}
