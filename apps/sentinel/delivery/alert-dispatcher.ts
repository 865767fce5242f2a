/**
 * AlertDispatcher: reads the alerts topic beside the topology (StreamsRuntime.consume, so the same
 * code runs on Kafka and standalone), delivers each alert to the receivers its rule's actions name,
 * and writes one delivery record per (alert, receiver) to the deliveries topic.
 *
 * Per batch: every delivery of every alert starts at once; each receiver's client limits its own
 * concurrency, retries with backoff and keeps a circuit breaker, so a slow or dead receiver never
 * holds up the deliveries to the others. The handler resolves when every delivery has succeeded or
 * been given up (retry budget spent, refused, or circuit open) and the delivery records are written:
 * only then may the runtime commit the batch's offsets. A failed delivery is therefore recorded and
 * not retried forever — the stream goes on. The longest a batch waits on one receiver is one retry
 * budget (attempts × timeout + backoffs); once its circuit opens, deliveries to it cost nothing.
 *
 * With `lanes: 'per-receiver'` each enabled receiver reads the alerts topic in its own consumer
 * group (`<groupId>.<receiver>`) and commits on its own, so not even that budget is shared: a dead
 * receiver's lane lags while the others stay current. The main group (`<groupId>`) then handles what
 * belongs to no receiver of the file: malformed records, unknown or disabled receivers, inline
 * webhook URLs. The cost is one consumer per receiver (on Kafka, one group member each).
 *
 * Redelivery (at least once): a batch the runtime hands over again — after a failed history write,
 * a crash, a rebalance — is delivered again, except (alert, receiver) pairs this process already
 * delivered successfully, remembered in an LRU; for those the original record is written again.
 * What remains: after a restart, or on another instance, a redelivered alert is sent again. PagerDuty
 * folds that into the same incident (dedup_key) and Shield can ignore it (stable action_id); a
 * webhook receiver sees the same alert_id twice and should deduplicate on it; Slack and the Incident
 * Manager show a duplicate.
 */
import pino from 'pino'
import type { Registry } from 'prom-client'
import type { IncomingRecord, StreamsRuntime, Consumption } from '../../../runtime/streams-runtime.js'
import type { AlertAction, AlertEvent } from '../../../schemas/alert/alert-event.js'
import { BoundedLabelValues } from '../bounded-label-values.js'
import { Serdes } from '../../../schemas/index.js'
import { SchemaNotReadyError } from '../../../schemas/registry/errors.js'
import type { Serde } from '../../../schemas/serde.js'
import { ActionRouter, type RoutedTarget } from './action-routing.js'
import { MalformedAlertError, parseAlertRecord } from './alert-record.js'
import type { CircuitState } from './circuit-breaker.js'
import { DeliveredCache } from './delivered-cache.js'
import { DeliveryMetrics } from './delivery-metrics.js'
import type { DeliveryRecord } from './delivery-record.js'
import { buildDeliveryRequest } from './delivery-request.js'
import type { ReceiverConfig, ReceiversConfig } from './receivers-config.js'
import { DeliveryAbortedError, ReceiverClient, type ReceiverClientOptions } from './receiver-client.js'
import { randomUUID } from 'node:crypto'
import { isNotification } from '../alerting/alert-notification.js'
import { type NotificationTemplate, applyTemplate } from '../alerting/notification-templates.js'
import { anomalyLink } from './alert-links.js'
import { type AlertLabeller, type SilenceBook, isSilence } from './silences.js'

export const DEFAULT_ALERTS_TOPIC = 'alerts'
export const DEFAULT_DELIVERIES_TOPIC = 'alert-deliveries'
export const DEFAULT_DISPATCHER_GROUP = 'sentinel-alert-dispatcher'

export interface AlertDispatcherOptions {
  readonly receivers: ReceiversConfig
  /** Only `consume` and `send` are used (a SentinelStreams or a StandaloneStreams). */
  readonly runtime: Pick<StreamsRuntime, 'consume' | 'send'>
  /** Default `alerts`. */
  readonly alertsTopic?: string
  /** Default `alert-deliveries`. */
  readonly deliveriesTopic?: string
  /**
   * Values of the alerts topic; default JSON (read by `parseAlertRecord`). Must be what the alert
   * manager writes: Sentinel passes the serde of its topic-serdes.ts.
   */
  readonly alertSerde?: Serde<AlertEvent>
  /** Values written to the deliveries topic; default JSON. Prepared (registry schema id) in `start()`. */
  readonly deliverySerde?: Serde<DeliveryRecord>
  /** Consumer group of the alerts topic; default `sentinel-alert-dispatcher`. */
  readonly groupId?: string
  /**
   * `shared` (default): one consumer group, a batch is committed when all its deliveries are done.
   * `per-receiver`: a consumer group per receiver, each committing on its own (see above).
   */
  readonly lanes?: 'shared' | 'per-receiver'
  /** Where a group without committed progress starts; default earliest (no alert is missed). */
  readonly from?: 'earliest' | 'latest'
  readonly logger?: pino.Logger
  /** Where the metrics are registered (the app's /metrics registry); default a private one. */
  readonly metrics?: Registry
  /** Successful (alert, receiver) deliveries remembered against resends; default 10 000. */
  readonly deliveredCacheSize?: number
  /** Clock, randomness and sleep for the retry machinery (tests). */
  readonly clientOptions?: Pick<ReceiverClientOptions, 'now' | 'random' | 'sleep'>
  /**
   * Named message templates (the rules file's `templates`); an action's `config.template` picks one.
   * A function is asked per delivery: the templates of the rules version in force (rules-in-force.ts).
   */
  readonly templates?: ReadonlyMap<string, NotificationTemplate> | (() => ReadonlyMap<string, NotificationTemplate>)
  /**
   * Silences (silences.ts): the topic every dispatcher reads whole at each start, the book it fills,
   * how an alert's labels are made (its rule's labels are the rules file's), and how long the start
   * waits for the first silences before delivering (default 5 s).
   */
  readonly silences?: { readonly topic: string; readonly book: SilenceBook; readonly labels: AlertLabeller; readonly loadWaitMs?: number } | null
}

/** Thrown by the batch handler when the dispatcher stops mid-batch: the batch must not be committed. */
export class DispatcherStoppedError extends Error {
  constructor() {
    super('the alert dispatcher stopped before the batch was delivered; it is redelivered on the next start')
    this.name = 'DispatcherStoppedError'
  }
}

export class AlertDispatcher {
  readonly alertsTopic: string
  readonly deliveriesTopic: string
  readonly groupId: string
  readonly metrics: DeliveryMetrics
  private readonly runtime: Pick<StreamsRuntime, 'consume' | 'send'>
  private readonly deliverySerde: Serde<DeliveryRecord>
  private readonly router: ActionRouter
  private readonly clients = new Map<string, ReceiverClient>()
  private readonly delivered: DeliveredCache<DeliveryRecord>
  private readonly inFlight = new Map<string, Promise<DeliveryRecord>>()
  private readonly log: pino.Logger
  private readonly now: () => number
  /** An unresolved receiver's name comes from the alert record, not from the receivers file: cap it. */
  private readonly unresolvedLabels: BoundedLabelValues
  private abort = new AbortController()
  private consumptions: Consumption[] = []
  private running = false

  constructor(private readonly options: AlertDispatcherOptions) {
    this.runtime = options.runtime
    this.alertsTopic = options.alertsTopic ?? DEFAULT_ALERTS_TOPIC
    this.deliveriesTopic = options.deliveriesTopic ?? DEFAULT_DELIVERIES_TOPIC
    this.deliverySerde = options.deliverySerde ?? Serdes.json<DeliveryRecord>({ name: 'json(DeliveryRecord)' })
    this.groupId = options.groupId ?? DEFAULT_DISPATCHER_GROUP
    this.router = new ActionRouter(options.receivers)
    this.delivered = new DeliveredCache(options.deliveredCacheSize ?? 10_000)
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'alert-dispatcher' })
    this.now = options.clientOptions?.now ?? Date.now
    this.metrics = new DeliveryMetrics(options.metrics, () => this.circuitEntries())
    this.unresolvedLabels = new BoundedLabelValues('sentinel_alerts_sent_total{receiver} (unresolved receivers)', 20, this.log)
    for (const receiver of options.receivers.receivers) this.clientFor(receiver)
  }

  /** Starts consuming the alerts topic. */
  async start(): Promise<void> {
    if (this.running) throw new Error('the alert dispatcher is already started')
    this.running = true
    this.abort = new AbortController()
    const from = this.options.from ?? 'earliest'
    try {
      // A registry serde resolves its schema id now, so an incompatible schema fails the start, not a batch.
      await this.deliverySerde.prepare?.(this.deliveriesTopic)
      await this.startSilences()
      this.consumptions.push(await this.runtime.consume(this.alertsTopic, { groupId: this.groupId, from }, (records) => this.handleLane(records, null)))
      if (this.options.lanes === 'per-receiver')
        for (const receiver of this.options.receivers.receivers)
          this.consumptions.push(await this.runtime.consume(this.alertsTopic, { groupId: `${this.groupId}.${receiver.name}`, from }, (records) => this.handleLane(records, receiver.name)))
    } catch (err) {
      await this.stop()
      throw err
    }
    this.log.info({ topic: this.alertsTopic, groupId: this.groupId, lanes: this.options.lanes ?? 'shared', receivers: [...this.clients.keys()] }, 'alert dispatcher started')
  }

  /**
   * Stops consuming. Deliveries in flight (and their backoff waits) are aborted and their batch is not
   * committed, so it is delivered again on the next start: stopping never waits out a retry budget.
   */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    const consumptions = this.consumptions
    this.consumptions = []
    // Stop first (no new batch is taken), then abort the batch in flight so stop need not wait it out.
    const stopped = Promise.all(consumptions.map((c) => c.stop()))
    this.abort.abort()
    await stopped
    this.log.info('alert dispatcher stopped')
  }

  /**
   * Reads the silences topic whole (a group of its own, no commits: every start reads it again) and
   * waits for its first batch, or `loadWaitMs`, before alerts are delivered.
   */
  private async startSilences(): Promise<void> {
    const silences = this.options.silences
    if (!silences) return
    const { book } = silences
    const reading = await this.runtime.consume(silences.topic, { groupId: `${this.groupId}.silences.${randomUUID()}`, from: 'earliest', commit: false }, async (records) => {
      for (const record of records) {
        let value: unknown = null
        try {
          value = record.value === null ? null : JSON.parse(record.value.toString('utf8'))
        } catch {
          // reported below
        }
        if (isSilence(value)) book.apply(value)
        else this.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset }, 'record of the silences topic is not a silence; ignored')
      }
      book.markLoaded()
    })
    this.consumptions.push(reading)
    const waitMs = silences.loadWaitMs ?? 5_000
    let timer: NodeJS.Timeout | undefined
    await Promise.race([book.loaded, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))])
    clearTimeout(timer)
  }

  /** Each receiver's circuit state now. */
  circuitStates(): Record<string, CircuitState> {
    return Object.fromEntries(this.circuitEntries())
  }

  /** The batch handler of the shared lane (public for callers that feed alerts themselves). */
  handleBatch(records: readonly IncomingRecord[]): Promise<void> {
    return this.handleLane(records, null)
  }

  /** Whether a target belongs to a lane: `null` is the main lane (every target in shared mode). */
  private inLane(target: RoutedTarget, lane: string | null): boolean {
    if (this.options.lanes !== 'per-receiver') return true
    const own = target.kind === 'deliver' && this.options.receivers.receivers.includes(target.receiver) ? target.receiver.name : null
    return own === lane
  }

  private async handleLane(records: readonly IncomingRecord[], lane: string | null): Promise<void> {
    const signal = this.abort.signal
    if (signal.aborted) throw new DispatcherStoppedError()
    const pending: Promise<DeliveryRecord | DeliveryRecord[]>[] = []
    for (const record of records) {
      let alert: AlertEvent
      try {
        let read = this.readAlert(record, false)
        // A writer schema id not seen before (registry serdes): one await per new id, not per record.
        if (read instanceof SchemaNotReadyError) {
          await read.ready()
          read = this.readAlert(record, true)
        }
        alert = read as AlertEvent
      } catch (err) {
        if (!(err instanceof MalformedAlertError)) throw err
        if (lane !== null) continue
        const reason = `malformed alert at ${record.topic}[${record.partition}]@${record.offset}: ${(err as Error).message}`
        this.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset }, reason)
        this.metrics.sent.inc({ receiver: '', status: 'failed' })
        pending.push(Promise.resolve(this.record(record.key?.toString('utf8') ?? null, null, { name: null, type: null, action: null }, 'failed', 0, reason, null, 0)))
        continue
      }
      const silenced = this.silencedAlerts(alert)
      for (const target of this.router.route(alert.actions)) if (this.inLane(target, lane)) pending.push(this.deliverBatch(alert, target, silenced, signal))
    }
    const settled = await Promise.allSettled(pending)
    const out: DeliveryRecord[] = []
    for (const result of settled) {
      if (result.status === 'fulfilled') out.push(...[result.value].flat())
      else if (result.reason instanceof DeliveryAbortedError) throw new DispatcherStoppedError()
      else throw result.reason
    }
    if (out.length > 0) await this.runtime.send(this.deliveriesTopic, out.map((r) => ({ key: r.alert_id, value: this.deliverySerde.serialize(r, this.deliveriesTopic) })))
  }

  /**
   * The alert in a record; throws a MalformedAlertError saying why there is none. Returns (not
   * throws) a SchemaNotReadyError on the first try of an uncached registry schema id, for the caller
   * to await; a registry outage then rejects with its own error, so the batch is retried rather than
   * its alerts recorded as malformed.
   */
  private readAlert(record: IncomingRecord, retried: boolean): AlertEvent | SchemaNotReadyError {
    const serde = this.options.alertSerde
    if (serde === undefined) return parseAlertRecord(record.value)
    if (record.value === null || record.value.length === 0) throw new MalformedAlertError(`empty record value (tombstone?); expected an AlertEvent (${serde.name})`)
    let alert: AlertEvent
    try {
      alert = serde.deserialize(record.value, record.topic)
    } catch (err) {
      if (err instanceof SchemaNotReadyError && !retried) return err
      throw new MalformedAlertError(`not an AlertEvent: ${(err as Error).message}`)
    }
    // Actions written without a config get an empty one, as parseAlertRecord does for JSON.
    return { ...alert, actions: alert.actions.map((a) => ({ type: a.type, config: a.config ?? {} })) }
  }

  /**
   * Which alerts of a record (a notification's batch, or the alert itself) an active silence
   * matches: alert id → the silences' ids.
   */
  private silencedAlerts(alert: AlertEvent): Map<string, string[]> {
    const silenced = new Map<string, string[]>()
    const silences = this.options.silences
    if (!silences) return silenced
    const now = this.now()
    const base = silences.labels(alert)
    const batch = isNotification(alert) ? alert.notification.alerts : [{ alert_id: alert.alert_id, rule_id: alert.rule_id, severity: alert.severity, detector_id: alert.anomaly.detector_id, application_id: alert.application_id }]
    for (const item of batch) {
      const labels: Record<string, string> = { ...base, rule: item.rule_id, severity: item.severity, alert_id: item.alert_id, detector_id: item.detector_id }
      if (item.application_id !== null) labels.application_id = labels.application = item.application_id
      const ids = silences.book.silencing(labels, now)
      if (ids.length > 0) silenced.set(item.alert_id, ids)
    }
    return silenced
  }

  /**
   * Delivers one record to one target and records the outcome for every alert it covers (a
   * notification's batch: one delivery, one record per alert). Silenced alerts are left out of the
   * message and recorded `silenced`; when every alert is silenced nothing is sent.
   */
  private async deliverBatch(alert: AlertEvent, target: RoutedTarget, silenced: ReadonlyMap<string, string[]>, signal: AbortSignal): Promise<DeliveryRecord[]> {
    const batch = isNotification(alert) ? alert.notification.alerts.map((a) => ({ alert_id: a.alert_id, rule_id: a.rule_id })) : [{ alert_id: alert.alert_id, rule_id: alert.rule_id }]
    const who = target.kind === 'deliver' ? { name: target.receiver.name, type: target.receiver.type, action: target.action.type } : null
    const quiet = who === null ? [] : batch.filter((a) => silenced.has(a.alert_id))
    const records = quiet.map((a) => {
      const reason = `silenced by ${silenced.get(a.alert_id)!.join(', ')}`
      this.metrics.sent.inc({ receiver: who!.name, status: 'silenced' })
      return this.record(a.alert_id, a.rule_id, who!, 'silenced', 0, reason, null, 0)
    })
    const loud = batch.filter((a) => !quiet.includes(a))
    if (loud.length === 0) return records
    const sent = isNotification(alert) && quiet.length > 0 ? { ...alert, notification: { ...alert.notification, alerts: alert.notification.alerts.filter((a) => !silenced.has(a.alert_id)) } } : alert
    const outcome = await this.deliverTo(sent, target, signal)
    return [...records, ...loud.map((a) => (a.alert_id === outcome.alert_id ? outcome : { ...outcome, alert_id: a.alert_id, rule_id: a.rule_id }))]
  }

  private async deliverTo(alert: AlertEvent, target: RoutedTarget, signal: AbortSignal): Promise<DeliveryRecord> {
    const action = target.action.type
    if (target.kind === 'skip') {
      this.metrics.sent.inc({ receiver: target.name, status: 'skipped' })
      return this.record(alert.alert_id, alert.rule_id, { name: target.name, type: target.type, action }, 'skipped', 0, target.reason, null, 0)
    }
    if (target.kind === 'unresolved') {
      this.log.warn({ alert_id: alert.alert_id, rule_id: alert.rule_id }, target.reason)
      this.metrics.sent.inc({ receiver: this.unresolvedLabels.value(target.name ?? ''), status: 'failed' })
      return this.record(alert.alert_id, alert.rule_id, { name: target.name, type: null, action }, 'failed', 0, target.reason, null, 0)
    }
    const receiver = target.receiver
    // A notification is one delivery of its own (a resolve is not the firing one resent).
    const key = DeliveredCache.key(isNotification(alert) ? alert.notification.notification_id : alert.alert_id, receiver.name)
    const earlier = this.delivered.get(key)
    if (earlier !== undefined) {
      this.log.debug({ alert_id: alert.alert_id, receiver: receiver.name }, 'already delivered by this process; not resent')
      return earlier
    }
    // The same alert twice in flight (a duplicate record in one batch): one delivery, shared.
    const running = this.inFlight.get(key)
    if (running !== undefined) return running
    const delivery = this.deliverNow(alert, receiver, target.action, key, signal)
    this.inFlight.set(key, delivery)
    try {
      return await delivery
    } finally {
      this.inFlight.delete(key)
    }
  }

  private async deliverNow(alert: AlertEvent, receiver: ReceiverConfig, alertAction: AlertAction, key: string, signal: AbortSignal): Promise<DeliveryRecord> {
    const action = alertAction.type
    const who = { name: receiver.name, type: receiver.type, action }
    let request
    try {
      const templates = typeof this.options.templates === 'function' ? this.options.templates() : this.options.templates
      const template = typeof alertAction.config.template === 'string' ? templates?.get(alertAction.config.template) : undefined
      const shown = template === undefined ? alert : applyTemplate(alert, template, anomalyLink(alert, this.options.receivers.publicUrl))
      request = buildDeliveryRequest(receiver, shown, alertAction, this.options.receivers.publicUrl)
    } catch (err) {
      this.metrics.sent.inc({ receiver: receiver.name, status: 'failed' })
      return this.record(alert.alert_id, alert.rule_id, who, 'failed', 0, `cannot build the ${receiver.type} payload: ${(err as Error).message}`, null, 0)
    }
    const result = await this.clientFor(receiver).deliver(request, signal)
    this.metrics.sent.inc({ receiver: receiver.name, status: result.status })
    this.metrics.seconds.observe({ receiver: receiver.name }, result.durationMs / 1000)
    const record = this.record(alert.alert_id, alert.rule_id, who, result.status, result.attempts, result.lastError, result.httpStatus, result.durationMs)
    if (result.status === 'success') this.delivered.set(key, record)
    else {
      // While a circuit is open every alert to it ends so; its opening was logged once, at warn.
      const level = result.status === 'circuit_open' && result.attempts === 0 ? 'debug' : 'warn'
      this.log[level]({ alert_id: alert.alert_id, receiver: receiver.name, status: result.status, attempts: result.attempts, http_status: result.httpStatus }, `alert delivery ${result.status}: ${result.lastError ?? ''}`)
    }
    return record
  }

  private record(
    alertId: string | null,
    ruleId: string | null,
    who: { name: string | null; type: DeliveryRecord['type']; action: DeliveryRecord['action'] },
    status: DeliveryRecord['status'],
    attempts: number,
    lastError: string | null,
    httpStatus: number | null,
    durationMs: number,
  ): DeliveryRecord {
    return {
      alert_id: alertId,
      rule_id: ruleId,
      receiver: who.name,
      type: who.type,
      action: who.action,
      status,
      attempts,
      last_error: lastError,
      http_status: httpStatus,
      duration_ms: durationMs,
      at: new Date(this.now()).toISOString(),
    }
  }

  private clientFor(receiver: ReceiverConfig): ReceiverClient {
    let client = this.clients.get(receiver.name)
    if (client === undefined) {
      client = new ReceiverClient(receiver.name, receiver.type, receiver.delivery, {
        ...this.options.clientOptions,
        onCircuitChange: (name, state) => this.log[state === 'open' ? 'warn' : 'info']({ receiver: name, state }, `receiver circuit ${state}`),
        onRetry: (name) => this.metrics.retries.inc({ receiver: name }),
      })
      this.clients.set(receiver.name, client)
    }
    return client
  }

  private *circuitEntries(): Iterable<readonly [string, CircuitState]> {
    for (const [name, client] of this.clients) yield [name, client.breaker.state] as const
  }
}
