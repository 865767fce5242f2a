/**
 * The alert manager (seed 001, stage 3) as a topology over the anomalies stream:
 *
 *   anomalies ─ selectKey(anomaly_id) ─ repartition <app>-<name>-by-anomaly-id-repartition
 *     ─ <name>-dedup (window store <name>-dedup-store): an anomaly_id seen before is dropped
 *     ─ with `correlation`: <name>-correlation-application, -model (anomaly-correlation.ts) fill
 *       related_anomalies
 *     ─ <name>-match-rules (flatMap): one record per rule whose filters pass, keyed by group key (none
 *       passing: the detector's own `detector:<id>` when it asked for actions, detector-action-alerts.ts)
 *     ─ repartition <app>-<name>-by-group-repartition
 *     ─ <name>-rules (stores <name>-windows-store, <name>-throttle-store, <name>-route-repeats-store,
 *       always built so a live version can start using them): aggregation window, schedule,
 *       maintenance windows, throttling, routing tree with repeat_interval → AlertEvent keyed by alert_id
 *     ─ <name>-sink → the alerts topic (JSON, or `alertSerde`), the alert history the dispatcher reads.
 *
 * One repartition by group key serves every rule (the rule id is part of the key), so adding a rule
 * adds no topic. Names derive from `name` (default `alerts`): keep it stable to keep state.
 */
import pino, { type Logger } from 'pino'
import type { Registry } from 'prom-client'
import { alertEventSerde } from '../../../schemas/alert/alert-event-serde.js'
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../schemas/index.js'
import type { Serde } from '../../../schemas/serde.js'
import {
  type GlobalKTable,
  type KStream,
  type KeyValueStoreDefinition,
  Stores,
  StreamsBuilder,
  type Topology,
  type WindowStoreDefinition,
} from '../../../topology/index.js'
import { AlertRulesProcessor, type RouteRepeatState, type ThrottleState } from './alert-rules-processor.js'
import type { AlertRoute, AlertRule, AlertRulesConfig, MaintenanceWindow } from './alert-rules-config.js'
import type { AlertWindowState } from './alert-window.js'
import { AlertingMetrics } from './alerting-metrics.js'
import { type AnomalyLink, type CorrelationSettings, addCorrelation } from './anomaly-correlation.js'
import { AnomalyDedupProcessor, dedupStore } from './anomaly-dedup.js'
import { ALERT_RULE_VERSION_KEYS, alertStateStores, rulesFileVersion } from './alert-rule-versions.js'
import { type ActiveRules, LiveAlertRules, type LiveRulesTable, activeRules } from './live-alert-rules.js'
import { type RuleMatch, ruleMatchSchema } from './rule-matcher.js'
import { CURRENT_KEY } from '../config-versions.js'
import { withDetectorMatch } from './detector-action-alerts.js'
import { addLifecycle } from './lifecycle-topology.js'

export const DEFAULT_ALERTING_GRACE_MS = 3_600_000
export const DEFAULT_DEDUP_RETENTION_MS = 86_400_000
export const DEFAULT_MAX_ANOMALY_IDS = 200

export interface AlertingOptions {
  /** A loaded rules file (its maintenance windows apply), or rules alone. */
  readonly rules: AlertRulesConfig | readonly AlertRule[]
  /** With a plain rule list: the maintenance windows (default none). Ignored for a rules file. */
  readonly maintenanceWindows?: readonly MaintenanceWindow[]
  /** With a plain rule list: the routing tree (default none). Ignored for a rules file. */
  readonly routing?: readonly AlertRoute[]
  /**
   * Live rules (live-alert-rules.ts): the config topic's global table, whose `alert-rules/current`
   * the matcher and the rules processor apply from their next record, and the version gauge.
   * Absent: the rules are the start-up ones until a restart.
   */
  readonly live?: { readonly table: GlobalKTable<string, unknown>; readonly onApplied?: (version: number) => void } | null
  /** Where alerts are written (keyed by alert_id); default `alerts`; null: not written, only returned. */
  readonly alertsTopic?: string | null
  /** Values of the alerts topic: JSON by default; `alertEventRegistrySerde` for the registry wire format. */
  readonly alertSerde?: Serde<AlertEvent>
  /** Prefix of processor, store and repartition topic names (default `alerts`). */
  readonly name?: string
  /** Serde of anomalies in the dedup repartition topic (default: Avro of AnomalyEvent.avsc). */
  readonly anomalySerde?: Serde<AnomalyEvent>
  /**
   * How far behind the alerting task's stream time an anomaly may be and still count in its window
   * (anomalies from different detectors arrive out of order: window and session detectors emit when
   * their windows close). Later ones are dropped, counted and logged. Default 1 h.
   */
  readonly graceMs?: number
  /** How long (stream time) an anomaly_id is remembered for deduplication; at least graceMs. Default 24 h. */
  readonly dedupRetentionMs?: number
  /** Anomaly ids kept per aggregation window (and listed in its alert). Default 200. */
  readonly maxAnomalyIds?: number
  /**
   * Relate anomalies of one application or model close in time (anomaly-correlation.ts) before the
   * rules see them; default off (Sentinel turns it on from `sentinel.correlation`).
   */
  readonly correlation?: CorrelationSettings | null
  /**
   * The alert lifecycle (lifecycle-processor.ts: grouping, acknowledge/resolve, auto-resolve,
   * escalation) writing notifications to `notificationsTopic`, reading the API's commands from
   * `commandsTopic`. Its settings are the rules file's `grouping`, `resolve`, `escalation_policies`
   * (with `live`: the version in force, read per record and per tick).
   * Absent: no lifecycle (the alerts topic is all there is).
   */
  readonly lifecycle?: { readonly notificationsTopic: string; readonly commandsTopic: string; readonly tickMs?: number } | null
  /** Prometheus registry or metrics instance (default: a private registry). */
  readonly metrics?: AlertingMetrics | Registry
  readonly logger?: Logger
}

function positive(value: number | undefined, fallback: number, field: string): number {
  const v = value ?? fallback
  if (!(Number.isSafeInteger(v) && v > 0)) throw new Error(`addAlerting: ${field} must be a positive integer, got ${String(value)}`)
  return v
}

/**
 * Adds the alert manager to `builder` over `anomalies` (any key); returns the alerts stream, keyed
 * by alert_id. The returned stream carries no serdes: pass `alertEventSerde()` to write it elsewhere.
 */
export function addAlerting(builder: StreamsBuilder, anomalies: KStream<string, AnomalyEvent>, options: AlertingOptions): KStream<string, AlertEvent> {
  return addAlertManager(builder, anomalies, options).alerts
}

/**
 * `addAlerting`, also returning the correlation's link streams (empty without correlation), keyed
 * by the anomaly id each link is for: the anomaly view applies them (`links` of addAnomalyView).
 */
export function addAlertManager(
  builder: StreamsBuilder,
  anomalies: KStream<string, AnomalyEvent>,
  options: AlertingOptions,
): { alerts: KStream<string, AlertEvent>; links: KStream<string, AnomalyLink>[] } {
  void builder // the stream already belongs to it; taken for symmetry with addSentinelDetection
  const name = options.name ?? 'alerts'
  const isConfig = 'rules' in options.rules && !Array.isArray(options.rules)
  const rules = (isConfig ? (options.rules as AlertRulesConfig).rules : (options.rules as readonly AlertRule[])).filter((r) => r.enabled)
  const windows = isConfig ? (options.rules as AlertRulesConfig).maintenanceWindows : (options.maintenanceWindows ?? [])
  const routing = isConfig ? (options.rules as AlertRulesConfig).routing : (options.routing ?? [])
  const graceMs = positive(options.graceMs, DEFAULT_ALERTING_GRACE_MS, 'graceMs')
  const dedupRetentionMs = positive(options.dedupRetentionMs, DEFAULT_DEDUP_RETENTION_MS, 'dedupRetentionMs')
  if (dedupRetentionMs < graceMs)
    throw new Error(`addAlerting: dedupRetentionMs (${dedupRetentionMs}) must be >= graceMs (${graceMs}), or a replay inside the grace could alert twice`)
  const maxAnomalyIds = positive(options.maxAnomalyIds, DEFAULT_MAX_ANOMALY_IDS, 'maxAnomalyIds')
  const metrics = options.metrics instanceof AlertingMetrics ? options.metrics : new AlertingMetrics(options.metrics)
  const log = options.logger ?? pino({ name: 'sentinel:alerting', level: process.env.SENTINEL_LOG_LEVEL ?? 'info' })
  const stores = alertStateStores(rules)
  const live =
    options.live && isConfig
      ? new LiveAlertRules(
          { config: options.rules as AlertRulesConfig, sections: rulesFileVersion((options.rules as AlertRulesConfig).document ?? {}).sections ?? {}, stores },
          options.live.onApplied,
        )
      : null
  const fixed = activeRules({ rules, routing, maintenanceWindows: windows, lifecycle: isConfig ? (options.rules as AlertRulesConfig).lifecycle : undefined })
  const active = (): ActiveRules => live?.active ?? fixed
  const liveTable: LiveRulesTable | undefined =
    live === null || !options.live ? undefined : { store: options.live.table.storeName, key: ALERT_RULE_VERSION_KEYS.prefix + CURRENT_KEY, rules: live }
  /** Each record first takes the version in force, so the rules are current for it. */
  const withLiveRules = <V>(stream: KStream<string, V>, stage: string): KStream<string, V> =>
    live === null || !options.live
      ? stream
      : stream.leftJoin(
          options.live.table,
          () => ALERT_RULE_VERSION_KEYS.prefix + CURRENT_KEY,
          (value, current) => {
            live.observe(current)
            return value
          },
          { name: `${name}-live-rules-${stage}` },
        )

  const seen = dedupStore(`${name}-dedup-store`, dedupRetentionMs)
  const unique = anomalies
    .selectKey((_key, anomaly) => anomaly.anomaly_id, { name: `${name}-anomaly-id` })
    .repartition({ name: `${name}-by-anomaly-id`, key: Serdes.string(), value: options.anomalySerde ?? Serdes.avro<AnomalyEvent>(anomalyEventSchema) })
    .process(() => new AnomalyDedupProcessor(seen, metrics, log), { name: `${name}-dedup`, stores: [seen] })

  // Windows up to the store's capacity, of the sizes in force at each batch's prefetch (a version
  // may bring new sizes); the processor ignores a stored window of another size than its rule's.
  const windowStore: WindowStoreDefinition<string, AlertWindowState> = Stores.window(
    `${name}-windows-store`,
    Serdes.string(),
    Serdes.json<AlertWindowState>(),
    {
      windowSizeMs: stores.windowCapacityMs,
      retentionMs: stores.windowCapacityMs + graceMs,
      windowsFor: (t) =>
        (live?.refresh() ?? fixed).windowSizes.map((size) => ({ start: Math.floor(t / size) * size, end: Math.floor(t / size) * size + size })),
    },
  )
  const throttleStore: KeyValueStoreDefinition<string, ThrottleState> = Stores.keyValue(`${name}-throttle-store`, Serdes.string(), Serdes.json<ThrottleState>())
  const repeatStore: KeyValueStoreDefinition<string, RouteRepeatState> = Stores.keyValue(
    `${name}-route-repeats-store`,
    Serdes.string(),
    Serdes.json<RouteRepeatState>(),
  )

  const correlated = options.correlation
    ? addCorrelation(unique, { ...options.correlation, name: `${name}-correlation`, graceMs, log })
    : { anomalies: unique, links: [] }

  // Repartitioned matches feed the rules and (auto-resolve) the lifecycle: one sub-topology, no cycle.
  const matches = withLiveRules(correlated.anomalies, 'match')
    .flatMap((_id, anomaly) => withDetectorMatch(active().matcher.match(anomaly), anomaly), { name: `${name}-match-rules` })
    .repartition({ name: `${name}-by-group`, key: Serdes.string(), value: Serdes.avro<RuleMatch>(ruleMatchSchema) })
  const alerts = withLiveRules(matches, 'rules').process(
    () =>
      new AlertRulesProcessor({
        active,
        windows: windowStore,
        throttles: throttleStore,
        repeats: repeatStore,
        graceMs,
        maxAnomalyIds,
        metrics,
        log,
        ...(liveTable === undefined ? {} : { liveTable }),
      }),
    { name: `${name}-rules`, stores: [windowStore, throttleStore, repeatStore] },
  )
  const topic = options.alertsTopic === undefined ? 'alerts' : options.alertsTopic
  if (topic !== null) alerts.to(topic, { name: `${name}-sink`, key: Serdes.string(), value: options.alertSerde ?? alertEventSerde() })
  if (options.lifecycle) {
    // The lifecycle runs in its own sub-topology, past any join: it reads the version in force itself.
    const current = live === null ? () => fixed : () => live.refresh()
    addLifecycle(builder, { name, active: current, alerts, matches, log, ...options.lifecycle, ...(liveTable === undefined ? {} : { liveTable }) })
  }
  return { alerts, links: correlated.links }
}

export interface AlertTopologyOptions extends AlertingOptions {
  /** Default `anomalies`. */
  readonly anomaliesTopic?: string
  /** Anomaly values on it: raw Avro of AnomalyEvent.avsc (default, as the detection topology writes) or JSON. */
  readonly anomalyFormat?: 'avro' | 'json' | Serde<AnomalyEvent>
}

/** The alert manager as its own application: the anomalies topic in, the alerts topic out. */
export function buildAlertTopology(options: AlertTopologyOptions): Topology {
  const builder = new StreamsBuilder()
  const format = options.anomalyFormat
  const serde =
    format === undefined || format === 'avro' ? Serdes.avro<AnomalyEvent>(anomalyEventSchema) : format === 'json' ? Serdes.json<AnomalyEvent>() : format
  const anomalies = builder.stream(options.anomaliesTopic ?? 'anomalies', {
    key: Serdes.string(),
    value: serde,
    name: `${options.name ?? 'alerts'}-anomalies-source`,
  })
  addAlerting(builder, anomalies, options)
  return builder.build()
}
