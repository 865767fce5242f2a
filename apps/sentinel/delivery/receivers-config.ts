/**
 * The receivers file (YAML), read once at start: where alerts go, how each receiver is reached, and
 * how rule actions map to receivers. Mistakes are reported together, each naming the receiver, the
 * field and the fix, so a bad file fails the start and never a delivery at run time. Two rounds: the
 * file's shape as written is checked first against its JSON Schema
 * (config-schemas/receivers.schema.json, published for editors; schemas/config/config-reader.ts),
 * then, after `${VAR}` substitution, what a schema cannot say (URLs, addresses, durations, integers
 * given through variables, required values a variable left empty, names routing refers to).
 *
 * Shape:
 *
 *   publicUrl: ${SENTINEL_PUBLIC_URL:-http://localhost:8080}   # links in Slack / PagerDuty messages
 *   delivery:                                   # defaults for every receiver (each may override)
 *     timeout: 10s
 *     retry: { maxAttempts: 5, initialBackoff: 1s, maxBackoff: 60s }
 *     circuitBreaker: { failureThreshold: 5, successThreshold: 1, coolDown: 30s }
 *     concurrency: 4                            # deliveries in flight per receiver
 *   routing:                                    # receivers of actions that name none
 *     incident: [incident-manager]              # default: every incident-manager receiver
 *     shield: [shield]                          # default: every shield receiver
 *     webhook: [audit-hook]                     # default: none (the action gives receiver or url)
 *   receivers:
 *     - name: slack-incidents
 *       type: slack                             # webhook | slack | pagerduty | incident-manager | shield | email
 *       enabled: ${SLACK_WEBHOOK_URL:+true}     # on when the variable is set; a disabled receiver is
 *                                               # known to rules, never called (recorded `skipped`)
 *       config: { webhookUrl: ${SLACK_WEBHOOK_URL}, channel: "#incidents" }
 *     - name: email-oncall
 *       type: email                             # SMTP through nodemailer
 *       config: { smtpUrl: ${SMTP_URL}, from: sentinel@example.com, to: [oncall@example.com] }
 *
 * `${VAR}` is replaced by the environment variable (a missing one is an error naming receiver and
 * field), `${VAR:-default}` falls back to `default`, `${VAR:+word}` is `word` when VAR is set and ''
 * otherwise; `$${` writes a literal `${`. Substitution is
 * done on the parsed YAML's string values, so a secret with YAML-special characters stays intact.
 * A disabled receiver's fields are not checked (its variables need not be set).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { AnomalySeverity } from '../../../operators/detectors/severity.js'
import type { AlertAction } from '../../../schemas/alert/alert-event.js'
import { type ConfigIssue, compileConfigSchema, fieldPath, parseConfigText, validateConfig } from '../../../schemas/config/config-reader.js'
import { parseDuration } from '../detectors-config.js'

export const RECEIVER_TYPES = ['webhook', 'slack', 'pagerduty', 'incident-manager', 'shield', 'email'] as const
export type ReceiverType = (typeof RECEIVER_TYPES)[number]
export const SHIELD_ACTIONS = ['BLOCK', 'RATE_LIMIT', 'THROTTLE', 'QUARANTINE', 'ALERT_ONLY'] as const
/** The seed's Shield `ActionType` (shield-action.proto). */
export type ShieldActionType = (typeof SHIELD_ACTIONS)[number]
export const ROUTED_ACTIONS = ['notification', 'incident', 'shield', 'webhook'] as const

export const DEFAULT_PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue'
export const DEFAULT_SEVERITY_MAP: Readonly<Record<AnomalySeverity, string>> = { critical: 'P1', warning: 'P2', info: 'P3' }

export interface RetrySettings {
  /** Attempts in all, the first included (1 = no retry). */
  readonly maxAttempts: number
  readonly initialBackoffMs: number
  /** Cap of one backoff, and of a honoured Retry-After (a longer one gives up). */
  readonly maxBackoffMs: number
}

export interface BreakerSettings {
  /** Consecutive failed attempts that open the circuit. */
  readonly failureThreshold: number
  /** Successful probes in half-open that close it again. */
  readonly successThreshold: number
  /** Time open before a probe is let through (half-open). */
  readonly coolDownMs: number
}

export interface DeliverySettings {
  readonly timeoutMs: number
  readonly retry: RetrySettings
  readonly circuitBreaker: BreakerSettings
  readonly concurrency: number
}

export const DEFAULT_DELIVERY: DeliverySettings = {
  timeoutMs: 10_000,
  // The seed's alert_notification retry policy (001, "Retry and Backoff") and breaker (5 failures, 30 s).
  retry: { maxAttempts: 5, initialBackoffMs: 1_000, maxBackoffMs: 60_000 },
  circuitBreaker: { failureThreshold: 5, successThreshold: 1, coolDownMs: 30_000 },
  concurrency: 4,
}

interface ReceiverBase {
  readonly name: string
  readonly delivery: DeliverySettings
}

export interface WebhookReceiver extends ReceiverBase {
  readonly type: 'webhook'
  readonly url: string
  /** HMAC-SHA256 key of the X-Sentinel-Signature header; null sends unsigned. */
  readonly secret: string | null
  readonly headers: Readonly<Record<string, string>>
}

export interface SlackReceiver extends ReceiverBase {
  readonly type: 'slack'
  readonly webhookUrl: string
  readonly channel: string | null
}

export interface PagerDutyReceiver extends ReceiverBase {
  readonly type: 'pagerduty'
  readonly routingKey: string
  readonly url: string
}

export interface IncidentManagerReceiver extends ReceiverBase {
  readonly type: 'incident-manager'
  /** Base URL; incidents go to `{endpoint}/api/v1/incidents`. */
  readonly endpoint: string
  readonly apiKey: string
  readonly severityMap: Readonly<Record<AnomalySeverity, string>>
}

export interface ShieldReceiver extends ReceiverBase {
  readonly type: 'shield'
  /** Base URL of Shield's HTTP JSON gateway; actions go to `{endpoint}/v1/actions`. */
  readonly endpoint: string
  /** Used when the rule's shield action names none. */
  readonly action: ShieldActionType | null
  /** Used when the rule's shield action gives none; null sends no duration (Shield's default). */
  readonly durationMs: number | null
}

export interface EmailReceiver extends ReceiverBase {
  readonly type: 'email'
  /** nodemailer's connection URL: smtp://[user:pass@]host:port (STARTTLS when offered) or smtps:// (TLS). */
  readonly smtpUrl: string
  readonly from: string
  readonly to: readonly string[]
}

export type ReceiverConfig = WebhookReceiver | SlackReceiver | PagerDutyReceiver | IncidentManagerReceiver | ShieldReceiver | EmailReceiver

export interface ActionRouting {
  /** Receivers of an `incident` action without `config.receiver`. */
  readonly incident: readonly string[]
  /** Receivers of a `shield` action without `config.receiver`. */
  readonly shield: readonly string[]
  /** Receivers of a `webhook` action with neither `config.receiver` nor `config.url`. */
  readonly webhook: readonly string[]
}

export interface ReceiversConfig {
  readonly source: string
  /** Enabled receivers, in file order. */
  readonly receivers: readonly ReceiverConfig[]
  /** Receivers written but disabled: rules may name them; deliveries to them are recorded `skipped`. */
  readonly disabled: readonly { readonly name: string; readonly type: ReceiverType }[]
  readonly routing: ActionRouting
  /** Base of links to the Sentinel API in messages (e.g. `{publicUrl}/api/v1/anomalies/{id}`); null for none. */
  readonly publicUrl: string | null
  /** The file's `delivery:` defaults, also used for inline webhook URLs. */
  readonly delivery: DeliverySettings
}

export interface ReceiverConfigIssue {
  /** The receiver's name (or `receivers[i]`), null for file-level or rule issues. */
  readonly receiver: string | null
  /** The rule whose actions are checked (checkReferences), else null. */
  readonly rule: string | null
  readonly field: string | null
  readonly message: string
}

export class ReceiversConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly ReceiverConfigIssue[],
  ) {
    super(`invalid receivers file ${source}:\n${issues.map((i) => `  - ${describeReceiverIssue(i)}`).join('\n')}`)
    this.name = 'ReceiversConfigError'
  }
}

export function describeReceiverIssue(issue: ReceiverConfigIssue): string {
  const where = [
    issue.rule === null ? null : `rule '${issue.rule}'`,
    issue.receiver === null ? null : `receiver '${issue.receiver}'`,
    issue.field === null ? null : `field '${issue.field}'`,
  ]
    .filter((s) => s !== null)
    .join(', ')
  return where.length > 0 ? `${where}: ${issue.message}` : issue.message
}

const ENV_REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\+)([^}]*))?\}/g

/**
 * Replaces `${VAR}`, `${VAR:-default}` (default when VAR is unset or empty) and `${VAR:+word}` (word
 * when VAR is set, else empty: `enabled: ${SLACK_WEBHOOK_URL:+true}`) in every string of a parsed
 * YAML value, as a POSIX shell does. A missing variable without default is reported through
 * `missing(path, name)` and replaced by ''.
 */
export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  missing: (path: string, variable: string) => void,
  path = '',
): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_match, name: string | undefined, operator: string | undefined, word: string | undefined) => {
      if (name === undefined) return '${'
      const found = env[name]
      const set = found !== undefined && found !== ''
      if (operator === ':+') return set ? (word ?? '') : ''
      if (set) return found
      if (operator === ':-') return word ?? ''
      missing(path, name)
      return ''
    })
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, missing, `${path}[${i}]`))
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, missing, path.length > 0 ? `${path}.${k}` : k)
    return out
  }
  return value
}

type Report = (field: string | null, message: string) => void

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// The structure (types, required fields, enums, unknown keys) is the schema's; this file adds what
// a schema cannot say. The same file is published for editors (README, "Config schemas").
const validator = compileConfigSchema(JSON.parse(readFileSync(new URL('../config-schemas/receivers.schema.json', import.meta.url), 'utf8')) as object)

function readUrl(fields: Record<string, unknown>, field: string, prefix: string, report: Report, fallback?: string): string {
  const value = fields[field] ?? fallback
  if (value === undefined || value === '') {
    report(`${prefix}${field}`, 'is required; give an http(s) URL')
    return ''
  }
  if (typeof value !== 'string') {
    report(`${prefix}${field}`, `${JSON.stringify(value)} is not a URL; give an http(s) URL`)
    return ''
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    report(`${prefix}${field}`, `${JSON.stringify(value)} is not a URL; give an absolute http(s) URL such as https://host/path`)
    return ''
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    report(`${prefix}${field}`, `${JSON.stringify(value)} is not http(s); only HTTP receivers are supported`)
  return value
}

function readString(fields: Record<string, unknown>, field: string, prefix: string, report: Report, required: boolean, hint: string): string | null {
  const value = fields[field]
  if (value === undefined || value === '') {
    if (required) report(`${prefix}${field}`, `is required; give ${hint}`)
    return null
  }
  if (typeof value !== 'string') {
    report(`${prefix}${field}`, `${JSON.stringify(value)} is not a string; give ${hint}`)
    return null
  }
  return value
}

function readDurationField(fields: Record<string, unknown>, field: string, prefix: string, report: Report, fallback: number): number {
  const value = fields[field]
  if (value === undefined) return fallback
  const ms = parseDuration(value)
  if (ms === null) report(`${prefix}${field}`, `${JSON.stringify(value)} is not a duration; write e.g. 500ms, 10s, 5m`)
  return ms ?? fallback
}

function readInteger(fields: Record<string, unknown>, field: string, prefix: string, report: Report, fallback: number, min: number): number {
  const value = fields[field]
  if (value === undefined) return fallback
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min) {
    report(`${prefix}${field}`, `${JSON.stringify(value)} is not valid; give an integer >= ${min}`)
    return fallback
  }
  return number
}

function readShieldAction(value: unknown): ShieldActionType | null {
  if (typeof value !== 'string') return null
  const upper = value.trim().toUpperCase().replace(/-/g, '_')
  return (SHIELD_ACTIONS as readonly string[]).includes(upper) ? (upper as ShieldActionType) : null
}

/** The seed writes `action: block`, Shield's enum `BLOCK`; both are accepted. */
export function shieldActionOf(value: unknown): ShieldActionType | null {
  return readShieldAction(value)
}

/** Reads `delivery:` settings (file defaults or a receiver's overrides) over `base`. */
function readDelivery(raw: unknown, base: DeliverySettings, prefix: string, report: Report): DeliverySettings {
  if (!isMapping(raw)) return base
  let retry = base.retry
  if (isMapping(raw.retry)) {
    const p = `${prefix}retry.`
    retry = {
      maxAttempts: readInteger(raw.retry, 'maxAttempts', p, report, base.retry.maxAttempts, 1),
      initialBackoffMs: readDurationField(raw.retry, 'initialBackoff', p, report, base.retry.initialBackoffMs),
      maxBackoffMs: readDurationField(raw.retry, 'maxBackoff', p, report, base.retry.maxBackoffMs),
    }
    if (retry.maxBackoffMs < retry.initialBackoffMs) report(`${p}maxBackoff`, `is below initialBackoff; raise it to at least ${retry.initialBackoffMs}ms`)
  }
  let circuitBreaker = base.circuitBreaker
  if (isMapping(raw.circuitBreaker)) {
    const p = `${prefix}circuitBreaker.`
    circuitBreaker = {
      failureThreshold: readInteger(raw.circuitBreaker, 'failureThreshold', p, report, base.circuitBreaker.failureThreshold, 1),
      successThreshold: readInteger(raw.circuitBreaker, 'successThreshold', p, report, base.circuitBreaker.successThreshold, 1),
      coolDownMs: readDurationField(raw.circuitBreaker, 'coolDown', p, report, base.circuitBreaker.coolDownMs),
    }
  }
  return {
    timeoutMs: readDurationField(raw, 'timeout', prefix, report, base.timeoutMs),
    retry,
    circuitBreaker,
    concurrency: readInteger(raw, 'concurrency', prefix, report, base.concurrency, 1),
  }
}

function readEnabled(raw: unknown, report: Report): boolean {
  if (raw === undefined || raw === true || raw === 'true') return true
  // '' is what `${VAR:+true}` gives when VAR is unset: the receiver is switched on by its variable.
  if (raw === false || raw === 'false' || raw === '') return false
  report('enabled', `${JSON.stringify(raw)} is not valid; write true or false, or \${SOME_URL:+true} to enable it when a variable is set`)
  return true
}

const EMAIL_ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/

function readEmailReceiver(
  config: Record<string, unknown>,
  base: { name: string; type: 'email'; delivery: DeliverySettings },
  p: string,
  report: Report,
): EmailReceiver {
  const smtpUrl =
    readString(config, 'smtpUrl', p, report, true, 'an SMTP URL such as smtp://user:pass@mail.example.com:587 or smtps://mail.example.com:465') ?? ''
  // Never echo the URL: it may hold the SMTP password.
  if (smtpUrl !== '' && !/^smtps?:\/\/[^/]+/.test(smtpUrl))
    report(`${p}smtpUrl`, 'is not an smtp:// or smtps:// URL; write smtp://host:587 (STARTTLS) or smtps://host:465 (TLS)')
  const from = readString(config, 'from', p, report, true, 'the sender address, e.g. sentinel@example.com') ?? ''
  if (from !== '' && !EMAIL_ADDRESS.test(from)) report(`${p}from`, `${JSON.stringify(from)} is not an email address`)
  const to = Array.isArray(config.to) ? config.to : typeof config.to === 'string' ? [config.to] : []
  if (to.length === 0 || to.some((t) => typeof t !== 'string' || !EMAIL_ADDRESS.test(t)))
    report(`${p}to`, 'is required: a list of recipient addresses, e.g. [oncall@example.com]')
  return { ...base, smtpUrl, from, to: to as string[] }
}

/** A receiver as the schema lets it through (before `${VAR}` substitution). */
interface ReceiverEntry {
  readonly name: string
  readonly type: ReceiverType
  readonly enabled?: boolean | string
  readonly config?: Record<string, unknown>
  readonly delivery?: Record<string, unknown>
}

function readReceiver(
  raw: ReceiverEntry,
  defaults: DeliverySettings,
  env: Readonly<Record<string, string | undefined>>,
  issues: ReceiverConfigIssue[],
): ReceiverConfig | { disabled: { name: string; type: ReceiverType } } | null {
  const name = raw.name
  const receiver = name
  const before = issues.length
  const report: Report = (field, message) => issues.push({ receiver, rule: null, field, message })
  const kind = raw.type
  const enabledRaw = substituteEnv(raw.enabled, env, (_p, variable) =>
    report('enabled', `environment variable ${variable} is not set; set it or write \${${variable}:-false}`),
  )
  if (!readEnabled(enabledRaw, report)) return issues.length === before ? { disabled: { name, type: kind } } : null

  const substituted = substituteEnv({ config: raw.config, delivery: raw.delivery }, env, (path, variable) =>
    report(path, `environment variable ${variable} is not set; set it, or give a default as \${${variable}:-value}`),
  ) as { config: unknown; delivery: unknown }
  const config = (substituted.config ?? {}) as Record<string, unknown>
  const p = 'config.'
  let delivery = readDelivery(substituted.delivery, defaults, 'delivery.', report)
  let result: ReceiverConfig
  switch (kind) {
    case 'webhook': {
      const headers: Record<string, string> = {}
      if (isMapping(config.headers)) Object.assign(headers, config.headers)
      // `timeoutMs` sits in the webhook's config as the brief of this receiver type has it.
      if (config.timeoutMs !== undefined) delivery = { ...delivery, timeoutMs: readInteger(config, 'timeoutMs', p, report, delivery.timeoutMs, 1) }
      result = {
        name: receiver,
        type: kind,
        delivery,
        url: readUrl(config, 'url', p, report),
        secret: readString(config, 'secret', p, report, false, 'the shared HMAC secret'),
        headers,
      }
      break
    }
    case 'slack':
      result = {
        name: receiver,
        type: kind,
        delivery,
        webhookUrl: readUrl(config, 'webhookUrl', p, report),
        channel: readString(config, 'channel', p, report, false, 'a channel such as "#incidents"'),
      }
      break
    case 'pagerduty': {
      // The seed's example calls it serviceKey (Events API v1's name); v2 calls it routing_key.
      const field = config.routingKey === undefined && config.serviceKey !== undefined ? 'serviceKey' : 'routingKey'
      if (config.routingKey !== undefined && config.serviceKey !== undefined) report(`${p}serviceKey`, 'duplicates routingKey; keep routingKey')
      result = {
        name: receiver,
        type: kind,
        delivery,
        routingKey: readString(config, field, p, report, true, 'the 32-character integration (routing) key of an Events API v2 integration') ?? '',
        url: readUrl(config, 'url', p, report, DEFAULT_PAGERDUTY_URL),
      }
      break
    }
    case 'incident-manager': {
      const severityMap = { ...DEFAULT_SEVERITY_MAP }
      // A variable may leave a priority empty: that severity keeps its default.
      if (isMapping(config.severityMap))
        for (const [severity, priority] of Object.entries(config.severityMap))
          if (typeof priority === 'string' && priority.length > 0) severityMap[severity as AnomalySeverity] = priority
      result = {
        name: receiver,
        type: kind,
        delivery,
        endpoint: readUrl(config, 'endpoint', p, report).replace(/\/+$/, ''),
        apiKey: readString(config, 'apiKey', p, report, true, 'the Incident Manager API key (sent as a Bearer token), e.g. ${INCIDENT_MANAGER_API_KEY}') ?? '',
        severityMap,
      }
      break
    }
    case 'shield': {
      const action = config.action === undefined ? null : readShieldAction(config.action)
      if (config.action !== undefined && action === null)
        report(`${p}action`, `${JSON.stringify(config.action)} is not valid; use one of ${SHIELD_ACTIONS.map((a) => a.toLowerCase()).join(' | ')}`)
      const durationMs = config.duration === undefined ? null : parseDuration(config.duration)
      if (config.duration !== undefined && durationMs === null)
        report(`${p}duration`, `${JSON.stringify(config.duration)} is not a duration; write e.g. 15m or 1h`)
      // The seed writes a gRPC host:port (shield.example.com:9090); say why that is refused.
      const grpcStyle = typeof config.endpoint === 'string' && config.endpoint.length > 0 && !/^https?:\/\//.test(config.endpoint)
      if (grpcStyle)
        report(
          `${p}endpoint`,
          `${JSON.stringify(config.endpoint)} is not an http(s) URL; Sentinel calls Shield's HTTP JSON gateway (Shield's gRPC EnforceAction is not supported), e.g. http://shield:8080`,
        )
      const endpoint = grpcStyle ? '' : readUrl(config, 'endpoint', p, report).replace(/\/+$/, '')
      result = { name: receiver, type: kind, delivery, endpoint, action, durationMs }
      break
    }
    case 'email':
      result = readEmailReceiver(config, { name: receiver, type: kind, delivery }, p, report)
      break
  }
  return issues.length === before ? result : null
}

function readRouting(
  raw: Partial<Record<'incident' | 'shield' | 'webhook', string[]>> | undefined,
  names: ReadonlyMap<string, ReceiverType>,
  issues: ReceiverConfigIssue[],
): ActionRouting {
  const report: Report = (field, message) => issues.push({ receiver: null, rule: null, field, message })
  // Disabled receivers are routed too: their deliveries are recorded as skipped, not silently lost.
  const all = (type: ReceiverType): string[] => [...names].filter(([, t]) => t === type).map(([n]) => n)
  const routing = { incident: all('incident-manager'), shield: all('shield'), webhook: [] as string[] }
  for (const action of ['incident', 'shield', 'webhook'] as const) {
    const list = raw?.[action]
    if (list === undefined) continue
    for (const n of list)
      if (!names.has(n))
        report(
          `routing.${action}`,
          `receiver '${n}' is not defined; define it under receivers or fix the name (known: ${[...names.keys()].join(', ') || 'none'})`,
        )
    routing[action] = list
  }
  return routing
}

/** A schema issue in the file's terms: inside a receiver it names the receiver (by name when it has one). */
function receiverIssueOf(root: Record<string, unknown>, issue: ConfigIssue): ReceiverConfigIssue {
  const [section, index, ...rest] = issue.path
  if (section === 'receivers' && typeof index === 'number') {
    const entry = (root.receivers as unknown[])[index]
    const name = isMapping(entry) && typeof entry.name === 'string' && entry.name.trim().length > 0 ? entry.name : `receivers[${index}]`
    return { receiver: name, rule: null, field: rest.length === 0 ? null : fieldPath(rest), message: issue.message }
  }
  return { receiver: null, rule: null, field: issue.path.length === 0 ? null : fieldPath(issue.path), message: issue.message }
}

export interface ParseReceiversOptions {
  readonly source?: string
  /** Variables for `${VAR}`; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

/** Parses and checks a receivers file's text; throws ReceiversConfigError listing every issue. */
export function parseReceiversConfig(text: string, options: ParseReceiversOptions = {}): ReceiversConfig {
  const source = options.source ?? '<inline>'
  const env = options.env ?? process.env
  const parsed = parseConfigText(text)
  if (parsed.issues.length > 0)
    throw new ReceiversConfigError(
      source,
      parsed.issues.map((i) => ({ receiver: null, rule: null, field: null, message: i.message })),
    )
  const root = parsed.value
  const issues: ReceiverConfigIssue[] = []
  const fileReport: Report = (field, message) => issues.push({ receiver: null, rule: null, field, message })
  // Another kind of file (or an empty one) gets one clear issue, not a list of everything it lacks.
  if (!isMapping(root) || !Array.isArray(root.receivers))
    throw new ReceiversConfigError(source, [
      {
        receiver: null,
        rule: null,
        field: 'receivers',
        message: 'is required: a list of receivers (receivers: [- name: ..., type: webhook, config: { url: ... }])',
      },
    ])
  const shapeIssues = validateConfig(validator, root)
  if (shapeIssues.length > 0)
    throw new ReceiversConfigError(
      source,
      shapeIssues.map((i) => receiverIssueOf(root, i)),
    )
  const file = root as unknown as {
    receivers: readonly ReceiverEntry[]
    routing?: Partial<Record<'incident' | 'shield' | 'webhook', string[]>>
    delivery?: unknown
    publicUrl?: string
  }

  const top = substituteEnv({ delivery: file.delivery, publicUrl: file.publicUrl }, env, (path, variable) =>
    fileReport(path, `environment variable ${variable} is not set; set it or write \${${variable}:-value}`),
  ) as {
    delivery: unknown
    publicUrl: unknown
  }
  const delivery = readDelivery(top.delivery, DEFAULT_DELIVERY, 'delivery.', fileReport)
  let publicUrl: string | null = null
  if (top.publicUrl !== undefined && top.publicUrl !== '')
    publicUrl = readUrl({ publicUrl: top.publicUrl }, 'publicUrl', '', fileReport).replace(/\/+$/, '') || null

  const receivers: ReceiverConfig[] = []
  const disabled: { name: string; type: ReceiverType }[] = []
  const names = new Map<string, ReceiverType>()
  file.receivers.forEach((raw) => {
    const read = readReceiver(raw, delivery, env, issues)
    if (names.has(raw.name))
      issues.push({
        receiver: raw.name,
        rule: null,
        field: 'name',
        message: 'is used by more than one receiver; names must be unique (rules refer to receivers by name)',
      })
    names.set(raw.name, raw.type)
    if (read === null) return
    if ('disabled' in read) disabled.push(read.disabled)
    else receivers.push(read)
  })
  const routing = readRouting(file.routing, names, issues)
  if (issues.length > 0) throw new ReceiversConfigError(source, issues)
  return { source, receivers, disabled, routing, publicUrl, delivery }
}

/** Reads a receivers file at start (synchronously: nothing runs before it is known good). */
export function loadReceiversConfig(path: string | URL, env?: Readonly<Record<string, string | undefined>>): ReceiversConfig {
  const source = path instanceof URL ? fileURLToPath(path) : path
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ReceiversConfigError(source, [{ receiver: null, rule: null, field: null, message: `cannot read the file: ${(err as Error).message}` }])
  }
  return parseReceiversConfig(text, env === undefined ? { source } : { source, env })
}

/** The default receivers file shipped with the app. */
export const DEFAULT_RECEIVERS_PATH = new URL('../receivers.default.yaml', import.meta.url)

/** A rule and its actions, as checkReferences reads them. */
export interface RuleActions {
  readonly id: string
  readonly actions: readonly AlertAction[]
}

/**
 * Every problem of the rules' actions against the receivers: unknown receiver names, actions that
 * resolve to no receiver, a shield action without an action type anywhere. Empty when all is well.
 */
export function referenceIssues(config: ReceiversConfig, rules: readonly RuleActions[]): ReceiverConfigIssue[] {
  const issues: ReceiverConfigIssue[] = []
  const known = new Map<string, ReceiverType>([
    ...config.receivers.map((r) => [r.name, r.type] as const),
    ...config.disabled.map((d) => [d.name, d.type] as const),
  ])
  const knownList = [...known.keys()].join(', ') || 'none'
  for (const rule of rules) {
    rule.actions.forEach((action, i) => {
      const report: Report = (field, message) =>
        issues.push({ receiver: null, rule: rule.id, field: `actions[${i}]${field === null ? '' : `.${field}`}`, message })
      const checkName = (name: unknown, field: string): void => {
        if (typeof name !== 'string' || name.length === 0) report(field, 'must be a receiver name')
        else if (!known.has(name)) report(field, `receiver '${name}' is not defined in ${config.source}; define it there or fix the name (known: ${knownList})`)
      }
      const c = action.config ?? {}
      switch (action.type) {
        case 'notification': {
          const receivers = c.receivers
          if (!Array.isArray(receivers) || receivers.length === 0) report('config.receivers', 'a notification action needs a non-empty list of receiver names')
          else receivers.forEach((n, j) => checkName(n, `config.receivers[${j}]`))
          break
        }
        case 'incident':
        case 'shield': {
          const routed = action.type === 'incident' ? config.routing.incident : config.routing.shield
          if (c.receiver !== undefined) checkName(c.receiver, 'config.receiver')
          else if (routed.length === 0)
            report(
              null,
              `no ${action.type === 'incident' ? 'incident-manager' : 'shield'} receiver is configured; add one to ${config.source} or name one in config.receiver`,
            )
          if (action.type === 'shield') {
            if (c.action !== undefined && shieldActionOf(c.action) === null)
              report('config.action', `${JSON.stringify(c.action)} is not valid; use one of ${SHIELD_ACTIONS.map((a) => a.toLowerCase()).join(' | ')}`)
            const targets = typeof c.receiver === 'string' ? [c.receiver] : routed
            const withoutAction = targets.filter((n) => {
              const r = config.receivers.find((x) => x.name === n)
              return r?.type === 'shield' && r.action === null
            })
            if (c.action === undefined && withoutAction.length > 0)
              report(
                'config.action',
                `is required: shield receiver(s) ${withoutAction.join(', ')} set no default action; give action: block | rate_limit | throttle | quarantine | alert_only`,
              )
          }
          break
        }
        case 'webhook':
          if (c.receiver !== undefined) checkName(c.receiver, 'config.receiver')
          else if (c.url !== undefined) {
            if (typeof c.url !== 'string' || !/^https?:\/\/.+/.test(c.url)) report('config.url', `${JSON.stringify(c.url)} is not an http(s) URL`)
          } else if (config.routing.webhook.length === 0)
            report(null, "a webhook action needs config.receiver (a webhook receiver's name) or config.url, or routing.webhook in the receivers file")
          break
        default:
          report('type', `${JSON.stringify((action as { type: unknown }).type)} is not an action type; use notification | incident | shield | webhook`)
      }
    })
  }
  return issues
}

/** Throws ReceiversConfigError when rules name receivers that do not exist (call at start). */
export function checkReferences(config: ReceiversConfig, rules: readonly RuleActions[]): void {
  const issues = referenceIssues(config, rules)
  if (issues.length > 0) throw new ReceiversConfigError(config.source, issues)
}
