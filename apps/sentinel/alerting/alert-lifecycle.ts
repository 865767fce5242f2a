/**
 * The alert lifecycle of one notification group, Alertmanager-like, as pure functions of (state,
 * input, now): the processor (lifecycle-processor.ts) keeps the state in a logged store and calls
 * these with its wall clock, tests call them with any clock.
 *
 * - **Grouping.** A group's first alert waits `groupWait`, so alerts arriving together leave in one
 *   notification; after a notification, new alerts of the group wait until `groupInterval` since it.
 *   A notification carries its batch (`notification.alerts`) and goes to the union of the batch's
 *   actions. Zero waits notify at once (one alert, one notification: the behaviour without grouping).
 * - **Acknowledge / resolve** (API commands). Acknowledged alerts stop escalating; resolved ones
 *   leave the group with a `resolved` notification to every receiver they were notified through.
 * - **Auto-resolve.** An alert whose rule group (rule id and its grouping values: by default the
 *   detector and application) has had no matching anomaly for `resolveTimeout` resolves by itself,
 *   notified the same way (`by: null`).
 * - **Escalation.** An alert of a rule with a policy, still firing (not acknowledged) `after` its
 *   first notification, goes to the level's receivers once per level (kind `escalation`).
 *
 * Silences are the dispatcher's (delivery/silences.ts): they stop delivery, not the lifecycle.
 */
import type { AlertAction, AlertEvent } from '../../../schemas/alert/alert-event.js'
import { uuidV5 } from './alert-id.js'
import { type AlertCommand, type AlertNotification, type NotificationKind, notifiedAlert, ruleGroupKey } from './alert-notification.js'
import type { AlertLifecycleConfig } from './lifecycle-config.js'

/** Namespace of notification ids (fixed random UUID). */
const NOTIFICATION_NAMESPACE = '5f0c9e2a-3d41-4b8e-a6c7-2e91b0d47f38'
/** Alerts tracked per group; beyond it the oldest is dropped (it is then never resolved or escalated). */
export const MAX_GROUP_ALERTS = 500

export interface LifecycleAlert {
  readonly alert: AlertEvent
  readonly status: 'firing' | 'acknowledged'
  readonly rule_group: string
  /** Wall clock of the last anomaly matching its rule group. */
  readonly last_seen_ms: number
  /** Wall clock of its first notification; null while it waits for the group's flush. */
  readonly notified_at_ms: number | null
  /** Every action it was notified through (its resolve goes to each). */
  readonly notified_actions: readonly AlertAction[]
  readonly escalation: string | null
  /** Levels already escalated to (0: none). */
  readonly escalated_level: number
  readonly acknowledged_by: string | null
}

export interface GroupState {
  readonly labels: Readonly<Record<string, string>>
  readonly alerts: readonly LifecycleAlert[]
  /** Ids of alerts waiting for the next flush. */
  readonly pending: readonly string[]
  readonly flush_at_ms: number | null
  readonly last_flush_ms: number | null
  /** Notifications made so far (their ids derive from it). */
  readonly seq: number
}

export interface LifecycleStep {
  /** null: the group is empty and can be deleted. */
  readonly state: GroupState | null
  readonly notifications: readonly AlertNotification[]
  /** Alerts dropped because the group was full. */
  readonly dropped?: number
}

type Settings = Pick<AlertLifecycleConfig, 'groupWaitMs' | 'groupIntervalMs' | 'resolveTimeoutMs' | 'escalationPolicies'>

const actionKey = (a: AlertAction): string => JSON.stringify([a.type, a.config])

function unionActions(lists: readonly (readonly AlertAction[])[]): AlertAction[] {
  const seen = new Set<string>()
  const out: AlertAction[] = []
  for (const list of lists)
    for (const action of list) {
      const key = actionKey(action)
      if (!seen.has(key)) {
        seen.add(key)
        out.push(action)
      }
    }
  return out
}

const PREFIX: Record<NotificationKind, string> = { firing: '', resolved: 'RESOLVED: ', escalation: 'ESCALATED: ', acknowledged: 'ACKNOWLEDGED: ' }

/** One notification about `batch` (non-empty) of the group; advances `seq` in the returned state. */
function notify(state: GroupState, groupKey: string, kind: NotificationKind, batch: readonly AlertEvent[], actions: readonly AlertAction[], now: number, extra: { level?: number; by?: string | null } = {}): [GroupState, AlertNotification] {
  const latest = batch.reduce((a, b) => (Date.parse(b.timestamp) > Date.parse(a.timestamp) ? b : a))
  const labelText = Object.entries(state.labels).map(([k, v]) => `${k}=${v}`).join(', ')
  const many = batch.length > 1
  const title = `${PREFIX[kind]}${extra.level ? `(level ${extra.level}) ` : ''}${many ? `${batch.length} alerts${labelText ? ` for ${labelText}` : ''}` : latest.title}`
  const description = many ? batch.map((a) => `- [${a.severity}] ${a.title}`).join('\n') : latest.description
  const notification: AlertNotification = {
    ...latest,
    title,
    description,
    actions,
    notification: {
      notification_id: uuidV5(NOTIFICATION_NAMESPACE, `${groupKey.length}:${groupKey}|${state.seq}`),
      kind,
      group_key: groupKey,
      group_labels: state.labels,
      alerts: batch.map(notifiedAlert),
      escalation_level: extra.level ?? null,
      by: extra.by ?? null,
      at: new Date(now).toISOString(),
    },
  }
  return [{ ...state, seq: state.seq + 1 }, notification]
}

/** A new alert of the group (`labels`: the group's labels, used when the group is new). */
export function onAlert(previous: GroupState | null, alert: AlertEvent, labels: Readonly<Record<string, string>>, groupKey: string, escalation: string | null, now: number, settings: Settings): LifecycleStep {
  const state: GroupState = previous ?? { labels, alerts: [], pending: [], flush_at_ms: null, last_flush_ms: null, seq: 0 }
  // A replay of an alert the group already holds changes nothing.
  if (state.alerts.some((a) => a.alert.alert_id === alert.alert_id)) return { state, notifications: [] }
  const entry: LifecycleAlert = {
    alert,
    status: 'firing',
    rule_group: ruleGroupKey(alert.rule_id, alert.group),
    last_seen_ms: now,
    notified_at_ms: null,
    notified_actions: [],
    escalation,
    escalated_level: 0,
    acknowledged_by: null,
  }
  let alerts = [...state.alerts, entry]
  let pending = [...state.pending, alert.alert_id]
  let dropped = 0
  while (alerts.length > MAX_GROUP_ALERTS) {
    const [oldest] = alerts.splice(0, 1)
    pending = pending.filter((id) => id !== oldest!.alert.alert_id)
    alerts = [...alerts]
    dropped++
  }
  const flushAt = state.flush_at_ms ?? (state.last_flush_ms === null ? now + settings.groupWaitMs : Math.max(now, state.last_flush_ms + settings.groupIntervalMs))
  const next: GroupState = { ...state, alerts, pending, flush_at_ms: flushAt }
  // Due already (zero waits, or an interval long past): notify now rather than at the next tick.
  if (flushAt <= now) {
    const step = onTick(next, groupKey, now, settings)
    return { ...step, dropped }
  }
  return { state: next, notifications: [], dropped }
}

/** An anomaly matched `ruleGroup`: its alerts' condition still holds. */
export function onSeen(state: GroupState | null, ruleGroup: string, now: number): GroupState | null {
  if (state === null || !state.alerts.some((a) => a.rule_group === ruleGroup)) return state
  return { ...state, alerts: state.alerts.map((a) => (a.rule_group === ruleGroup ? { ...a, last_seen_ms: now } : a)) }
}

/**
 * Removes `resolved` from the group with resolved notifications: each receiver action hears of the
 * alerts it was told about, no others (alerts told through the same actions share one notification;
 * alerts never notified get one without actions, so the view learns it).
 */
function resolve(state: GroupState, groupKey: string, resolved: readonly LifecycleAlert[], by: string | null, now: number): [GroupState, AlertNotification[]] {
  if (resolved.length === 0) return [state, []]
  const ids = new Set(resolved.map((a) => a.alert.alert_id))
  let current: GroupState = { ...state, alerts: state.alerts.filter((a) => !ids.has(a.alert.alert_id)), pending: state.pending.filter((id) => !ids.has(id)) }
  // action → the alerts told through it; then actions with the same alerts together.
  const told = new Map<string, { action: AlertAction; alerts: LifecycleAlert[] }>()
  for (const a of resolved) for (const action of a.notified_actions) {
    const entry = told.get(actionKey(action)) ?? { action, alerts: [] }
    entry.alerts.push(a)
    told.set(actionKey(action), entry)
  }
  const batches = new Map<string, { alerts: LifecycleAlert[]; actions: AlertAction[] }>()
  for (const { action, alerts } of told.values()) {
    const key = alerts.map((a) => a.alert.alert_id).join(',')
    const batch = batches.get(key) ?? { alerts, actions: [] }
    batch.actions.push(action)
    batches.set(key, batch)
  }
  const untold = resolved.filter((a) => a.notified_actions.length === 0)
  if (untold.length > 0) batches.set('', { alerts: untold, actions: [] })
  const out: AlertNotification[] = []
  for (const batch of batches.values()) {
    const [after, notification] = notify(current, groupKey, 'resolved', batch.alerts.map((a) => a.alert), batch.actions, now, { by })
    current = after
    out.push(notification)
  }
  return [current.pending.length === 0 ? { ...current, flush_at_ms: null } : current, out]
}

const orNull = (state: GroupState): GroupState | null => (state.alerts.length === 0 ? null : state)

/**
 * An acknowledge or resolve command. `found: false` when the group does not hold the alert (already
 * resolved, never notified here, or the grouping changed since).
 */
export function onCommand(state: GroupState | null, command: AlertCommand, groupKey: string, now: number): LifecycleStep & { readonly found: boolean } {
  const entry = state?.alerts.find((a) => a.alert.alert_id === command.alert_id)
  if (state === null || entry === undefined) return { state, notifications: [], found: false }
  if (command.command === 'resolve') {
    const [after, notifications] = resolve(state, groupKey, [entry], command.by, now)
    return { state: orNull(after), notifications, found: true }
  }
  if (entry.status === 'acknowledged') return { state, notifications: [], found: true }
  const acked: LifecycleAlert = { ...entry, status: 'acknowledged', acknowledged_by: command.by }
  const next: GroupState = { ...state, alerts: state.alerts.map((a) => (a === entry ? acked : a)) }
  const [after, notification] = notify(next, groupKey, 'acknowledged', [entry.alert], [], now, { by: command.by })
  return { state: after, notifications: [notification], found: true }
}

/** What is due at `now`: the group's flush, escalations, auto-resolves, in that order. */
export function onTick(state: GroupState, groupKey: string, now: number, settings: Settings): LifecycleStep {
  let current = state
  const out: AlertNotification[] = []
  if (current.flush_at_ms !== null && current.flush_at_ms <= now && current.pending.length > 0) {
    const pending = new Set(current.pending)
    const batch = current.alerts.filter((a) => pending.has(a.alert.alert_id))
    const actions = unionActions(batch.map((a) => a.alert.actions))
    const [after, notification] = notify(current, groupKey, 'firing', batch.map((a) => a.alert), actions, now)
    current = {
      ...after,
      pending: [],
      flush_at_ms: null,
      last_flush_ms: now,
      alerts: after.alerts.map((a) => (pending.has(a.alert.alert_id) ? { ...a, notified_at_ms: a.notified_at_ms ?? now, notified_actions: unionActions([a.notified_actions, a.alert.actions]) } : a)),
    }
    out.push(notification)
  } else if (current.flush_at_ms !== null && current.pending.length === 0) current = { ...current, flush_at_ms: null }

  for (const entry of current.alerts) {
    const policy = entry.escalation === null ? undefined : settings.escalationPolicies.get(entry.escalation)
    if (policy === undefined || entry.status !== 'firing' || entry.notified_at_ms === null) continue
    let updated = entry
    for (const [i, level] of policy.levels.entries()) {
      if (i < updated.escalated_level || now - entry.notified_at_ms < level.afterMs) continue
      const action: AlertAction = { type: 'notification', config: { receivers: [...level.receivers], escalation_policy: policy.name, escalation_level: i + 1 } }
      const [after, notification] = notify(current, groupKey, 'escalation', [entry.alert], [action], now, { level: i + 1 })
      current = after
      out.push(notification)
      updated = { ...updated, escalated_level: i + 1, notified_actions: unionActions([updated.notified_actions, [action]]) }
    }
    if (updated !== entry) current = { ...current, alerts: current.alerts.map((a) => (a.alert.alert_id === entry.alert.alert_id ? updated : a)) }
  }

  if (settings.resolveTimeoutMs > 0) {
    const stale = current.alerts.filter((a) => now - a.last_seen_ms >= settings.resolveTimeoutMs)
    const [after, notifications] = resolve(current, groupKey, stale, null, now)
    current = after
    out.push(...notifications)
  }
  return { state: orNull(current), notifications: out }
}

/** The earliest wall-clock time `onTick` has something to do for the group; null: nothing pending. */
export function nextDue(state: GroupState, settings: Settings): number | null {
  const times: number[] = []
  if (state.flush_at_ms !== null) times.push(state.flush_at_ms)
  for (const a of state.alerts) {
    if (settings.resolveTimeoutMs > 0) times.push(a.last_seen_ms + settings.resolveTimeoutMs)
    const policy = a.escalation === null ? undefined : settings.escalationPolicies.get(a.escalation)
    const level = policy?.levels[a.escalated_level]
    if (level !== undefined && a.status === 'firing' && a.notified_at_ms !== null) times.push(a.notified_at_ms + level.afterMs)
  }
  return times.length === 0 ? null : Math.min(...times)
}
