/**
 * LLM-Sentinel's own settings: the `sentinel:` section of the run's config (the file of
 * `sentinel-streams run --config`, or the topology file's `config` export), beside the library's
 * StreamsConfig keys. Everything has a default, so `sentinel-streams run apps/sentinel/topology.ts`
 * runs as shipped; every value given is checked at start and a bad one fails it naming the field.
 *
 * Environment overrides, for containers: SENTINEL_API_PORT, SENTINEL_API_KEYS (comma-separated),
 * SENTINEL_OTLP_GRPC_PORT, SENTINEL_API_INGEST_THREAD (true|false),
 * SENTINEL_DETECTORS, SENTINEL_ALERT_RULES, SENTINEL_RECEIVERS (file paths), SCHEMA_REGISTRY_URL,
 * SCHEMA_REGISTRY_AUTH / SCHEMA_REGISTRY_TOKEN (registry-settings.ts).
 */
import { ConfigError } from '../../runtime/config.js'
import { type CorrelationSettings, DEFAULT_CORRELATION_WINDOW_MS, DEFAULT_MAX_RELATED } from './alerting/anomaly-correlation.js'
import { parseDuration } from './detectors-config.js'
import { DEFAULT_EVENT_TIME_BOUNDS, type EventTimeBounds } from './event-time-bounds.js'
import { type RegistrySettings, resolveRegistrySettings } from './registry-settings.js'

export const INPUT_FORMATS = ['json', 'avro', 'registry-avro'] as const
export type InputFormat = (typeof INPUT_FORMATS)[number]

export interface SentinelTopics {
  readonly telemetry: string
  readonly anomalies: string
  readonly alerts: string
  readonly deliveries: string
  readonly acks: string
  readonly feedback: string
  readonly silences: string
  /** MetricsAggregation records (metrics-aggregation.ts). */
  readonly aggregations: string
  /** The alert lifecycle's notifications, what the dispatcher delivers (alerting/lifecycle-topology.ts). */
  readonly notifications: string
  /** Acknowledge / resolve commands of the API, keyed by notification group. */
  readonly commands: string
  /** Label-matcher silences (delivery/silences.ts), keyed by silence id. */
  readonly silenceRules: string
  /** Detector definition versions, read whole by every instance (detector-versions.ts); create it compacted. */
  readonly detectorConfig: string
}

export interface SentinelApiSettings {
  readonly enabled: boolean
  readonly host: string
  readonly port: number
  /** Bearer keys; empty = no authentication (say so in the logs). */
  readonly apiKeys: readonly string[]
  readonly bodyLimitBytes: number
  /**
   * Requests per window and client; `authFailures`: failed authentications per window and client
   * address (also answered 429 beyond), so rotating bad keys cannot probe without limit.
   */
  readonly rateLimit: { readonly max: number; readonly windowMs: number; readonly authFailures: number }
  /** Event ids remembered to report retried events as duplicates (per instance; see api/recent-event-ids.ts). */
  readonly dedup: { readonly maxIds: number; readonly horizonMs: number }
  /** Operations endpoints that require an API key too (when keys are configured); default open. */
  readonly authenticate: { readonly metrics: boolean; readonly openapi: boolean }
  /**
   * The HTTP edge in a worker thread (api/ingest-thread.ts): telemetry ingest off the topology's event
   * loop; every other request forwarded to the main thread's API. JSON telemetry only.
   */
  readonly ingestThread: boolean
}

export interface SentinelSettings {
  /**
   * Files; null = the default shipped beside this module (the default receivers are each switched
   * on by an environment variable, so as shipped alerts are recorded and delivered nowhere).
   */
  readonly detectorsFile: string | null
  readonly alertRulesFile: string | null
  readonly receiversFile: string | null
  readonly topics: SentinelTopics
  readonly inputFormat: InputFormat
  /** Set: every Sentinel topic is in the registry wire format (see topic-serdes.ts). */
  readonly schemaRegistryUrl: string | null
  /**
   * How far event times may be from the wall clock (event-time-bounds.ts); the API and the
   * topology's telemetry source both apply it. `maxBehind: off` (no lower bound) replays old data.
   */
  readonly eventTime: EventTimeBounds
  /**
   * The topology drops telemetry whose event_id it saw within this many ms of event time (a logged
   * store: restarts and rebalances keep it); null = off. Default 24 h.
   */
  readonly deduplicateHorizonMs: number | null
  readonly schemaRegistry: RegistrySettings
  readonly api: SentinelApiSettings
  /**
   * Seed 001's `correlation` (`enabled`, `window`, `maxRelatedEvents`; default on, 10m, 50):
   * anomalies of one application or model this close are related; null = off.
   */
  readonly correlation: CorrelationSettings | null
  /** How long the API's views keep anomalies and alerts (event time); default seed 001's 30 days and 1 year. */
  readonly retention: { readonly anomaliesMs: number; readonly alertsMs: number }
  /** Per application/model MetricsAggregation windows; null = off. Default 5 minutes, 1 minute grace. */
  readonly aggregations: { readonly windowMs: number; readonly graceMs: number } | null
  /**
   * The OTLP/gRPC receiver's port (on the API's host, with its keys and limits); null = off, the
   * default (OTLP/HTTP is always on the API's port). 4317 is OTLP's gRPC port.
   */
  readonly otlp: { readonly grpcPort: number | null }
}

const DAY_MS = 86_400_000
export const DEFAULT_RETENTION = { anomaliesMs: 30 * DAY_MS, alertsMs: 365 * DAY_MS } as const
export const DEFAULT_AGGREGATIONS = { windowMs: 5 * 60_000, graceMs: 60_000 } as const

export const DEFAULT_TOPICS: SentinelTopics = {
  telemetry: 'llm-telemetry',
  anomalies: 'anomalies',
  alerts: 'alerts',
  deliveries: 'alert-deliveries',
  acks: 'anomaly-acks',
  feedback: 'anomaly-feedback',
  silences: 'alert-silences',
  aggregations: 'metrics-aggregations',
  notifications: 'alert-notifications',
  commands: 'alert-commands',
  silenceRules: 'alert-silence-rules',
  detectorConfig: 'sentinel-detector-config',
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

type Raw = Record<string, unknown>

const isObject = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value)

function section(raw: Raw, name: string, path: string): Raw {
  const value = raw[name]
  if (value === undefined) return {}
  if (!isObject(value))
    throw new ConfigError(`${path}.${name}`, `expected a mapping, got ${JSON.stringify(value)}`, `Write it as '${name}:' followed by indented keys.`)
  return value
}

function rejectUnknown(raw: Raw, known: readonly string[], path: string): void {
  const unknown = Object.keys(raw).find((k) => !known.includes(k))
  if (unknown !== undefined) throw new ConfigError(`${path}.${unknown}`, 'is not a known setting', `Known settings here: ${known.join(', ')}.`)
}

function text(raw: Raw, name: string, path: string, fallback: string | null): string | null {
  const value = raw[name]
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.length === 0)
    throw new ConfigError(`${path}.${name}`, `expected a non-empty string, got ${JSON.stringify(value)}`, 'Quote it if it looks like a number.')
  return value
}

function integer(raw: Raw, name: string, path: string, fallback: number, min: number, max: number): number {
  const value = raw[name]
  if (value === undefined) return fallback
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${path}.${name}`,
      `expected an integer in [${min}, ${max}], got ${JSON.stringify(value)}`,
      `Set a whole number from ${min} to ${max}.`,
    )
  }
  return n
}

/** Sizes as a number of bytes or with a unit: 512kb, 1mb. */
function bytes(raw: Raw, name: string, path: string, fallback: number): number {
  const value = raw[name]
  if (value === undefined) return fallback
  const match = typeof value === 'number' ? [String(value), String(value), ''] : typeof value === 'string' ? /^(\d+)\s*(b|kb|mb)?$/i.exec(value.trim()) : null
  const scale = { '': 1, b: 1, kb: 1024, mb: 1024 * 1024 }[(match?.[2] ?? '').toLowerCase()]
  const n = match && scale !== undefined ? Number(match[1]) * scale : Number.NaN
  if (!Number.isInteger(n) || n < 1024 || n > 64 * 1024 * 1024) {
    throw new ConfigError(`${path}.${name}`, `expected a size from 1kb to 64mb, got ${JSON.stringify(value)}`, 'Write it like 1mb or 262144.')
  }
  return n
}

function keys(raw: Raw, path: string, env: string | undefined): string[] {
  if (env !== undefined && env.trim() !== '')
    return env
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean)
  const value = raw.apiKeys
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((k) => typeof k !== 'string' || k.length < 16)) {
    throw new ConfigError(
      `${path}.apiKeys`,
      'expected a list of keys of at least 16 characters',
      'Generate keys with `openssl rand -hex 24`; prefer SENTINEL_API_KEYS over a file.',
    )
  }
  return value as string[]
}

function duration(raw: Raw, name: string, path: string, fallback: number, min: number): number {
  const value = raw[name]
  if (value === undefined) return fallback
  const ms = parseDuration(value)
  if (ms === null || ms < min)
    throw new ConfigError(`${path}.${name}`, `expected a duration of at least ${min} ms, got ${JSON.stringify(value)}`, 'Write it like 5m, 24h or 30s.')
  return ms
}

const DEFAULT_DEDUPLICATE_HORIZON_MS = 24 * 3_600_000

/** A duration, or null for `off`. */
function offOrDuration(raw: Raw, name: string, path: string, fallback: number): number | null {
  if (raw[name] === 'off') return null
  const value = raw[name]
  if (value === undefined) return fallback
  const ms = parseDuration(value)
  if (ms === null || ms < 1000)
    throw new ConfigError(`${path}.${name}`, `expected a duration of at least 1s or off, got ${JSON.stringify(value)}`, 'Write it like 5m, 24h, or off.')
  return ms
}

function eventTimeBounds(raw: Raw, path: string): EventTimeBounds {
  const maxAheadMs = duration(raw, 'maxAhead', path, DEFAULT_EVENT_TIME_BOUNDS.maxAheadMs, 1000)
  const maxBehindMs = offOrDuration(raw, 'maxBehind', path, DEFAULT_EVENT_TIME_BOUNDS.maxBehindMs!)
  return maxBehindMs === null ? { maxAheadMs } : { maxAheadMs, maxBehindMs }
}

function flag(raw: Raw, name: string, path: string, fallback: boolean): boolean {
  const value = raw[name]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigError(`${path}.${name}`, `expected true or false, got ${JSON.stringify(value)}`, 'Write true or false.')
  return value
}

/** `api.ingestThread` (or SENTINEL_API_INGEST_THREAD, checked as the field it overrides); JSON telemetry only. */
function ingestThreadSetting(api: Raw, path: string, fromEnv: string | undefined, inputFormat: InputFormat): boolean {
  if (fromEnv !== undefined && fromEnv !== '' && fromEnv !== 'true' && fromEnv !== 'false')
    throw new ConfigError(
      `${path}.ingestThread`,
      `SENTINEL_API_INGEST_THREAD must be true or false, got ${JSON.stringify(fromEnv)}`,
      'Set it to true or false.',
    )
  const on = fromEnv === 'true' || fromEnv === 'false' ? fromEnv === 'true' : flag(api, 'ingestThread', path, false)
  if (on && inputFormat !== 'json')
    throw new ConfigError(
      `${path}.ingestThread`,
      `needs input.format json (got '${inputFormat}'): the ingest thread writes telemetry as JSON`,
      'Set ingestThread to false, or input.format to json.',
    )
  return on
}

function serverPort(address: string | undefined): number | null {
  const port = address === undefined ? Number.NaN : Number(address.slice(address.lastIndexOf(':') + 1))
  return Number.isInteger(port) && port > 0 && port <= 65535 ? port : null
}

/** Reads and checks the `sentinel:` section (absent = all defaults). */
export function resolveSentinelSettings(
  config: { sentinel?: unknown; schemaRegistryUrl?: string; applicationServer?: string },
  env: NodeJS.ProcessEnv = process.env,
): SentinelSettings {
  const path = 'sentinel'
  if (config.sentinel !== undefined && !isObject(config.sentinel)) {
    throw new ConfigError(
      path,
      `expected a mapping, got ${JSON.stringify(config.sentinel)}`,
      "Write it as 'sentinel:' followed by indented keys (see apps/sentinel/README.md).",
    )
  }
  const raw = config.sentinel ?? {}
  rejectUnknown(
    raw,
    [
      'detectors',
      'alertRules',
      'receivers',
      'topics',
      'input',
      'eventTime',
      'deduplicate',
      'api',
      'schemaRegistry',
      'correlation',
      'retention',
      'aggregations',
      'otlp',
    ],
    path,
  )

  const rawTopics = section(raw, 'topics', path)
  rejectUnknown(rawTopics, Object.keys(DEFAULT_TOPICS), `${path}.topics`)
  const topics = Object.fromEntries(
    (Object.keys(DEFAULT_TOPICS) as (keyof SentinelTopics)[]).map((name) => {
      const topic = text(rawTopics, name, `${path}.topics`, DEFAULT_TOPICS[name]) ?? DEFAULT_TOPICS[name]
      if (!TOPIC_NAME.test(topic))
        throw new ConfigError(`${path}.topics.${name}`, `'${topic}' is not a valid topic name`, 'Use 1-249 characters of [a-zA-Z0-9._-].')
      return [name, topic]
    }),
  ) as unknown as SentinelTopics
  const names = Object.values(topics)
  const repeated = names.find((t, i) => names.indexOf(t) !== i)
  if (repeated !== undefined) throw new ConfigError(`${path}.topics`, `'${repeated}' is used for two purposes`, 'Give each topic its own name.')

  const input = section(raw, 'input', path)
  rejectUnknown(input, ['format', 'schemaRegistryUrl'], `${path}.input`)
  const inputFormat = (text(input, 'format', `${path}.input`, 'json') ?? 'json') as InputFormat
  if (!INPUT_FORMATS.includes(inputFormat)) {
    throw new ConfigError(
      `${path}.input.format`,
      `'${inputFormat}' is not a known format`,
      `Use one of ${INPUT_FORMATS.join(', ')} (the format is configured, never guessed).`,
    )
  }
  const schemaRegistry = resolveRegistrySettings(raw.schemaRegistry, `${path}.schemaRegistry`, env)
  const schemaRegistryUrl = env.SCHEMA_REGISTRY_URL ?? text(input, 'schemaRegistryUrl', `${path}.input`, schemaRegistry.url ?? config.schemaRegistryUrl ?? null)
  if (inputFormat === 'registry-avro' && schemaRegistryUrl === null) {
    throw new ConfigError(
      `${path}.input.schemaRegistryUrl`,
      "is required with format 'registry-avro'",
      'Set it to the registry base URL, e.g. http://localhost:8081, or set SCHEMA_REGISTRY_URL.',
    )
  }
  if (schemaRegistryUrl !== null && !(URL.canParse(schemaRegistryUrl) && /^https?:$/.test(new URL(schemaRegistryUrl).protocol))) {
    throw new ConfigError(`${path}.input.schemaRegistryUrl`, `'${schemaRegistryUrl}' is not an http(s) URL`, 'Write it as http(s)://host:port.')
  }

  const api = section(raw, 'api', path)
  rejectUnknown(api, ['enabled', 'host', 'port', 'apiKeys', 'bodyLimit', 'rateLimit', 'dedup', 'authenticate', 'ingestThread'], `${path}.api`)
  if (api.enabled !== undefined && typeof api.enabled !== 'boolean')
    throw new ConfigError(`${path}.api.enabled`, `expected true or false, got ${JSON.stringify(api.enabled)}`, 'Write true or false.')
  const rate = section(api, 'rateLimit', `${path}.api`)
  rejectUnknown(rate, ['max', 'window', 'authFailures'], `${path}.api.rateLimit`)
  const eventTime = section(raw, 'eventTime', path)
  rejectUnknown(eventTime, ['maxAhead', 'maxBehind'], `${path}.eventTime`)
  const deduplicate = section(raw, 'deduplicate', path)
  rejectUnknown(deduplicate, ['horizon'], `${path}.deduplicate`)
  const dedup = section(api, 'dedup', `${path}.api`)
  rejectUnknown(dedup, ['maxIds', 'horizon'], `${path}.api.dedup`)
  const authenticate = section(api, 'authenticate', `${path}.api`)
  rejectUnknown(authenticate, ['metrics', 'openapi'], `${path}.api.authenticate`)
  const correlation = section(raw, 'correlation', path)
  rejectUnknown(correlation, ['enabled', 'window', 'maxRelatedEvents'], `${path}.correlation`)
  const retention = section(raw, 'retention', path)
  rejectUnknown(retention, ['anomalies', 'alerts'], `${path}.retention`)
  const aggregationsOff = raw.aggregations === 'off'
  const aggregations = aggregationsOff ? {} : section(raw, 'aggregations', path)
  rejectUnknown(aggregations, ['window', 'grace'], `${path}.aggregations`)
  const ingestThread = ingestThreadSetting(api, `${path}.api`, env.SENTINEL_API_INGEST_THREAD, inputFormat)
  const otlp = section(raw, 'otlp', path)
  rejectUnknown(otlp, ['grpcPort'], `${path}.otlp`)
  const grpcPortGiven = env.SENTINEL_OTLP_GRPC_PORT ?? otlp.grpcPort
  // SENTINEL_OTLP_GRPC_PORT is checked as the field it overrides, so a bad value names the field.
  const grpcPort = grpcPortGiven === undefined || grpcPortGiven === '' ? null : integer({ grpcPort: grpcPortGiven }, 'grpcPort', `${path}.otlp`, 0, 0, 65535)
  if (grpcPort !== null && api.enabled === false) {
    throw new ConfigError(
      `${path}.otlp.grpcPort`,
      'needs the API (api.enabled is false)',
      "The gRPC receiver shares the API's keys, limits and ingest: enable the API or unset grpcPort / SENTINEL_OTLP_GRPC_PORT.",
    )
  }
  const windowMs = rate.window === undefined ? 60_000 : parseDuration(rate.window)
  if (windowMs === null || windowMs < 1000)
    throw new ConfigError(`${path}.api.rateLimit.window`, `expected a duration of at least 1s, got ${JSON.stringify(rate.window)}`, 'Write it like 1m or 30s.')

  return {
    detectorsFile: env.SENTINEL_DETECTORS ?? text(raw, 'detectors', path, null),
    alertRulesFile: env.SENTINEL_ALERT_RULES ?? text(raw, 'alertRules', path, null),
    receiversFile: env.SENTINEL_RECEIVERS ?? text(raw, 'receivers', path, null),
    topics,
    inputFormat,
    schemaRegistryUrl,
    eventTime: eventTimeBounds(eventTime, `${path}.eventTime`),
    deduplicateHorizonMs: offOrDuration(deduplicate, 'horizon', `${path}.deduplicate`, DEFAULT_DEDUPLICATE_HORIZON_MS),
    schemaRegistry,
    correlation: flag(correlation, 'enabled', `${path}.correlation`, true)
      ? {
          windowMs: duration(correlation, 'window', `${path}.correlation`, DEFAULT_CORRELATION_WINDOW_MS, 1000),
          maxRelated: integer(correlation, 'maxRelatedEvents', `${path}.correlation`, DEFAULT_MAX_RELATED, 1, 1000),
        }
      : null,
    retention: {
      anomaliesMs: duration(retention, 'anomalies', `${path}.retention`, DEFAULT_RETENTION.anomaliesMs, 60_000),
      alertsMs: duration(retention, 'alerts', `${path}.retention`, DEFAULT_RETENTION.alertsMs, 60_000),
    },
    aggregations: aggregationsOff
      ? null
      : {
          windowMs: duration(aggregations, 'window', `${path}.aggregations`, DEFAULT_AGGREGATIONS.windowMs, 1000),
          graceMs: duration(aggregations, 'grace', `${path}.aggregations`, DEFAULT_AGGREGATIONS.graceMs, 0),
        },
    otlp: { grpcPort },
    api: {
      enabled: api.enabled !== false,
      host: text(api, 'host', `${path}.api`, '0.0.0.0') ?? '0.0.0.0',
      // Other instances reach this one at its applicationServer address: serve the API there.
      port: integer({ port: env.SENTINEL_API_PORT ?? api.port }, 'port', `${path}.api`, serverPort(config.applicationServer) ?? 8080, 0, 65535),
      apiKeys: keys(api, `${path}.api`, env.SENTINEL_API_KEYS),
      bodyLimitBytes: bytes(api, 'bodyLimit', `${path}.api`, 1024 * 1024),
      rateLimit: {
        max: integer(rate, 'max', `${path}.api.rateLimit`, 1000, 1, 1_000_000),
        windowMs,
        authFailures: integer(rate, 'authFailures', `${path}.api.rateLimit`, 20, 1, 1_000_000),
      },
      dedup: {
        maxIds: integer(dedup, 'maxIds', `${path}.api.dedup`, 200_000, 0, 10_000_000),
        horizonMs: duration(dedup, 'horizon', `${path}.api.dedup`, 24 * 3_600_000, 1000),
      },
      authenticate: {
        metrics: flag(authenticate, 'metrics', `${path}.api.authenticate`, false),
        openapi: flag(authenticate, 'openapi', `${path}.api.authenticate`, false),
      },
      ingestThread,
    },
  }
}
