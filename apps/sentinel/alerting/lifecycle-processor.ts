/**
 * The alert lifecycle as a processor, keyed by notification group (the `<name>-by-notification-group`
 * repartition): alerts, "still seen" marks and the API's commands in, notifications out (to the
 * notifications topic the dispatcher reads). State per group in a logged key-value store, so it
 * survives a restart and moves with the task; the times it waits for (groupWait, groupInterval,
 * escalations, auto-resolve) are the task's wall clock, checked by a wall-clock punctuator every
 * `tickMs` — the topology test driver's clock in tests, so they never sleep.
 *
 * An in-memory index (group → next due time) spares the punctuator a scan of the store; it is rebuilt
 * from the store when the task starts, and when a version changes the settings (the due times of
 * auto-resolve and escalation depend on them) at the next tick.
 *
 * The settings (groupWait, groupInterval, resolve timeout, escalation policies, the rules' escalation
 * and labels) are the version in force, read per record and per tick: a new version applies to the
 * groups already held (a longer groupWait delays a pending flush, a policy's new level escalates the
 * firing alerts naming it). An alert keeps the policy name its rule had when it fired.
 */
import type { Logger } from 'pino'
import type { KeyValueStore } from '../../../state/types.js'
import type { KeyValueStoreDefinition, Processor, ProcessorContext, StreamRecord } from '../../../topology/index.js'
import type { AlertNotification, LifecycleInput } from './alert-notification.js'
import { notificationGroupOf } from './alert-notification.js'
import { type GroupState, type LifecycleStep, nextDue, onAlert, onCommand, onSeen, onTick } from './alert-lifecycle.js'
import type { AlertLifecycleConfig } from './lifecycle-config.js'
import { type ActiveRules, type LiveRulesTable, attachLiveRules } from './live-alert-rules.js'

export const DEFAULT_LIFECYCLE_TICK_MS = 1_000

export interface LifecycleProcessorOptions {
  /** The rules and lifecycle settings in force (live-alert-rules.ts). */
  readonly active: () => Pick<ActiveRules, 'rules' | 'lifecycle'>
  /** With live rules: the global table `active` reads (alert-rules/current). */
  readonly liveTable?: LiveRulesTable
  readonly store: KeyValueStoreDefinition<string, GroupState>
  readonly tickMs: number
  readonly log: Logger
}

export class LifecycleProcessor implements Processor<string, LifecycleInput, string, AlertNotification> {
  private context!: ProcessorContext<string, AlertNotification>
  private store!: KeyValueStore<string, GroupState>
  private readonly due = new Map<string, number>()
  /** The settings the due index was computed with. */
  private indexed: AlertLifecycleConfig | null = null

  constructor(private readonly options: LifecycleProcessorOptions) {}

  async init(context: ProcessorContext<string, AlertNotification>): Promise<void> {
    this.context = context
    attachLiveRules(context, this.options.liveTable)
    this.store = context.getStateStore(this.options.store)
    await this.reindex()
    context.schedule(this.options.tickMs, 'wall-clock', (now) => this.tick(now))
  }

  private get config(): AlertLifecycleConfig {
    return this.options.active().lifecycle
  }

  /** The due index from the store, under the settings in force. */
  private async reindex(): Promise<void> {
    this.indexed = this.config
    this.due.clear()
    for await (const [key, state] of this.store.all()) this.index(key, state)
  }

  process(record: StreamRecord<string, LifecycleInput>): void {
    const now = this.context.wallClockTime()
    const key = record.key
    const before = this.store.get(key) ?? null
    const input = record.value
    switch (input.type) {
      case 'alert': {
        const { rules, lifecycle } = this.options.active()
        const rule = rules.get(input.alert.rule_id)
        const { labels } = notificationGroupOf(input.alert, rule, lifecycle.groupBy)
        this.apply(key, onAlert(before, input.alert, labels, key, rule?.escalation ?? null, now, lifecycle))
        return
      }
      case 'seen': {
        const after = onSeen(before, input.rule_group, now)
        if (after !== before) this.apply(key, { state: after, notifications: [] })
        return
      }
      case 'command': {
        const step = onCommand(before, input, key, now)
        if (!step.found) this.options.log.warn({ alert_id: input.alert_id, group: key, command: input.command }, 'alert command for an alert its group does not hold (already resolved, or the grouping changed); ignored')
        else this.options.log.info({ alert_id: input.alert_id, group: key, command: input.command, by: input.by }, `alert ${input.command === 'resolve' ? 'resolved' : 'acknowledged'}`)
        this.apply(key, step)
        return
      }
    }
  }

  private apply(key: string, step: LifecycleStep): void {
    if (step.state === null) this.store.delete(key)
    else this.store.put(key, step.state)
    this.index(key, step.state)
    if (step.dropped) this.options.log.warn({ group: key, dropped: step.dropped }, 'alert group full: its oldest alerts are no longer tracked (never resolved or escalated)')
    for (const notification of step.notifications) this.context.forward({ key, value: notification, timestamp: Date.parse(notification.timestamp), headers: {} })
  }

  private index(key: string, state: GroupState | null): void {
    const due = state === null ? null : nextDue(state, this.config)
    if (due === null) this.due.delete(key)
    else this.due.set(key, due)
  }

  private async tick(now: number): Promise<void> {
    if (this.config !== this.indexed) await this.reindex()
    const keys = [...this.due].filter(([, at]) => at <= now).map(([key]) => key)
    if (keys.length === 0) return
    await this.context.prefetchSourceKeys(keys.map((key) => ({ key, timestamp: now })))
    for (const key of keys) {
      const state = this.store.get(key)
      if (state === undefined) this.due.delete(key)
      else this.apply(key, onTick(state, key, now, this.config))
    }
  }
}
