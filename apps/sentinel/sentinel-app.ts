/**
 * LLM-Sentinel assembled: its configuration files loaded and cross-checked at start, its topology
 * (detection → anomalies topic → anomaly view + alert manager (correlation, rules) → alerts topic →
 * alert history view, with the dispatcher's delivery records; the correlation's links and the
 * deliveries' outcomes flow back into the anomaly view), and the services beside it (the
 * REST API, the alert dispatcher). `apps/sentinel/topology.ts` is the file users run.
 *
 * The view and the alert manager read the anomalies back from the anomalies topic rather than from
 * the detector streams: the topic is the contract (anomalies from other producers are alerted on
 * too), and it keeps the detectors' sub-topologies apart from the alerting ones, so each scales on
 * its own partitions.
 */
import pino from 'pino'
import { Counter, type Registry } from 'prom-client'
import { Serdes } from '../../schemas/index.js'
import type { Serde } from '../../schemas/serde.js'
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import { StreamsBuilder, type Topology } from '../../topology/index.js'
import type { StreamsRuntime } from '../../runtime/streams-runtime.js'
import { type AlertRulesConfig, addAlertManager, loadAlertRulesConfig, DEFAULT_ALERT_RULES_PATH } from './alerting/index.js'
import { addAlertViewWithActions } from './alert-view.js'
import { routeAction } from './alerting/alert-routing.js'
import { alertLabels } from './alerting/alert-notification.js'
import { escalationReceivers } from './alerting/lifecycle-config.js'
import { SilenceBook } from './delivery/silences.js'
import { addAnomalyView } from './anomaly-view.js'
import { buildSentinelApi, type IngestThread, ingestThreadTarget, otlpGrpcAddress, startIngestThread } from './api/index.js'
import { BoundedLabelValues } from './bounded-label-values.js'
import { AlertDispatcher, type ReceiversConfig, checkReferences, loadReceiversConfig, DEFAULT_RECEIVERS_PATH } from './delivery/index.js'
import { addSentinelDetection, repartitionTelemetrySerde } from './detection.js'
import { ApiMetrics } from './api/api-metrics.js'
import { countKafkaIngest } from './kafka-ingest-count.js'
import { DetectionLatency } from './detection-latency.js'
import { type CallsAccumulator, addMetricsAggregation } from './metrics-aggregation.js'
import { ModelPerformanceScore } from './model-performance-score.js'
import { DEFAULT_DETECTORS_PATH, type DetectorConfig, type DetectorsConfig, DetectorsConfigError, loadDetectorsConfig } from './detectors-config.js'
import { detectorActionIssues } from './detector-actions.js'
import { effectiveConfig } from './effective-config.js'
import { NO_GRACE_WARNING, detectorsWithoutGrace } from './grace-check.js'
import { DetectorVersionWriter } from './api/detector-version-writer.js'
import { watchAlertRulesFile, watchDetectorsFile } from './detectors-file-watch.js'
import { AlertRuleVersionWriter, type AlertRulesVersioning } from './api/alert-rule-version-writer.js'
import { RunningRules } from './alerting/running-rules.js'
import { liveNotificationGroupKeys } from './api/notification-group-keys.js'
import { configTable } from './live-detector-settings.js'
import { alertRulesConfigVersionGauge } from './detector-config-gauge.js'
import { type SentinelSettings, resolveSentinelSettings } from './sentinel-config.js'
import { RunningDetectors } from './running-detectors.js'
import { TopologyRebuild } from './topology-rebuild.js'
import { RulesInForce } from './delivery/rules-in-force.js'
import { sentinelTopicSerdes } from './topic-serdes.js'

/** Everything Sentinel reads at start, checked together. */
export interface SentinelApp {
  readonly applicationId: string
  readonly settings: SentinelSettings
  readonly detectors: DetectorsConfig
  readonly rules: AlertRulesConfig
  readonly receivers: ReceiversConfig
}

export interface SentinelRunConfig {
  readonly applicationId?: string
  readonly sentinel?: unknown
  readonly schemaRegistryUrl?: string
  readonly applicationServer?: string
}

/**
 * Loads the settings and the three files; throws at the first file with problems, listing each
 * (detector / rule / receiver, field, fix). Rules naming unknown detectors or receivers fail here too.
 */
export function loadSentinelApp(config: SentinelRunConfig, env: NodeJS.ProcessEnv = process.env): SentinelApp {
  const settings = resolveSentinelSettings(config, env)
  const detectors = loadDetectorsConfig(settings.detectorsFile ?? DEFAULT_DETECTORS_PATH)
  const rules = loadAlertRulesConfig(settings.alertRulesFile ?? DEFAULT_ALERT_RULES_PATH, {
    knownDetectorIds: detectors.detectors.map((d) => d.id),
    // Anomalies carry their detector's groupBy as a dimension: alert grouping may name it.
    knownDimensions: detectors.detectors.map((d) => d.groupBy),
  })
  const receivers = loadReceiversConfig(settings.receiversFile ?? DEFAULT_RECEIVERS_PATH, env)
  const actionIssues = detectorActionIssues(detectors.detectors, receivers)
  if (actionIssues.length > 0) throw new DetectorsConfigError(detectors.source, actionIssues)
  checkRuleReferences(receivers, rules)
  return { applicationId: config.applicationId ?? 'llm-sentinel', settings, detectors, rules, receivers }
}

/** Every receiver the rules, routes and escalation policies name is in the receivers file; throws ReceiversConfigError listing the others. */
export function checkRuleReferences(receivers: ReceiversConfig, rules: AlertRulesConfig): void {
  // A route's receivers are checked as a rule's notification action would be.
  checkReferences(receivers, [
    ...rules.rules,
    ...rules.routing.map((route, i) => ({ id: `routing[${i}]`, actions: [routeAction(route, i)] })),
    ...(rules.lifecycle ? escalationReceivers(rules.lifecycle) : []).map(({ id, receivers: names }) => ({
      id,
      actions: [{ type: 'notification' as const, config: { receivers: names } }],
    })),
  ])
}

/** The telemetry serde of the configured input format (the API writes what the topology reads). */
export function telemetrySerde(settings: SentinelSettings): Serde<TelemetryEvent> {
  return sentinelTopicSerdes(settings).telemetry
}

export interface SentinelTopologyContext {
  readonly metrics?: Registry
  readonly logger?: pino.Logger
}

/**
 * The whole Sentinel topology: detection, the anomaly view, the alert manager, the alert history
 * view; tagged with the configuration `version` it was built from (the detectors' version plus the
 * alert rules', 0: the files), so that instances rebuilding it on a new version never run two
 * topologies in one group (topology-rebuild.ts).
 */
export function buildSentinelAppTopology(app: SentinelApp, context: SentinelTopologyContext = {}, version = 0): Topology {
  const { settings } = app
  const { topics } = settings
  const builder = new StreamsBuilder()
  const serdes = sentinelTopicSerdes(settings)
  const performance = context.metrics ? new ModelPerformanceScore(context.metrics, context.logger) : undefined
  const graceless = detectorsWithoutGrace(app.detectors)
  if (graceless.length > 0) context.logger?.warn({ detectors: graceless }, NO_GRACE_WARNING)
  addSentinelDetection(builder, {
    detectors: app.detectors,
    inputTopic: topics.telemetry,
    anomaliesTopic: topics.anomalies,
    inputFormat: serdes.telemetry,
    anomalyFormat: serdes.anomalies,
    eventTime: settings.eventTime,
    detectorConfigTopic: topics.detectorConfig,
    ...(context.metrics ? { metrics: context.metrics } : {}),
    ...(settings.deduplicateHorizonMs === null ? {} : { deduplicateHorizonMs: settings.deduplicateHorizonMs }),
    onTelemetry: (telemetry) => {
      if (settings.aggregations !== null) {
        addMetricsAggregation(telemetry, {
          topic: topics.aggregations,
          serde: serdes.aggregations,
          ...settings.aggregations,
          telemetrySerde: repartitionTelemetrySerde(),
          ...(performance === undefined
            ? {}
            : {
                onWindowClosed: (_application: string, model: string | null, acc: CallsAccumulator) =>
                  performance.observe(model, {
                    calls: acc.calls,
                    errors: acc.errors,
                    meanLatencyMs: acc.latencyCount > 0 ? acc.latencySum / acc.latencyCount : null,
                  }),
              }),
        })
      }
      if (context.metrics) countKafkaIngest(telemetry, new ApiMetrics(context.metrics, context.logger))
    },
  })

  const detected = context.metrics ? anomaliesCounter(context.metrics) : undefined
  const latency = context.metrics ? new DetectionLatency(context.metrics) : undefined
  // Anyone who can write the anomalies topic chooses detector ids: cap the label like every id label.
  const detectorLabels = new BoundedLabelValues('sentinel_anomalies_detected_total{detector}', MAX_DETECTOR_LABELS, context.logger)
  const anomalies = builder.stream(topics.anomalies, { key: Serdes.string(), value: serdes.anomalies, name: 'anomalies-source' }).peek(
    (_key, anomaly) => {
      const detector = detectorLabels.value(anomaly.detector_id)
      detected?.inc({ detector, severity: anomaly.severity })
      latency?.observe(detector, anomaly.timestamp, Date.now())
    },
    { name: 'anomalies-count' },
  )
  const { links } = addAlertManager(builder, anomalies, {
    rules: app.rules,
    // The alert rules' versions share the detectors' config topic (config-versions.ts).
    live: { table: configTable(builder, topics.detectorConfig), ...(context.metrics ? { onApplied: alertRulesConfigVersionGauge(context.metrics) } : {}) },
    alertsTopic: topics.alerts,
    alertSerde: serdes.alerts,
    correlation: settings.correlation,
    lifecycle: { notificationsTopic: topics.notifications, commandsTopic: topics.commands },
    ...(context.metrics ? { metrics: context.metrics } : {}),
    ...(context.logger ? { logger: context.logger } : {}),
  })
  const { actionsTaken } = addAlertViewWithActions(builder, {
    alertsTopic: topics.alerts,
    deliveriesTopic: topics.deliveries,
    silencesTopic: topics.silences,
    notificationsTopic: topics.notifications,
    alertSerde: serdes.alerts,
    deliverySerde: serdes.deliveries,
    retentionMs: settings.retention.alertsMs,
  })
  // The dispatchers read the silence rules beside the topology; reading them here too declares the
  // topic (created with the others) and leaves an audit line per silence change.
  const audit = context.logger ?? pino({ name: 'sentinel', level: process.env.SENTINEL_LOG_LEVEL ?? 'info' })
  builder
    .stream(topics.silenceRules, { key: Serdes.nullable(Serdes.string()), value: Serdes.bytes(), name: 'silence-rules-source' })
    .foreach((key, value) => audit.info({ silence_id: key, silence: value === null ? null : value.toString('utf8').slice(0, 2000) }, 'silence written'), {
      name: 'silence-rules-audit',
    })
  addAnomalyView(builder, anomalies, {
    acksTopic: topics.acks,
    feedbackTopic: topics.feedback,
    retentionMs: settings.retention.anomaliesMs,
    links,
    actionsTaken,
    ...(settings.correlation ? { maxRelated: settings.correlation.maxRelated } : {}),
  })
  return builder.build().versioned(version)
}

/** Detector ids normally come from the detectors file: far fewer than this. */
const MAX_DETECTOR_LABELS = 100

/** `sentinel_anomalies_detected_total{detector,severity}` (seed 001's name), once per registry. */
function anomaliesCounter(registry: Registry): Counter<'detector' | 'severity'> {
  const name = 'sentinel_anomalies_detected_total'
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as Counter<'detector' | 'severity'>
  return new Counter({
    name,
    help: 'Anomalies read from the anomalies topic, by detector and severity',
    labelNames: ['detector', 'severity'],
    registers: [registry],
  })
}

export interface SentinelServicesContext {
  readonly runtime: StreamsRuntime
  readonly logger: pino.Logger
  readonly metrics: Registry
}

export interface SentinelServices {
  /** The API's address once listening (port 0 in the settings picks a free one). */
  readonly apiAddress: string | null
  /** The OTLP/gRPC receiver's host:port once listening; null when off (sentinel.otlp.grpcPort). */
  readonly otlpGrpcAddress: string | null
  close(): Promise<void>
}

/** Starts the REST API (unless disabled) and the alert dispatcher beside a started runtime. */
export async function startSentinelServices(app: SentinelApp, { runtime, logger, metrics }: SentinelServicesContext): Promise<SentinelServices> {
  const { settings } = app
  const { topics, api } = settings
  const serdes = sentinelTopicSerdes(settings)
  // The detectors and rules the topology runs: the files', until a version changes the topology (topology-rebuild.ts).
  const running = new RunningDetectors(app.detectors)
  const runningRules = new RunningRules(app.rules)
  // The dispatcher's labels and templates follow the rules version in force, as the rules stage does.
  const rulesInForce = new RulesInForce(runtime, () => runningRules.started, logger.child({ component: 'rules-in-force' }))
  await rulesInForce.start()
  const silences = new SilenceBook()
  const checkDetectorActions = (detectors: readonly DetectorConfig[]) => detectorActionIssues(detectors, app.receivers)
  const rebuild = new TopologyRebuild({
    runtime,
    running,
    rules: runningRules,
    build: (detectors, rules, version) => buildSentinelAppTopology({ ...app, detectors, rules }, { metrics, logger }, version),
    logger: logger.child({ component: 'topology-rebuild' }),
  })
  // Before the API answers: an instance started from an older file first catches up with the version in force.
  await rebuild.start()
  const dispatcher = new AlertDispatcher({
    receivers: app.receivers,
    runtime,
    // The lifecycle's notifications (JSON), not the alerts themselves: grouping, resolves and escalations are there.
    alertsTopic: topics.notifications,
    deliveriesTopic: topics.deliveries,
    deliverySerde: serdes.deliveries,
    templates: () => rulesInForce.templates(),
    silences: { topic: topics.silenceRules, book: silences, labels: (alert) => alertLabels(alert, rulesInForce.rule(alert.rule_id)?.labels) },
    groupId: `${app.applicationId}-alert-dispatcher`,
    // One consumer group per receiver: a failing receiver never holds back a healthy one.
    lanes: 'per-receiver',
    logger: logger.child({ component: 'alert-dispatcher' }),
    metrics,
  })
  await dispatcher.start()

  // The alert rules are versioned beside the detectors, checked as at start (their receivers and detectors too).
  const rulesVersioning: AlertRulesVersioning = {
    get config() {
      return runningRules.config
    },
    rebuilds: rebuild.supported,
    // The detectors the topology runs now: a rule may name one created since the start.
    get knownDetectorIds() {
      return running.detectors.map((d) => d.id)
    },
    checkReferences: (rules) => checkRuleReferences(app.receivers, rules),
  }
  const clock = { runtime, detectors: running, now: Date.now, startedAt: Date.now(), checkDetectorActions }
  // An edited detectors or rules file becomes a version on every instance (detectors-file-watch.ts); the shipped defaults are not watched.
  const fileWatches = [
    settings.detectorsFile === null
      ? null
      : watchDetectorsFile({
          path: settings.detectorsFile,
          writer: new DetectorVersionWriter(clock, topics.detectorConfig, logger.child({ component: 'detector-versions' })),
          log: logger.child({ component: 'detectors-file-watch' }),
        }),
    settings.alertRulesFile === null
      ? null
      : watchAlertRulesFile({
          path: settings.alertRulesFile,
          writer: new AlertRuleVersionWriter(rulesVersioning, clock, topics.detectorConfig, logger.child({ component: 'alert-rule-versions' })),
          log: logger.child({ component: 'alert-rules-file-watch' }),
        }),
  ].filter((w) => w !== null)
  const closeWatches = () => Promise.all(fileWatches.map((w) => w.close()))

  let apiAddress: string | null = null
  const server = api.enabled
    ? buildSentinelApi({
        runtime,
        detectors: running,
        telemetryTopic: topics.telemetry,
        detectorConfigTopic: topics.detectorConfig,
        checkDetectorActions,
        alertRules: rulesVersioning,
        acksTopic: topics.acks,
        feedbackTopic: topics.feedback,
        alerts: {
          silencesTopic: topics.silences,
          lifecycle: {
            commandsTopic: topics.commands,
            // Keyed by the rules version in force, as the lifecycle keys it (grouping.groupBy applies live).
            groupKeyOf: liveNotificationGroupKeys(runtime, () => runningRules.started),
            silenceRulesTopic: topics.silenceRules,
            silences,
          },
        },
        apiKeys: api.apiKeys,
        bodyLimit: api.bodyLimitBytes,
        rateLimit: { max: api.rateLimit.max, timeWindowMs: api.rateLimit.windowMs },
        authFailureLimit: { max: api.rateLimit.authFailures, timeWindowMs: api.rateLimit.windowMs },
        authenticate: api.authenticate,
        eventTime: settings.eventTime,
        dedup: api.dedup,
        metrics,
        logger: logger.child({ component: 'api' }),
        telemetrySerde: serdes.telemetry,
        effectiveConfig: effectiveConfig(app),
        ...(settings.otlp.grpcPort === null ? {} : { otlpGrpc: { host: api.host, port: settings.otlp.grpcPort } }),
      })
    : null
  let ingestThread: IngestThread | null = null
  if (server) {
    try {
      if (api.ingestThread) {
        // The worker owns the port; this API answers what it forwards (api/ingest-thread.ts).
        await server.ready()
        ingestThread = await startIngestThread(ingestThreadTarget(server), { host: api.host, port: api.port }, logger.child({ component: 'api' }))
        apiAddress = ingestThread.address
      } else apiAddress = await server.listen({ host: api.host, port: api.port })
    } catch (err) {
      await rulesInForce.close()
      await rebuild.close()
      await closeWatches()
      // The gRPC receiver may be bound already (it starts when the API is ready, before the HTTP port).
      await server.close().catch(() => undefined)
      await dispatcher.stop()
      throw err
    }
    if (api.apiKeys.length === 0) logger.warn('the REST API has no API keys: anyone who reaches it can ingest and acknowledge (set SENTINEL_API_KEYS)')
    logger.info({ address: apiAddress, ingestThread: api.ingestThread }, 'LLM-Sentinel API listening')
  }
  return {
    apiAddress,
    otlpGrpcAddress: server === null ? null : otlpGrpcAddress(server),
    async close() {
      await rulesInForce.close()
      await rebuild.close()
      await closeWatches()
      // The edge first: its in-flight requests still need this API and the runtime.
      await ingestThread?.close()
      await server?.close()
      await dispatcher.stop()
    },
  }
}
