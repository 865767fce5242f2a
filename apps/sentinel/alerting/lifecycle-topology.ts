/**
 * Wires the alert lifecycle into the alert manager:
 *
 *   alerts (rules processor) ─ map to notification group ─┐
 *   rule matches ─ map to "seen" (only with auto-resolve) ─┼─ merge ─ repartition <app>-<name>-by-notification-group
 *   commands topic (the API's acknowledge / resolve) ─────┘     ─ <name>-lifecycle (store <name>-lifecycle-store)
 *                                                              ─ <name>-notifications-sink → notifications topic (JSON)
 *
 * All three inputs go through one repartition topic, so a group's alerts, marks and commands meet in
 * one task whatever the input topics' partition counts. The API keys a command by the alert's
 * notification group (`notificationGroupOf`), computed from the same rules version
 * (api/notification-group-keys.ts).
 */
import type { Logger } from 'pino'
import { alertEventSerde } from '../../../schemas/alert/alert-event-serde.js'
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import { Serdes } from '../../../schemas/index.js'
import { type Serde, SerdeError } from '../../../schemas/serde.js'
import { type KStream, Stores, type StreamsBuilder } from '../../../topology/index.js'
import type { GroupState } from './alert-lifecycle.js'
import { type AlertCommand, type AlertNotification, type LifecycleInput, NOTIFICATION_KINDS, isAlertCommand, notificationGroup, notificationGroupOf, ruleGroupKey } from './alert-notification.js'
import type { ActiveRules, LiveRulesTable } from './live-alert-rules.js'
import { DEFAULT_LIFECYCLE_TICK_MS, LifecycleProcessor } from './lifecycle-processor.js'
import type { RuleMatch } from './rule-matcher.js'

export interface LifecycleWiring {
  readonly name: string
  /** The rules (their labels and escalation) and lifecycle settings in force, read per record and per tick. */
  readonly active: () => Pick<ActiveRules, 'rules' | 'lifecycle'>
  /** With live rules: where the lifecycle processor reads the version in force (it may run where no rules task does). */
  readonly liveTable?: LiveRulesTable
  readonly alerts: KStream<string, AlertEvent>
  readonly matches: KStream<string, RuleMatch>
  readonly notificationsTopic: string
  readonly commandsTopic: string
  readonly tickMs?: number
  readonly log: Logger
}

export const alertCommandSerde = (): Serde<AlertCommand> => Serdes.json<AlertCommand>({ name: 'json(AlertCommand)', validate: isAlertCommand })
/** Notifications are AlertEvents with `notification` (JSON keeps the extra field); both are checked on read. */
export function notificationSerde(): Serde<AlertNotification> {
  const alerts = alertEventSerde()
  return {
    name: 'json(AlertNotification)',
    serialize: (value, topic) => alerts.serialize(value, topic),
    deserialize(data, topic) {
      const value = alerts.deserialize(data, topic)
      const n = (value as Partial<AlertNotification>).notification
      if (typeof n !== 'object' || n === null || !(NOTIFICATION_KINDS as readonly string[]).includes(n.kind) || typeof n.group_key !== 'string' || !Array.isArray(n.alerts) || typeof n.at !== 'string')
        throw new SerdeError('json(AlertNotification)', 'notification: must be { notification_id, kind, group_key, alerts, at, ... }')
      return value as AlertNotification
    },
  }
}

export function addLifecycle(builder: StreamsBuilder, wiring: LifecycleWiring): KStream<string, AlertNotification> {
  const { name, active } = wiring
  let inputs: KStream<string, LifecycleInput> = wiring.alerts.map(
    (_id, alert) => {
      const { rules, lifecycle } = active()
      return [notificationGroupOf(alert, rules.get(alert.rule_id), lifecycle.groupBy).key, { type: 'alert', alert } as LifecycleInput] as const
    },
    { name: `${name}-lifecycle-alerts` },
  )
  // Live rules may turn auto-resolve on later: the marks are then always wired, and sent only while it is on.
  if (wiring.liveTable !== undefined || active().lifecycle.resolveTimeoutMs > 0) {
    const seen = wiring.matches
      .filter(() => active().lifecycle.resolveTimeoutMs > 0, { name: `${name}-lifecycle-resolving` })
      .map(
        (_key, m) => {
          const { rules, lifecycle } = active()
          return [notificationGroup(m.rule_id, m.group, m.anomaly, rules.get(m.rule_id), lifecycle.groupBy).key, { type: 'seen', rule_group: ruleGroupKey(m.rule_id, m.group) } as LifecycleInput] as const
        },
        { name: `${name}-lifecycle-seen` },
      )
    inputs = inputs.merge(seen, { name: `${name}-lifecycle-merge-seen` })
  }
  const commands = builder
    .stream(wiring.commandsTopic, { key: Serdes.string(), value: alertCommandSerde(), name: `${name}-lifecycle-commands-source` })
    .mapValues((command): LifecycleInput => command, { name: `${name}-lifecycle-commands` })
  inputs = inputs.merge(commands, { name: `${name}-lifecycle-merge-commands` })
  const store = Stores.keyValue(`${name}-lifecycle-store`, Serdes.string(), Serdes.json<GroupState>({ name: 'json(GroupState)' }))
  const notifications = inputs
    .repartition({ name: `${name}-by-notification-group`, key: Serdes.string(), value: Serdes.json<LifecycleInput>({ name: 'json(LifecycleInput)' }) })
    .process(
      () =>
        new LifecycleProcessor({
          active,
          store,
          tickMs: wiring.tickMs ?? DEFAULT_LIFECYCLE_TICK_MS,
          log: wiring.log,
          ...(wiring.liveTable === undefined ? {} : { liveTable: wiring.liveTable }),
        }),
      { name: `${name}-lifecycle`, stores: [store] },
    )
  notifications.to(wiring.notificationsTopic, { name: `${name}-notifications-sink`, key: Serdes.string(), value: notificationSerde() })
  return notifications
}
