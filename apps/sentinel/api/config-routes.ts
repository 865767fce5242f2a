/**
 * GET /api/v1/config: the effective configuration of this instance, secrets redacted (built by
 * ../effective-config.ts and handed to buildSentinelApi).
 *
 * PUT /api/v1/config (seed 001): the live parts of the configuration, as new versions in the config
 * topic (config-version-writer.ts), applied on every instance without a restart where they can be:
 * - `detectors`: the whole detector list as in the detectors file: a list, `{ detectors: [...] }`
 *   (the file) or `{ items: [...] }` (the seed's configuration service);
 * - `alert_rules` (or the seed's `alerts`): the whole rules file (`rules:`, `routing:`,
 *   `maintenance_windows:`, ...).
 * A partial body changes only the parts it carries; each part it carries replaces that part whole
 * (a new version of it; one equal to the version in force writes nothing). The parts read at start
 * (`application_id`, `sentinel`, `receivers`) are refused with 409 `restart-required`, naming them,
 * unless they equal what GET shows (so a GET body can be sent back with its live parts edited), and
 * nothing is written then. Every part is checked before anything is written. The answer never
 * echoes the body: per part, the version written and what changed (field names only).
 */
import type { FastifyPluginAsync } from 'fastify'
import { rulesFileVersion } from '../alerting/alert-rule-versions.js'
import { type ConfigVersion, sameContent } from '../config-versions.js'
import type { RoutesOptions } from './api-context.js'
import type { ConfigVersionWriter } from './config-version-writer.js'
import { ApiError } from './errors.js'
import { errors } from './schemas.js'

/** Parts of GET /config that are read at start: a PUT may only repeat them. */
const START_PARTS = ['application_id', 'sentinel', 'receivers'] as const
const LIVE_PARTS = ['detectors', 'alert_rules', 'alerts'] as const

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

type Content = Pick<ConfigVersion, 'definitions' | 'sections'>

/** The detectors part as a version's content; null when it is no detector list. */
function detectorsContent(part: unknown): Content | null {
  const list = Array.isArray(part) ? part : isMapping(part) ? (part.detectors ?? part.items) : undefined
  if (!Array.isArray(list) || !list.every(isMapping)) return null
  return { definitions: list, sections: null }
}

export const configRoutes: FastifyPluginAsync<RoutesOptions & { readonly config: Readonly<Record<string, unknown>> }> = async (app, { ctx, config }) => {
  app.get(
    '/config',
    {
      schema: {
        summary: 'The effective configuration at start (defaults and environment applied; secrets redacted)',
        tags: ['configuration'],
        response: { 200: { type: 'object', additionalProperties: true }, ...errors(401, 429) },
      },
    },
    async () => config,
  )

  const versions = ctx.versions
  if (versions === null) return
  app.put<{ Body: Record<string, unknown> }>(
    '/config',
    {
      schema: {
        summary: 'Change the live configuration (detectors, alert rules) as new versions; parts read at start are refused as restart-required',
        tags: ['configuration'],
        body: {
          type: 'object',
          additionalProperties: true,
          description: '{ detectors?: [...] | { detectors | items: [...] }, alert_rules?: { rules: [...], routing?, maintenance_windows?, ... } }',
        },
        response: { 200: { type: 'object', additionalProperties: true }, ...errors(400, 401, 409, 422, 429, 503) },
      },
    },
    async (request) => {
      const body = request.body
      const unknown = Object.keys(body).filter((k) => !(START_PARTS as readonly string[]).includes(k) && !(LIVE_PARTS as readonly string[]).includes(k))
      if (unknown.length > 0)
        throw new ApiError(400, 'unknown_part', `${unknown.join(', ')}: not a part of the configuration; send detectors and/or alert_rules (the live parts)`, {
          unknown,
        })
      const restart = START_PARTS.filter((k) => k in body && !same(body[k], config[k]))
      if (restart.length > 0)
        throw new ApiError(
          409,
          'restart-required',
          `${restart.join(', ')} ${restart.length === 1 ? 'is' : 'are'} read at start: change the configuration file or environment and restart the instances (nothing was written)`,
          { restart_required: restart },
        )
      if ('alert_rules' in body && 'alerts' in body) throw new ApiError(400, 'ambiguous_part', 'send alert_rules or alerts (its alias from seed 001), not both')
      const rulesPart = body.alert_rules ?? body.alerts

      const plan: { part: string; writer: ConfigVersionWriter<unknown>; content: Content }[] = []
      if ('detectors' in body && !same(body.detectors, config.detectors)) {
        const content = detectorsContent(body.detectors)
        if (content === null)
          throw new ApiError(400, 'invalid_part', 'detectors: give the detector list as in the detectors file: [...], { detectors: [...] } or { items: [...] }')
        plan.push({ part: 'detectors', writer: versions.detectors as ConfigVersionWriter<unknown>, content })
      }
      if (rulesPart !== undefined && !same(rulesPart, config.alert_rules)) {
        if (versions.alertRules === null)
          throw new ApiError(409, 'restart-required', 'alert_rules are not versioned on this instance: change the rules file and restart', {
            restart_required: ['alert_rules'],
          })
        if (!isMapping(rulesPart))
          throw new ApiError(
            400,
            'invalid_part',
            'alert_rules: give the rules file as an object: { rules: [...], routing?: [...], maintenance_windows?: [...] }',
          )
        plan.push({ part: 'alert_rules', writer: versions.alertRules as ConfigVersionWriter<unknown>, content: rulesFileVersion(rulesPart) })
      }

      // Every part is checked before any is written: a bad one leaves all as they are.
      const states = await Promise.all(plan.map((p) => p.writer.state()))
      plan.forEach((p, i) => p.writer.kind.check({ ...p.content, version: p.writer.nextNumber(states[i]!) }))
      const answer: Record<string, unknown> = { detectors: { unchanged: true }, alert_rules: { unchanged: true } }
      const waiting: string[] = []
      for (const [i, p] of plan.entries()) {
        const state = states[i]!
        if (sameContent(state.current, p.content)) {
          answer[p.part] = { unchanged: true, version: state.current.version }
          continue
        }
        const written = await p.writer.commit(state, 'config', null, p.content.definitions, null, p.content.sections)
        if (written.applied === 'restart-required') waiting.push(p.part)
        answer[p.part] = written
      }
      // The parts written whose changes (some of them) wait for a restart: `changes` and `pending_restart` of each say which.
      return { ...answer, restart_required: waiting }
    },
  )
}
