/**
 * Named message templates (seed 001: a notification action's `template: critical-anomaly`), in
 * Mustache (the `mustache` package): logic-less, so a template can read the alert's fields and loop
 * over a notification's alerts but can execute nothing. Every placeholder is checked when the rules
 * file loads: a name the view below does not have is refused there, with the known names, rather
 * than rendering as an empty string at 3 a.m.
 *
 *   templates:
 *     critical-anomaly:
 *       title: "[{{severity}}] {{rule_name}}: {{application_id}}"
 *       text: |
 *         {{notification.count}} alert(s) for {{#labels}}{{application}}{{/labels}}
 *         {{#alerts}}- {{title}} ({{severity}}, {{detector_id}})
 *         {{/alerts}}
 *
 * The view: the alert's fields (`alert_id`, `rule_id`, `rule_name`, `title`, `description`,
 * `severity`, `timestamp`, `application_id`, `suppressed_count`, `group.<field>`, `anomaly.<field>`
 * with `anomaly.affected_entity.<type|id|name>` and `anomaly.metrics.<...>`), `dimensions.<name>`
 * (the anomaly's group: its detector's groupBy and value, e.g. `dimensions.region`; also
 * `anomaly.dimensions.<name>`), `labels.<name>` (the notification group's labels), `notification.<kind|count|escalation_level|by|group_key|status>`,
 * `link`, and the list `alerts` whose items have `alert_id`, `rule_id`, `rule_name`, `title`,
 * `severity`, `timestamp`, `application_id`, `detector_id`. Output is not HTML-escaped (receivers
 * escape for their own format: Slack's mrkdwn, JSON).
 */
import Mustache from 'mustache'
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import type { AlertNotification, NotifiedAlert } from './alert-notification.js'

export interface NotificationTemplate {
  readonly name: string
  /** Mustache source; null: the alert's own title / description. */
  readonly title: string | null
  readonly text: string | null
}

const ALERT_FIELDS = ['alert_id', 'rule_id', 'rule_name', 'title', 'description', 'severity', 'timestamp', 'application_id', 'suppressed_count', 'link']
const ANOMALY_FIELDS = ['anomaly_id', 'timestamp', 'detector_id', 'detector_type', 'severity', 'score', 'status', 'application_id', 'tenant_id', 'title', 'description']
const ENTITY_FIELDS = ['type', 'id', 'name']
const METRIC_FIELDS = ['baseline_value', 'observed_value', 'deviation', 'threshold']
const NOTIFICATION_FIELDS = ['kind', 'status', 'count', 'escalation_level', 'by', 'group_key', 'at']
export const ITEM_FIELDS: readonly (keyof NotifiedAlert)[] = ['alert_id', 'rule_id', 'rule_name', 'title', 'severity', 'timestamp', 'application_id', 'detector_id']
/** Names usable as sections (`{{#x}}...{{/x}}`) besides the item lists. */
const OBJECT_NAMES = ['group', 'labels', 'dimensions', 'anomaly', 'notification', 'anomaly.affected_entity', 'anomaly.metrics', 'anomaly.dimensions']

/** Why `name` (as written in a tag) is not in the view; null when it is. `inAlerts`: inside {{#alerts}}. */
function unknownName(name: string, inAlerts: boolean): string | null {
  if (name === '.') return inAlerts ? null : "'.' only means something inside {{#alerts}}"
  if (inAlerts && (ITEM_FIELDS as readonly string[]).includes(name)) return null
  const [head, ...rest] = name.split('.')
  const sub = rest.join('.')
  switch (head) {
    case 'group':
    case 'labels':
    case 'dimensions':
      // Free-form: any field, label or dimension name (a missing one renders empty, as an absent label does).
      return rest.length <= 1 && !(sub in Object.prototype) ? null : 'a label name, e.g. labels.application_id'
    case 'alerts':
      return rest.length === 0 ? null : "use {{#alerts}}...{{/alerts}} to go through the alerts"
    case 'notification':
      return rest.length === 0 || NOTIFICATION_FIELDS.includes(sub) ? null : `notification has ${NOTIFICATION_FIELDS.join(', ')}`
    case 'anomaly': {
      if (rest.length === 0 || ANOMALY_FIELDS.includes(sub)) return null
      if (rest[0] === 'affected_entity' && (rest.length === 1 || (rest.length === 2 && ENTITY_FIELDS.includes(rest[1]!)))) return null
      if (rest[0] === 'metrics' && (rest.length === 1 || (rest.length === 2 && METRIC_FIELDS.includes(rest[1]!)))) return null
      if (rest[0] === 'dimensions' && (rest.length === 1 || (rest.length === 2 && !(rest[1]! in Object.prototype)))) return null
      return `anomaly has ${ANOMALY_FIELDS.join(', ')}, affected_entity.{${ENTITY_FIELDS.join(',')}}, metrics.{${METRIC_FIELDS.join(',')}}, dimensions.<name>`
    }
    default:
      return rest.length === 0 && ALERT_FIELDS.includes(head!) ? null : 'not a field of the template view'
  }
}

type Token = [string, string, number, number, Token[]?, number?]

/** Problems of one template source (empty: fine): syntax errors and unknown placeholders. */
export function templateProblems(source: string): string[] {
  let tokens: Token[]
  try {
    tokens = Mustache.parse(source) as unknown as Token[]
  } catch (err) {
    return [`is not valid Mustache: ${(err as Error).message}`]
  }
  const problems: string[] = []
  const walk = (list: readonly Token[], inAlerts: boolean): void => {
    for (const token of list) {
      const [type, name] = token
      if (type === '>') problems.push(`{{> ${name}}}: partials are not supported; write the text inline`)
      if (type === 'name' || type === '&' || type === '#' || type === '^') {
        const why = unknownName(name, inAlerts)
        if (why !== null) problems.push(`{{${type === 'name' ? '' : type}${name}}} is unknown: ${why}; known: ${ALERT_FIELDS.join(', ')}, ${OBJECT_NAMES.join(', ')}, alerts`)
      }
      if ((type === '#' || type === '^') && token[4]) walk(token[4], inAlerts || name === 'alerts')
    }
  }
  walk(tokens, false)
  return problems
}

/** The view a template renders against (see the header). */
export function templateView(alert: AlertEvent | AlertNotification, link: string | null): Record<string, unknown> {
  const n = 'notification' in alert ? alert.notification : null
  const alerts = n?.alerts ?? [{ alert_id: alert.alert_id, rule_id: alert.rule_id, rule_name: alert.rule_name, title: alert.title, severity: alert.severity, timestamp: alert.timestamp, application_id: alert.application_id, detector_id: alert.anomaly.detector_id }]
  return {
    ...alert,
    link,
    labels: n?.group_labels ?? alert.group,
    dimensions: alert.anomaly.dimensions ?? {},
    alerts,
    notification: {
      kind: n?.kind ?? 'firing',
      status: n?.kind === 'resolved' ? 'resolved' : 'firing',
      count: alerts.length,
      escalation_level: n?.escalation_level ?? null,
      by: n?.by ?? null,
      group_key: n?.group_key ?? null,
      at: n?.at ?? alert.timestamp,
    },
  }
}

/**
 * The view as plain data: JSON (no functions, which Mustache would call) in objects without a
 * prototype (so `{{labels.constructor}}` finds nothing rather than Object's constructor).
 */
function plainData(view: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(view), (_key, value: unknown) => (typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.assign(Object.create(null), value) : value)) as Record<string, unknown>
}

/** Renders over the view as plain data, without HTML escaping (the output is not HTML). */
export function renderTemplate(source: string, view: Record<string, unknown>): string {
  return Mustache.render(source, plainData(view), undefined, { escape: (value: unknown) => String(value) })
}

/** The alert with title and description from `template` (each part only when the template has it). */
export function applyTemplate<A extends AlertEvent>(alert: A, template: NotificationTemplate, link: string | null): A {
  const view = templateView(alert, link)
  return {
    ...alert,
    title: template.title === null ? alert.title : renderTemplate(template.title, view),
    description: template.text === null ? alert.description : renderTemplate(template.text, view),
  }
}
