/**
 * The alert rules as a versioned configuration (config-version-writer.ts): a version is a whole rules
 * file, checked as the rules file is at start (../alerting/alert-rules-config.ts, and its receivers
 * and detectors cross-checked), and its answer says per changed field whether it applies `live` or
 * is `restart-required` on this instance (../alerting/alert-rule-versions.ts).
 */
import type { FastifyBaseLogger } from 'fastify'
import {
  ALERT_RULE_VERSION_KEYS,
  type StartedRules,
  alertStateStores,
  checkRulesVersion,
  parsedRulesVersion,
  rulesFileVersion,
  ruleVersionChanges,
  rulesPendingRestart,
  startedRulesVersion,
} from '../alerting/alert-rule-versions.js'
import { type AlertRulesConfig, AlertRulesConfigError } from '../alerting/alert-rules-config.js'
import { appliedOf, storedRecord } from '../config-versions.js'
import { ReceiversConfigError } from '../delivery/receivers-config.js'
import { ConfigVersionWriter, type VersionedConfig, type WriterClock } from './config-version-writer.js'
import { ApiError } from './errors.js'

/** The rules an instance started from, and how a version's cross-references are checked. */
export interface AlertRulesVersioning {
  readonly config: AlertRulesConfig
  /** Rules naming detectors other than these are refused. */
  readonly knownDetectorIds?: readonly string[]
  /** Throws ReceiversConfigError when a rule or route names a receiver the receivers file lacks (sentinel-app.ts: checkRuleReferences). */
  readonly checkReferences?: (config: AlertRulesConfig) => void
}

/** What an instance started as `config` runs: its file's sections and the state stores its topology has. */
export function startedRules(config: AlertRulesConfig): StartedRules {
  return { config, sections: rulesFileVersion(config.document ?? {}).sections ?? {}, stores: alertStateStores(config.rules) }
}

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
  const started = startedRules(rules.config)
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
      // The version replaced, as the rules stage had it (one that does not parse: the start-up file).
      const previous = parsedRulesVersion(storedRecord(current, ALERT_RULE_VERSION_KEYS.subjectField), rules.config.knownDimensions) ?? {
        config: rules.config,
        sections: started.sections,
      }
      const changes = ruleVersionChanges(started, previous, { config: parsed, sections: next.sections ?? {} })
      const pending = rulesPendingRestart(started, parsed, next.sections ?? {})
      return { applied: appliedOf(changes), changes, applied_live: Object.keys(pending).length === 0, pending_restart: pending }
    },
  }
}

export class AlertRuleVersionWriter extends ConfigVersionWriter<AlertRulesConfig> {
  constructor(rules: AlertRulesVersioning, clock: WriterClock & { readonly startedAt: number }, topic: string, log: FastifyBaseLogger) {
    super(alertRuleVersioning(rules, clock.startedAt), clock, topic, log)
  }
}
