/**
 * The alert rules as a versioned configuration (config-version-writer.ts): a version is a whole rules
 * file, checked as the rules file is at start (../alerting/alert-rules-config.ts, and its receivers
 * and detectors cross-checked), and its answer says per changed field whether it applies `live`,
 * `live-fresh` or is `restart-required` on this instance (../alerting/alert-rule-versions.ts).
 */
import type { FastifyBaseLogger } from 'fastify'
import {
  ALERT_RULE_VERSION_KEYS,
  checkRulesVersion,
  parsedRulesVersion,
  ruleVersionChanges,
  rulesPendingRestart,
  startedRulesVersion,
} from '../alerting/alert-rule-versions.js'
import { type AlertRulesConfig, AlertRulesConfigError } from '../alerting/alert-rules-config.js'
import { appliedOf, storedRecord } from '../config-versions.js'
import { ReceiversConfigError } from '../delivery/receivers-config.js'
import { ConfigVersionWriter, type VersionedConfig, type WriterClock } from './config-version-writer.js'
import { ApiError } from './errors.js'
import { startedRules } from '../alerting/running-rules.js'

/** The rules an instance started from, and how a version's cross-references are checked. */
export interface AlertRulesVersioning {
  /** The rules the running topology was built from (the file, until a rebuild: running-rules.ts). */
  readonly config: AlertRulesConfig
  /** Whether instances rebuild their topology for a version they cannot take live (Kafka); else such changes are `restart-required`. */
  readonly rebuilds?: boolean
  /** Rules naming detectors other than these are refused. */
  readonly knownDetectorIds?: readonly string[]
  /** Throws ReceiversConfigError when a rule or route names a receiver the receivers file lacks (sentinel-app.ts: checkRuleReferences). */
  readonly checkReferences?: (config: AlertRulesConfig) => void
}

export { startedRules }

function rulesRefused(err: AlertRulesConfigError | ReceiversConfigError): ApiError {
  const issues = err.issues.map((i) => ({ rule: i.rule, field: i.field, message: i.message }))
  return new ApiError(
    422,
    'invalid_alert_rules',
    `the alert rules are invalid: ${issues.map((i) => `${[i.rule === null ? null : `rule '${i.rule}'`, i.field].filter((x) => x !== null).join(' ') || '(file)'}: ${i.message}`).join('; ')}`,
    issues,
  )
}

export function alertRuleVersioning(rules: AlertRulesVersioning, startedAt: number): VersionedConfig<AlertRulesConfig> {
  return {
    keys: ALERT_RULE_VERSION_KEYS,
    itemsField: 'rules',
    idField: 'alert_id',
    listPath: '/api/v1/alert-rules/versions',
    started: startedRulesVersion(rules.config.document ?? {}, startedAt),
    check(version) {
      try {
        const config = checkRulesVersion(version, { knownDetectorIds: rules.knownDetectorIds, knownDimensions: rules.config.knownDimensions })
        rules.checkReferences?.(config)
        return config
      } catch (err) {
        if (err instanceof AlertRulesConfigError || err instanceof ReceiversConfigError) throw rulesRefused(err)
        throw err
      }
    },
    outcome(current, next, parsed) {
      const started = startedRules(rules.config)
      // The version replaced, as the rules stage had it (one that does not parse: the start-up file).
      const previous = parsedRulesVersion(storedRecord(current, ALERT_RULE_VERSION_KEYS.subjectField), rules.config.knownDimensions) ?? {
        config: rules.config,
        sections: started.sections,
      }
      const rebuilds = rules.rebuilds === true
      const changes = ruleVersionChanges(started, previous, { config: parsed, sections: next.sections ?? {} }, rebuilds ? 'live-fresh' : 'restart-required')
      const pending = rulesPendingRestart(started, parsed)
      return {
        applied: appliedOf(changes),
        changes,
        applied_live: rebuilds || Object.keys(pending).length === 0,
        pending_restart: rebuilds ? {} : pending,
        ...(rebuilds ? { starts_fresh: pending } : {}),
      }
    },
  }
}

export class AlertRuleVersionWriter extends ConfigVersionWriter<AlertRulesConfig> {
  constructor(rules: AlertRulesVersioning, clock: WriterClock & { readonly startedAt: number }, topic: string, log: FastifyBaseLogger) {
    super(alertRuleVersioning(rules, clock.startedAt), clock, topic, log)
  }
}
