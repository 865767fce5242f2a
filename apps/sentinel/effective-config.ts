/**
 * What GET /api/v1/config shows: the configuration this instance runs, after defaults and
 * environment overrides (seed 001's `/api/v1/config`, read only). It is for people and tools
 * checking a deployment, so nothing secret and nothing internal goes out:
 * - API keys are counted, never shown; registry credentials print as `[redacted]` already;
 * - receivers show their name and type only (their configs hold webhook URLs, routing keys, tokens);
 * - anything under a secret-looking key (secret, password, token, key, auth, url, webhook) in the
 *   rules' action configs is `[redacted]`, and userinfo in any URL is removed;
 * - file paths become file names, as in the detectors listing.
 */
import { basename } from 'node:path'
import type { AlertRulesConfig } from './alerting/index.js'
import type { ReceiversConfig } from './delivery/index.js'
import type { DetectorsConfig } from './detectors-config.js'
import type { SentinelSettings } from './sentinel-config.js'

/** What Sentinel loaded at start (sentinel-app.ts's SentinelApp). */
interface LoadedApp {
  readonly applicationId: string
  readonly settings: SentinelSettings
  readonly detectors: DetectorsConfig
  readonly rules: AlertRulesConfig
  readonly receivers: ReceiversConfig
}

export const REDACTED = '[redacted]'

const SECRET_KEY = /secret|password|passwd|token|key|auth|url|webhook|dsn|credential/i

function withoutUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i, '$1')
}

/** A JSON copy of `value` with secret-looking keys redacted (toJSON redactions applied on the way). */
export function redactSecrets(value: unknown): unknown {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return withoutUserinfo(v)
    if (Array.isArray(v)) return v.map(walk)
    if (typeof v === 'object' && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) && x !== null && typeof x !== 'object' ? REDACTED : walk(x)]))
    return v
  }
  return walk(JSON.parse(JSON.stringify(value ?? null)) as unknown)
}

const fileName = (path: string | null): string | null => (path === null ? null : basename(path))

export function effectiveConfig(app: LoadedApp): Record<string, unknown> {
  const { settings } = app
  return {
    application_id: app.applicationId,
    sentinel: {
      detectors: fileName(settings.detectorsFile) ?? `${basename(app.detectors.source)} (default)`,
      alertRules: fileName(settings.alertRulesFile) ?? `${basename(app.rules.source)} (default)`,
      receivers: fileName(settings.receiversFile) ?? `${basename(app.receivers.source)} (default)`,
      topics: settings.topics,
      input: { format: settings.inputFormat, schemaRegistryUrl: settings.schemaRegistryUrl === null ? null : withoutUserinfo(settings.schemaRegistryUrl) },
      schemaRegistry: { subjectNameStrategy: settings.schemaRegistry.subjectNameStrategy, auth: settings.schemaRegistry.auth === null ? null : REDACTED },
      eventTime: settings.eventTime,
      deduplicateHorizonMs: settings.deduplicateHorizonMs,
      api: { ...settings.api, apiKeys: { configured: settings.api.apiKeys.length } },
      otlp: settings.otlp,
    },
    detectors: { source: basename(app.detectors.source), detectors: app.detectors.detectors },
    alert_rules: redactSecrets({ source: basename(app.rules.source), rules: app.rules.rules, maintenance_windows: app.rules.maintenanceWindows }),
    receivers: [
      ...app.receivers.receivers.map((r) => ({ name: r.name, type: r.type, enabled: true })),
      ...app.receivers.disabled.map((r) => ({ name: r.name, type: r.type, enabled: false })),
    ],
  }
}
