/**
 * The routing tree (seed 001 `alerting.routing`): which routes an alert takes, in file order, the
 * first match ending the walk unless the route says `continue`. A route's match keys are read from
 * the alert: `severity`, `rule` (the rule id), then the rule's labels (e.g. `team`), then the
 * alert's group (its grouping fields, e.g. `application_id`), then its anomaly's dimensions (the
 * detector's groupBy, e.g. `region`); an alert without the key does not match. Pure: the rules processor keeps the repeat state.
 */
import type { AlertAction, AlertEvent } from '../../../schemas/alert/alert-event.js'
import type { AlertRoute, AlertRule } from './alert-rules-config.js'

type RoutedAlert = Pick<AlertEvent, 'severity' | 'rule_id' | 'group'> & { readonly anomaly?: Pick<AlertEvent['anomaly'], 'dimensions'> }

export function routeValue(key: string, alert: RoutedAlert, rule: Pick<AlertRule, 'labels'>): string | undefined {
  if (key === 'severity') return alert.severity
  if (key === 'rule') return alert.rule_id
  return rule.labels[key] ?? alert.group[key] ?? alert.anomaly?.dimensions?.[key]
}

/** Indexes (in `routes`) of the routes the alert takes. */
export function matchingRoutes(routes: readonly AlertRoute[], alert: RoutedAlert, rule: Pick<AlertRule, 'labels'>): number[] {
  const taken: number[] = []
  for (const [i, route] of routes.entries()) {
    const matches = Object.entries(route.match).every(([key, values]) => {
      const value = routeValue(key, alert, rule)
      return value !== undefined && values.includes(value)
    })
    if (!matches) continue
    taken.push(i)
    if (!route.continue) break
  }
  return taken
}

/** The notification action a route adds to an alert (`route` tells the dispatcher's records apart). */
export function routeAction(route: AlertRoute, index: number): AlertAction {
  return { type: 'notification', config: { receivers: [...route.receivers], route: index } }
}
