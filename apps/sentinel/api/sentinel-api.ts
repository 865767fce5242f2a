/**
 * LLM-Sentinel's REST API on fastify, over a running streams application (any `StreamsRuntime`:
 * Kafka or standalone). `buildSentinelApi` returns the instance, not listening: the caller listens
 * (and closes it before the runtime).
 *
 * Layout (fastify's encapsulation: one plugin per route group; nothing is decorated, route plugins
 * get what they share as options):
 *   /health, /ready                             open
 *   /metrics, /openapi.json                     open, or API key when `authenticate` says so
 *   /api/v1/...                                 API key (when configured), rate limit
 *   /internal/v1/...                            API key (when configured), its own (higher) rate limit;
 *                                               what instances ask each other
 * Every route behind a key also limits failed authentications per client address (429).
 *
 * Hostile input is refused at the edge with a 4xx, never a retryable 5xx: bodies over bodyLimit
 * (413), invalid UTF-8 or nesting past maxJsonDepth (400, json-body-parser.ts), credentials in the
 * query string (400, query-credentials.ts). Logs never carry credentials (log-redaction.ts).
 *
 * Requests are validated by their JSON schemas without coercion of bodies (a "5" is not a number)
 * and with unknown body fields rejected (never silently removed); query strings are coerced (they
 * are text). Every error is JSON `{ error, message, details? }` (errors.ts).
 */
import { readFileSync } from 'node:fs'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import type { Serde } from '../../../schemas/serde.js'
import { type TelemetryEvent, telemetryEventJsonSchema, telemetryJsonSerde } from '../../../schemas/telemetry/index.js'
import type { DetectorsConfig } from '../detectors-config.js'
import { DEFAULT_EVENT_TIME_BOUNDS, type EventTimeBounds } from '../event-time-bounds.js'
import { alertInternalRoutes, alertRoutes, alertViewQueries } from './alert-routes.js'
import { silenceRoutes } from './silence-routes.js'
import type { AlertLifecycleApi, ApiContext, DetectorActionsCheck } from './api-context.js'
import { ApiMetrics, DEFAULT_MAX_APPLICATION_LABELS } from './api-metrics.js'
import { AuthFailureLimit } from './auth-failure-limit.js'
import { anomalyRoutes } from './anomaly-routes.js'
import { configRoutes } from './config-routes.js'
import { ApiKeys } from './bearer-auth.js'
import { detectorRoutes } from './detector-routes.js'
import { detectorVersionRoutes } from './detector-version-routes.js'
import { alertRuleVersionRoutes } from './alert-rule-version-routes.js'
import { AlertRuleVersionWriter, type AlertRulesVersioning } from './alert-rule-version-writer.js'
import { DetectorVersionWriter } from './detector-version-writer.js'
import { createApiServer, type RateLimitOptions, rateLimitSettings } from './api-server.js'
import { healthRoutes } from './health-routes.js'
import { InteractiveQueries } from './interactive-queries.js'
import { internalRoutes } from './internal-routes.js'
import { DEFAULT_RECENT_EVENT_IDS, RecentEventIds, type RecentEventIdsOptions } from './recent-event-ids.js'
import { TelemetryIngest } from './telemetry-ingest.js'
import type { IngestThreadTarget } from './ingest-thread.js'
import { HANDOVER_WINDOW_EVENTS } from './ingest-edge.js'
import { DEFAULT_RECENT_TELEMETRY, RecentTelemetry } from './recent-telemetry.js'
import { FalsePositiveRates, falsePositiveRateGauge } from './false-positive-rates.js'
import { telemetryRoutes } from './telemetry-routes.js'
import { OtlpGrpcServer } from './otlp-grpc-server.js'
import { otlpRoutes } from './otlp-routes.js'
import { ViewReads } from './view-reads.js'

export type { RateLimitOptions } from './api-server.js'

export interface SentinelApiOptions {
  readonly runtime: StreamsRuntime
  readonly detectors: DetectorsConfig
  /** Where ingested telemetry goes (the detection topology's input topic). */
  readonly telemetryTopic: string
  /** The anomaly view's acknowledgements and feedback topics (see anomaly-view.ts). */
  readonly acksTopic: string
  readonly feedbackTopic: string
  /**
   * The alert routes (`/api/v1/alerts`), over the alert view (`../alert-view.ts`, which the topology
   * must include) and the topic silences are written to (the view's `silencesTopic`). Absent: no
   * alert routes.
   */
  readonly alerts?: { readonly silencesTopic: string; readonly lifecycle?: AlertLifecycleApi }
  /** Bearer keys; none or empty: the API is open. */
  readonly apiKeys?: readonly string[]
  /** Largest request body, bytes (413 beyond). */
  readonly bodyLimit: number
  /** False: no rate limit. */
  readonly rateLimit: RateLimitOptions | false
  /** Of `/internal/v1/*`; default 10 × rateLimit (a listing fans out to every instance), false when rateLimit is. */
  readonly internalRateLimit?: RateLimitOptions | false
  /** Failed authentications per client address before 429; default 20 per minute. Applies only with apiKeys. */
  readonly authFailureLimit?: RateLimitOptions
  /** Put /metrics and /openapi.json behind the API keys too (when keys are configured); default open. */
  readonly authenticate?: { readonly metrics?: boolean; readonly openapi?: boolean }
  /** Deepest JSON body accepted; default 64. */
  readonly maxJsonDepth?: number
  /** How far event times may be from the wall clock; default 5 min ahead, 24 h behind. */
  readonly eventTime?: EventTimeBounds
  /** Recently accepted event ids kept to report retries as duplicates; default 200,000 ids, 24 h. */
  readonly dedup?: RecentEventIdsOptions
  /** Distinct `application` label values on the API's metrics before `other`; default 100. */
  readonly maxApplicationLabels?: number
  /**
   * fastify's trustProxy: which proxies' X-Forwarded-For to believe for the client address (the key
   * of the rate limits). Default none: the socket's address.
   */
  readonly trustProxy?: boolean | string | string[]
  /** The wall clock; tests pass their own. */
  readonly now?: () => number
  readonly metrics: Registry
  /** A pino logger (or false for none). */
  readonly logger: FastifyBaseLogger | false
  /** How telemetry is encoded on the topic: the topology's input format (default JSON). */
  readonly telemetrySerde?: Serde<TelemetryEvent>
  /** Timeout of a request forwarded to another instance; default 5000 ms. */
  readonly forwardTimeoutMs?: number
  /**
   * The detector config topic the topology reads as a global table (detectorConfigTopic of
   * addSentinelDetection): enables detector create / update / delete / rollback. Absent: read only.
   */
  readonly detectorConfigTopic?: string
  /** Checks each new detector version's actions against the receivers file (sentinel-app: detectorActionIssues). */
  readonly checkDetectorActions?: DetectorActionsCheck
  /**
   * The alert rules this instance started from: with detectorConfigTopic, they are versioned in the
   * same topic (alert rule create / update / delete / rollback, PUT /config). Absent: not versioned here.
   */
  readonly alertRules?: AlertRulesVersioning
  /** How many of the newest written events a detector dry run can sample (per instance); default 10,000. */
  readonly recentTelemetry?: number
  /** Most events per ingest request; default 5000. */
  readonly maxBatchEvents?: number
  /** What GET /api/v1/config shows (../effective-config.ts: secrets already redacted); absent: no such route. */
  readonly effectiveConfig?: Readonly<Record<string, unknown>>
  /** Shown by /health; default: this package's version. */
  readonly version?: string
  /**
   * Serve OTLP/gRPC (otlp-grpc-server.ts) on this address beside the HTTP API, with its keys, limits
   * and ingest; it starts when the API is ready (listen) and stops with it. Absent: no gRPC.
   */
  readonly otlpGrpc?: { readonly host: string; readonly port: number }
}

const grpcAddresses = new WeakMap<FastifyInstance, string>()
const ingestTargets = new WeakMap<FastifyInstance, IngestThreadTarget>()

/** What the ingest thread needs of a built API (ingest-thread.ts: startIngestThread). */
export function ingestThreadTarget(app: FastifyInstance): IngestThreadTarget {
  const target = ingestTargets.get(app)
  if (target === undefined) throw new Error('ingestThreadTarget: not an API built by buildSentinelApi')
  return target
}

/** Where the API's OTLP/gRPC receiver listens (host:port) once the API is listening; null without one. */
export function otlpGrpcAddress(app: FastifyInstance): string | null {
  return grpcAddresses.get(app) ?? null
}

function packageVersion(): string {
  // From source (apps/sentinel/api) and from dist (dist/apps/sentinel/api) alike.
  for (const path of ['../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'sentinel-streams' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // try the next location
    }
  }
  return 'unknown'
}

function checkOptions(options: SentinelApiOptions): void {
  const problems: string[] = []
  if (!(Number.isSafeInteger(options.bodyLimit) && options.bodyLimit > 0))
    problems.push(`bodyLimit must be a positive integer (bytes), got ${options.bodyLimit}`)
  if (options.rateLimit !== false && !(options.rateLimit.max >= 1 && options.rateLimit.timeWindowMs >= 1))
    problems.push('rateLimit must be false or { max >= 1, timeWindowMs >= 1 }')
  const internal = options.internalRateLimit
  if (internal !== undefined && internal !== false && !(internal.max >= 1 && internal.timeWindowMs >= 1))
    problems.push('internalRateLimit must be false or { max >= 1, timeWindowMs >= 1 }')
  const failures = options.authFailureLimit
  if (failures !== undefined && !(failures.max >= 1 && failures.timeWindowMs >= 1)) problems.push('authFailureLimit must be { max >= 1, timeWindowMs >= 1 }')
  if (options.maxJsonDepth !== undefined && !(Number.isSafeInteger(options.maxJsonDepth) && options.maxJsonDepth >= 2))
    problems.push(`maxJsonDepth must be an integer >= 2, got ${options.maxJsonDepth}`)
  const bounds = options.eventTime
  if (bounds !== undefined && !(bounds.maxAheadMs > 0 && (bounds.maxBehindMs === undefined || bounds.maxBehindMs > 0)))
    problems.push('eventTime must be { maxAheadMs > 0, maxBehindMs > 0 or absent }')
  for (const name of ['telemetryTopic', 'acksTopic', 'feedbackTopic'] as const) if (!options[name]) problems.push(`${name} must be a topic name`)
  if (options.alerts !== undefined && !options.alerts.silencesTopic)
    problems.push('alerts.silencesTopic must be a topic name (or leave alerts out: no alert routes)')
  if (problems.length > 0) throw new Error(`buildSentinelApi: ${problems.join('; ')}`)
}

export function buildSentinelApi(options: SentinelApiOptions): FastifyInstance {
  checkOptions(options)
  const apiKeys = new ApiKeys(options.apiKeys ?? [])
  // The metrics need the app's logger and the app needs to observe into them: bound once both exist.
  const bound: { metrics?: ApiMetrics } = {}
  const app = createApiServer({
    logger: options.logger,
    bodyLimit: options.bodyLimit,
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(options.maxJsonDepth === undefined ? {} : { maxJsonDepth: options.maxJsonDepth }),
    observe: (method, route, statusCode, seconds) => bound.metrics!.requestDuration.observe({ method, route, status_code: String(statusCode) }, seconds),
  })
  const metrics = new ApiMetrics(options.metrics, app.log, options.maxApplicationLabels ?? DEFAULT_MAX_APPLICATION_LABELS)
  bound.metrics = metrics
  const queries = new InteractiveQueries(options.runtime, options.forwardTimeoutMs ?? 5000, app.log)
  const reads = new ViewReads(options.runtime, queries)
  const base = {
    runtime: options.runtime,
    detectors: options.detectors,
    reads,
    metrics,
    telemetryTopic: options.telemetryTopic,
    acksTopic: options.acksTopic,
    feedbackTopic: options.feedbackTopic,
    alerts:
      options.alerts === undefined
        ? null
        : { reads: alertViewQueries(options.runtime, queries), silencesTopic: options.alerts.silencesTopic, lifecycle: options.alerts.lifecycle ?? null },
    telemetrySerde: options.telemetrySerde ?? telemetryJsonSerde(),
    maxBatchEvents: options.maxBatchEvents ?? 5000,
    eventTime: options.eventTime ?? DEFAULT_EVENT_TIME_BOUNDS,
    recentEventIds: new RecentEventIds(options.dedup ?? DEFAULT_RECENT_EVENT_IDS),
    detectorConfigTopic: options.detectorConfigTopic ?? null,
    ...(options.checkDetectorActions ? { checkDetectorActions: options.checkDetectorActions } : {}),
    recentTelemetry: new RecentTelemetry(options.recentTelemetry ?? DEFAULT_RECENT_TELEMETRY),
    now: options.now ?? Date.now,
    version: options.version ?? packageVersion(),
    startedAt: Date.now(),
  }
  const falsePositiveRates = new FalsePositiveRates(reads, base.now)
  const topic = base.detectorConfigTopic
  const alertRules = options.alertRules ?? null
  const versions =
    topic === null
      ? null
      : {
          detectors: new DetectorVersionWriter(base, topic, app.log),
          alertRules: alertRules === null ? null : new AlertRuleVersionWriter(alertRules, base, topic, app.log),
        }
  const ctx: ApiContext = { ...base, ingest: new TelemetryIngest(base, app.log), falsePositiveRates, versions, alertRules }
  const authFailureLimit = options.authFailureLimit ?? { max: 20, timeWindowMs: 60_000 }
  ingestTargets.set(app, {
    api: app,
    runtime: options.runtime,
    metrics,
    recentTelemetry: base.recentTelemetry,
    telemetrySerde: base.telemetrySerde,
    edge: {
      telemetryTopic: base.telemetryTopic,
      apiKeys: options.apiKeys ?? [],
      bodyLimit: options.bodyLimit,
      rateLimit: options.rateLimit,
      authFailureLimit,
      ...(options.maxJsonDepth === undefined ? {} : { maxJsonDepth: options.maxJsonDepth }),
      ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
      eventTime: base.eventTime,
      dedup: options.dedup ?? DEFAULT_RECENT_EVENT_IDS,
      maxBatchEvents: base.maxBatchEvents,
      handoverWindowEvents: options.runtime.mode === 'standalone' ? HANDOVER_WINDOW_EVENTS : null,
      producer: options.runtime.producerConnection?.() ?? null,
      sampleCapacity: base.recentTelemetry.capacity,
    },
  })
  // A scrape carries no client credentials; instances ask each other with the first API key.
  falsePositiveRateGauge(
    options.metrics,
    falsePositiveRates,
    options.detectors.detectors.map((d) => d.id),
    { authorization: apiKeys.enabled ? `Bearer ${options.apiKeys![0]}` : undefined, requestId: 'metrics-false-positive-rate' },
  )

  const failures = apiKeys.enabled ? new AuthFailureLimit(authFailureLimit, ctx.now) : undefined
  const guarded = apiKeys.enabled ? [apiKeys.hook(failures)] : []
  const rateLimitOf = (limits: RateLimitOptions) => rateLimitSettings(apiKeys, limits)
  if (options.otlpGrpc !== undefined) {
    const { host, port } = options.otlpGrpc
    const grpc = new OtlpGrpcServer({ ctx, apiKeys, failures, log: app.log.child({ component: 'otlp-grpc' }), maxMessageBytes: options.bodyLimit })
    app.addHook('onReady', async () => {
      const address = await grpc.listen(host, port)
      grpcAddresses.set(app, address)
      app.log.info({ address }, 'OTLP/gRPC receiver listening')
    })
    app.addHook('onClose', async () => {
      grpcAddresses.delete(app)
      await grpc.close()
    })
  }
  const internalLimit =
    options.internalRateLimit ?? (options.rateLimit === false ? false : { max: options.rateLimit.max * 10, timeWindowMs: options.rateLimit.timeWindowMs })

  const { $schema: _draft, ...telemetrySchema } = telemetryEventJsonSchema
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'LLM-Sentinel API', version: ctx.version, description: 'Real-time anomaly detection on LLM telemetry, on sentinel-streams.' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key' } },
        schemas: { TelemetryEvent: telemetrySchema as unknown as Record<string, unknown> },
      },
      ...(apiKeys.enabled ? { security: [{ bearer: [] }] } : {}),
    },
  })
  void app.get('/openapi.json', { schema: { hide: true }, onRequest: options.authenticate?.openapi === true ? guarded : [] }, async () => app.swagger())
  void app.register(healthRoutes, { ctx, metricsOnRequest: options.authenticate?.metrics === true ? guarded : [] })

  void app.register(
    async (api) => {
      if (options.rateLimit !== false) await api.register(rateLimit, rateLimitOf(options.rateLimit))
      for (const hook of guarded) api.addHook('onRequest', hook)
      await api.register(telemetryRoutes, { ctx })
      await api.register(anomalyRoutes, { ctx })
      await api.register(alertRoutes, { ctx })
      await api.register(silenceRoutes, { ctx })
      await api.register(detectorRoutes, { ctx })
      await api.register(detectorVersionRoutes, { ctx })
      await api.register(alertRuleVersionRoutes, { ctx })
      if (options.effectiveConfig !== undefined) await api.register(configRoutes, { ctx, config: options.effectiveConfig })
    },
    { prefix: '/api/v1' },
  )
  // OTLP exporters append /v1/traces to their endpoint: the receiver sits at the root, keyed and limited like /api/v1.
  void app.register(
    async (otlp) => {
      if (options.rateLimit !== false) await otlp.register(rateLimit, rateLimitOf(options.rateLimit))
      for (const hook of guarded) otlp.addHook('onRequest', hook)
      await otlp.register(otlpRoutes, { ctx })
    },
    { prefix: '/v1' },
  )
  void app.register(
    async (internal) => {
      if (internalLimit !== false) await internal.register(rateLimit, rateLimitOf(internalLimit))
      for (const hook of guarded) internal.addHook('onRequest', hook)
      await internal.register(internalRoutes, { ctx })
      await internal.register(alertInternalRoutes, { ctx })
    },
    { prefix: '/internal/v1' },
  )
  return app
}
