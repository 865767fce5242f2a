/**
 * Alert rules managed over the API: /api/v1/alert-rules POST, PUT /:id, DELETE /:id, /versions,
 * /versions/:v/file, /rollback/:v, as versions in the config topic beside the detectors'
 * (../alerting/alert-rule-versions.ts has the model and what applies live), written by
 * alert-rule-version-writer.ts. A rule's id is its `alert_id`.
 */
import type { FastifyPluginAsync } from 'fastify'
import { stringify } from 'yaml'
import { parsedRulesVersion, rulesDocument, rulesPendingRestart } from '../alerting/alert-rule-versions.js'
import type { ConfigVersion } from '../config-versions.js'
import { redactSecrets } from '../effective-config.js'
import type { RoutesOptions } from './api-context.js'
import { startedRules } from '../alerting/running-rules.js'
import { outcomeSchema, versionRoutes } from './config-version-routes.js'

/**
 * A version as a rules file, to start instances from. Secret-looking values in action configs are
 * redacted as GET /config redacts them (a webhook URL's credentials, a token): fill them in again.
 */
function rulesVersionFile(version: ConfigVersion): string {
  return `# LLM-Sentinel alert rules, version ${version.version} (${version.op}${version.subject === null ? '' : ` ${version.subject}`}, ${version.created_at}); secrets redacted\n${stringify(redactSecrets(rulesDocument(version)))}`
}

const ruleOutcome = {
  ...outcomeSchema(
    { field: 'rule_id', type: ['string', 'null'], description: 'null: a section of the rules file (routing, maintenance_windows, ...)' },
    'a rule field as parsed (filters, aggregation, throttling, ...), (created) / (deleted), or a section',
    'true: every running instance applies this version without a restart (live, or live-fresh by a rebuild of its topology)',
  ),
  starts_fresh: {
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    description:
      'per rule, the fields that need another topology (a window longer than the window store keeps): every instance rebuilds it, and the rule starts fresh',
  },
}

export const alertRuleVersionRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  const writer = ctx.versions?.alertRules
  if (writer === undefined || writer === null || ctx.alertRules === null) return
  const rules = ctx.alertRules
  // The rules the running topology was built from: they change with a rebuild (running-rules.ts).
  const started = () => startedRules(rules.config)
  versionRoutes(app, writer, {
    base: '/alert-rules',
    tag: 'alert rules',
    item: 'alert rule',
    outcomeSchema: ruleOutcome,
    file: rulesVersionFile,
    appliedVersion: (current) => parsedRulesVersion(current, rules.config.knownDimensions)?.version ?? 0,
    pendingRestart: (state) => {
      const parsed = parsedRulesVersion(state.currentRecord, rules.config.knownDimensions)
      return parsed === null ? {} : rulesPendingRestart(started(), parsed.config)
    },
  })
}
