/**
 * The alert view: every alert with its deliveries and silence, by alert id, in a logged key-value
 * store `alerts-by-id` that the API reads through interactive queries (`/api/v1/alerts`).
 *
 * Shape: the alerts topic (AlertEvent), the deliveries topic (the dispatcher's DeliveryRecord) — JSON,
 * or the registry wire format when Sentinel has a registry (topic-serdes.ts) — and the silences topic (AlertSilence JSON, written by `DELETE /api/v1/alerts/:id`), all keyed
 * by alert_id → merged, keyed by the alert_id the records carry → `alert-view-updates` repartition →
 * `alert-view` (store `alerts-by-id`). The repartition makes the three meet in one task whatever
 * their partition counts: same-count topics keyed alike would be co-partitioned already, but nothing
 * guarantees the counts match (the topics are made by different people at different times).
 *
 * A delivery or silence may arrive before its alert (another partition, a replay, the dispatcher
 * being faster than the view): it is kept in an entry without alert (`alert: null`, not listed by
 * the API) and the alert joins it when it comes. A repeated alert (a replay) replaces the event and
 * keeps deliveries and silence. Deliveries are kept latest per receiver (a redelivery replaces the
 * receiver's earlier outcome, unless it is older).
 *
 * Retention goes by **view time**, the highest alert timestamp (event time) the task has seen, not
 * by stream time as the anomaly view does: delivery records are stamped with the dispatcher's wall
 * clock, and on replayed or synthetic telemetry (the demo's is months old) that wall clock would
 * jump stream time ahead and purge every alert. An entry is deleted once its alert is more than
 * `retentionMs` (default 7 days) older than view time; an entry without alert is kept for
 * `retentionMs` of view time after it was made. The purge runs every `purgeIntervalMs` (default
 * 1 hour) of wall-clock time, and an alert already that old is not stored. View time is per task,
 * like stream time: a partition that receives no alert keeps its entries until it does (it does not
 * grow meanwhile). The task rebuilds its view time from its store when it starts. View time never
 * passes the wall clock by more than 5 minutes (view-time.ts): an alert dated years ahead is stored
 * with its time capped there, so it cannot age every other entry out of the view.
 */
import type { AlertEvent } from '../../schemas/alert/alert-event.js'
import type { ActionTaken } from '../../schemas/anomaly/anomaly-event.js'
import { alertEventSerde } from '../../schemas/alert/alert-event-serde.js'
import { Serdes } from '../../schemas/index.js'
import type { Serde } from '../../schemas/serde.js'
import type { KeyValueStore } from '../../state/types.js'
import { type KStream, type KeyValueStoreDefinition, type Processor, type ProcessorContext, type StreamRecord, Stores, type StreamsBuilder } from '../../topology/index.js'
import type { AnomalyActionTaken } from './anomaly-view.js'
import type { DeliveryRecord } from './delivery/delivery-record.js'
import { ViewTime } from './view-time.js'
import type { NotificationKind } from './alerting/alert-notification.js'
import { notificationSerde } from './alerting/lifecycle-topology.js'

export const ALERT_VIEW_STORE = 'alerts-by-id'
export const ALERT_STATUSES = ['delivered', 'skipped', 'failed', 'pending', 'silenced'] as const
export type AlertStatus = (typeof ALERT_STATUSES)[number]

/** A record of the silences topic, keyed by alert_id: someone asked that the alert be silenced. */
export interface AlertSilence {
  readonly type: 'silence'
  readonly alert_id: string
  readonly by: string | null
  readonly note: string | null
  /** ISO-8601, when it was asked (wall clock of the API). */
  readonly at: string
}

/** What the view stores per alert id. */
export interface AlertRecord {
  /** Null while only deliveries or a silence have arrived. */
  readonly alert: AlertEvent | null
  /** The latest outcome per receiver, in order of first arrival. */
  readonly deliveries: readonly DeliveryRecord[]
  /** The first silence (silencing again changes nothing); null when not silenced. */
  readonly silenced_by: string | null
  readonly silenced_at: string | null
  readonly silence_note: string | null
  /** What retention goes by (epoch ms): the alert's timestamp, or view time when an entry without alert was made. */
  readonly updated_at: number
  /** Where the alert lifecycle has it (from the notifications topic); absent before its first notification. */
  readonly lifecycle?: AlertLifecycleView
}

/** An alert's lifecycle as the notifications tell it. */
export interface AlertLifecycleView {
  readonly state: 'firing' | 'acknowledged' | 'resolved'
  /** The notification group (the key acknowledgements are sent by). */
  readonly group_key: string
  readonly escalation_level: number
  readonly acknowledged_by: string | null
  readonly acknowledged_at: string | null
  /** null with resolved_at set: auto-resolved. */
  readonly resolved_by: string | null
  readonly resolved_at: string | null
}

/** One alert's part of a notification. */
export interface AlertLifecycleUpdate {
  readonly type: 'lifecycle'
  readonly alert_id: string
  readonly kind: NotificationKind
  readonly group_key: string
  readonly escalation_level: number | null
  readonly by: string | null
  readonly at: string
}

/** What flows into the view's store, by alert id. */
export type AlertViewUpdate = { readonly type: 'alert'; readonly alert: AlertEvent } | { readonly type: 'delivery'; readonly delivery: DeliveryRecord } | AlertSilence | AlertLifecycleUpdate

export interface AlertViewOptions {
  /** Default `alerts`. */
  readonly alertsTopic?: string
  /** Default `alert-deliveries`. */
  readonly deliveriesTopic?: string
  /** Default `alert-silences`. */
  readonly silencesTopic?: string
  /** The alert lifecycle's notifications topic (alerting/lifecycle-topology.ts); absent: no lifecycle states. */
  readonly notificationsTopic?: string
  /** Values of the alerts topic; default JSON. Sentinel passes the one of its topic-serdes.ts. */
  readonly alertSerde?: Serde<AlertEvent>
  /** Values of the deliveries topic; default JSON (`deliveryRecordSerde`). */
  readonly deliverySerde?: Serde<DeliveryRecord>
  /** Default 7 days. */
  readonly retentionMs?: number
  /** Wall-clock time between purges; default 1 hour. */
  readonly purgeIntervalMs?: number
}

const DAY_MS = 86_400_000
const FAILED: ReadonlySet<DeliveryRecord['status']> = new Set(['failed', 'circuit_open'])

/**
 * An alert's delivery status: `silenced` once silenced; else `pending` while no receiver has reported;
 * `failed` when any receiver's latest outcome is failed or circuit_open; `delivered` when at least one
 * receiver succeeded and none failed; `skipped` when nothing was sent (every receiver disabled, or a
 * rule without actions). With the dispatcher's per-receiver lanes, receivers report one by one, so an
 * alert may read `delivered` before a slower receiver has reported.
 */
export function alertStatus(entry: Pick<AlertRecord, 'alert' | 'deliveries' | 'silenced_at'>): AlertStatus {
  if (entry.silenced_at !== null) return 'silenced'
  if (entry.deliveries.length === 0) return entry.alert !== null && entry.alert.actions.length === 0 ? 'skipped' : 'pending'
  if (entry.deliveries.some((d) => FAILED.has(d.status))) return 'failed'
  if (entry.deliveries.some((d) => d.status === 'success')) return 'delivered'
  // Every receiver held back by a silence (the dispatcher's): nothing was sent because someone said so.
  return entry.deliveries.some((d) => d.status === 'silenced') ? 'silenced' : 'skipped'
}

/** The next lifecycle view after a notification about the alert. */
export function applyLifecycle(previous: AlertLifecycleView | undefined, update: AlertLifecycleUpdate): AlertLifecycleView {
  const base: AlertLifecycleView = previous ?? { state: 'firing', group_key: update.group_key, escalation_level: 0, acknowledged_by: null, acknowledged_at: null, resolved_by: null, resolved_at: null }
  if (base.state === 'resolved') return base
  switch (update.kind) {
    case 'firing':
      return { ...base, group_key: update.group_key }
    case 'escalation':
      return { ...base, escalation_level: Math.max(base.escalation_level, update.escalation_level ?? 0) }
    case 'acknowledged':
      return { ...base, state: 'acknowledged', acknowledged_by: update.by, acknowledged_at: update.at }
    case 'resolved':
      return { ...base, state: 'resolved', resolved_by: update.by, resolved_at: update.at }
  }
}

const receiverOf = (d: DeliveryRecord): string => d.receiver ?? `(${d.action ?? 'unrouted'})`

function withDelivery(deliveries: readonly DeliveryRecord[], delivery: DeliveryRecord): readonly DeliveryRecord[] {
  const i = deliveries.findIndex((d) => receiverOf(d) === receiverOf(delivery))
  if (i < 0) return [...deliveries, delivery]
  // Out of order (a late copy of an earlier attempt): the later outcome stands.
  if (Date.parse(delivery.at) < Date.parse(deliveries[i]!.at)) return deliveries
  return deliveries.map((d, j) => (j === i ? delivery : d))
}

/**
 * The next state of an entry after one update (pure: the view's processor and its tests use it).
 * `viewTime` stamps an entry made without its alert.
 */
export function applyAlertUpdate(previous: AlertRecord | undefined, update: AlertViewUpdate, viewTime: number): AlertRecord {
  const base: AlertRecord = previous ?? { alert: null, deliveries: [], silenced_by: null, silenced_at: null, silence_note: null, updated_at: viewTime }
  switch (update.type) {
    case 'alert':
      return { ...base, alert: update.alert, updated_at: Date.parse(update.alert.timestamp) }
    case 'delivery':
      return { ...base, deliveries: withDelivery(base.deliveries, update.delivery) }
    case 'silence':
      return base.silenced_at !== null ? base : { ...base, silenced_by: update.by, silenced_at: update.at, silence_note: update.note }
    case 'lifecycle':
      return { ...base, lifecycle: applyLifecycle(base.lifecycle, update) }
  }
}

/**
 * What a delivery did, as the seed's `actions_taken` entry of each anomaly of the alert; null for a
 * skipped delivery (nothing was done) or one without receiver.
 */
export function actionTakenOf(alert: AlertEvent, delivery: DeliveryRecord): ActionTaken | null {
  if (delivery.status === 'skipped' || delivery.receiver === null) return null
  const shield = delivery.action === 'shield' ? alert.actions.find((a) => a.type === 'shield')?.config.action : undefined
  return {
    action: delivery.action !== 'shield' ? 'alert' : shield === 'block' ? 'shield_block' : 'shield_rate_limit',
    target: delivery.receiver,
    status: delivery.status === 'success' ? 'success' : 'failed',
    timestamp: delivery.at,
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null
const isOptionalString = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string'

export function isAlertSilence(value: unknown): value is AlertSilence {
  return isObject(value) && value.type === 'silence' && typeof value.alert_id === 'string' && isOptionalString(value.by) && isOptionalString(value.note) && typeof value.at === 'string'
}

function isDeliveryRecord(value: unknown): value is DeliveryRecord {
  return isObject(value) && isOptionalString(value.alert_id) && isOptionalString(value.receiver) && typeof value.status === 'string' && typeof value.at === 'string'
}

/** JSON serdes of the silences and deliveries topics; a record of another shape is a bad record (DLQ). */
export const alertSilenceSerde = (): Serde<AlertSilence> => Serdes.json<AlertSilence>({ name: 'json(AlertSilence)', validate: isAlertSilence })
export const deliveryRecordSerde = (): Serde<DeliveryRecord> => Serdes.json<DeliveryRecord>({ name: 'json(DeliveryRecord)', validate: isDeliveryRecord })
export const alertRecordSerde = (): Serde<AlertRecord> => Serdes.json<AlertRecord>({ name: 'json(AlertRecord)' })

class AlertViewProcessor implements Processor<string, AlertViewUpdate, string, AnomalyActionTaken> {
  private context!: ProcessorContext<string, AnomalyActionTaken>
  private store!: KeyValueStore<string, AlertRecord>
  /** The highest alert timestamp seen, capped near the wall clock (-1: none yet). */
  private viewTime!: ViewTime

  constructor(
    private readonly definition: KeyValueStoreDefinition<string, AlertRecord>,
    private readonly retentionMs: number,
    private readonly purgeIntervalMs: number,
  ) {}

  async init(context: ProcessorContext<string, AnomalyActionTaken>): Promise<void> {
    this.context = context
    this.store = context.getStateStore(this.definition)
    this.viewTime = new ViewTime(() => context.wallClockTime())
    for await (const [, entry] of this.store.all()) if (entry.alert !== null) this.viewTime.observe(entry.updated_at)
    context.schedule(this.purgeIntervalMs, 'wall-clock', () => this.purge())
  }

  process(record: StreamRecord<string, AlertViewUpdate>): void {
    const update = record.value
    if (update.type === 'alert') {
      const t = this.viewTime.observe(Date.parse(update.alert.timestamp))
      // Already past retention: storing it would only have the next purge delete it.
      if (t < this.viewTime.now - this.retentionMs) return
    }
    const now = this.viewTime.now
    const previous = this.store.get(record.key)
    const entry = applyAlertUpdate(previous, update, now >= 0 ? now : record.timestamp)
    this.store.put(record.key, entry)
    // Each outcome once its alert is known: a delivery as it comes, earlier ones when the alert comes.
    const outcomes = update.type === 'delivery' ? [update.delivery] : update.type === 'alert' && previous?.alert == null ? entry.deliveries : []
    if (entry.alert !== null) this.forwardActions(entry.alert, outcomes)
  }

  private forwardActions(alert: AlertEvent, deliveries: readonly DeliveryRecord[]): void {
    // Dated as the alert (event time), not the wall clock of the delivery: the anomaly view ages by it.
    const timestamp = Date.parse(alert.timestamp)
    for (const delivery of deliveries) {
      const action = actionTakenOf(alert, delivery)
      if (action === null) continue
      for (const anomaly_id of alert.anomaly_ids) this.context.forward({ key: anomaly_id, value: { type: 'action', anomaly_id, action }, timestamp, headers: {} })
    }
  }

  private async purge(): Promise<void> {
    if (this.viewTime.now < 0) return
    const cutoff = this.viewTime.now - this.retentionMs
    const expired: string[] = []
    for await (const [id, entry] of this.store.all()) if (entry.updated_at < cutoff) expired.push(id)
    // Deletes are blind writes: they need no prefetch.
    for (const id of expired) this.store.delete(id)
  }
}

/**
 * Adds the view to `builder`: the alerts, deliveries and silences topics in (JSON unless other
 * serdes are given, keyed by alert_id), store `alerts-by-id` out (see above). The topology must not read these topics
 * elsewhere (writing the alerts topic, as `addAlerting` does, is fine).
 */
export function addAlertView(builder: StreamsBuilder, options: AlertViewOptions = {}): KeyValueStoreDefinition<string, AlertRecord> {
  return addAlertViewWithActions(builder, options).store
}

/**
 * `addAlertView`, also returning what each delivery did for each anomaly of its alert (skipped ones
 * left out), keyed by anomaly id: the anomaly view's `actionsTaken`.
 */
export function addAlertViewWithActions(builder: StreamsBuilder, options: AlertViewOptions = {}): { store: KeyValueStoreDefinition<string, AlertRecord>; actionsTaken: KStream<string, AnomalyActionTaken> } {
  const retentionMs = options.retentionMs ?? 7 * DAY_MS
  if (!(Number.isSafeInteger(retentionMs) && retentionMs > 0)) throw new Error(`addAlertView: 'retentionMs' must be a positive integer (ms), got ${retentionMs}`)
  const purgeIntervalMs = options.purgeIntervalMs ?? 3_600_000
  if (!(Number.isSafeInteger(purgeIntervalMs) && purgeIntervalMs > 0)) throw new Error(`addAlertView: 'purgeIntervalMs' must be a positive integer (ms), got ${purgeIntervalMs}`)
  const key = Serdes.nullable(Serdes.string())

  const alerts = builder
    .stream(options.alertsTopic ?? 'alerts', { key, value: options.alertSerde ?? alertEventSerde(), name: 'alert-view-alerts-source' })
    .mapValues((alert): AlertViewUpdate => ({ type: 'alert', alert }), { name: 'alert-view-alerts' })
  const deliveries = builder
    .stream(options.deliveriesTopic ?? 'alert-deliveries', { key, value: options.deliverySerde ?? deliveryRecordSerde(), name: 'alert-view-deliveries-source' })
    // A record of an unreadable alert without key belongs to no alert.
    .flatMapValues((delivery): AlertViewUpdate[] => (delivery.alert_id === null ? [] : [{ type: 'delivery', delivery }]), { name: 'alert-view-deliveries' })
  const silences = builder
    .stream(options.silencesTopic ?? 'alert-silences', { key, value: alertSilenceSerde(), name: 'alert-view-silences-source' })
    .mapValues((silence): AlertViewUpdate => silence, { name: 'alert-view-silences' })

  const store = Stores.keyValue(ALERT_VIEW_STORE, Serdes.string(), alertRecordSerde())
  let updates = alerts.merge(deliveries, { name: 'alert-view-merge-deliveries' }).merge(silences, { name: 'alert-view-merge-silences' })
  if (options.notificationsTopic !== undefined) {
    const lifecycle = builder
      .stream(options.notificationsTopic, { key, value: notificationSerde(), name: 'alert-view-notifications-source' })
      .flatMapValues(
        (n): AlertViewUpdate[] =>
          n.notification.alerts.map((a) => ({ type: 'lifecycle', alert_id: a.alert_id, kind: n.notification.kind, group_key: n.notification.group_key, escalation_level: n.notification.escalation_level, by: n.notification.by, at: n.notification.at })),
        { name: 'alert-view-lifecycle' },
      )
    updates = updates.merge(lifecycle, { name: 'alert-view-merge-lifecycle' })
  }
  const actionsTaken = updates
    // Topic keys are trusted only as far as the records say: a record keyed otherwise would land on the wrong entry.
    .selectKey((_key, update): string => (update.type === 'alert' ? update.alert.alert_id : update.type === 'delivery' ? (update.delivery.alert_id ?? '') : update.alert_id), { name: 'alert-view-select-id' })
    .repartition({ name: 'alert-view-updates', key: Serdes.string(), value: Serdes.json<AlertViewUpdate>({ name: 'json(AlertViewUpdate)' }) })
    .process(() => new AlertViewProcessor(store, retentionMs, purgeIntervalMs), { name: 'alert-view', stores: [store] })
  return { store, actionsTaken }
}
