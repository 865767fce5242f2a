/**
 * GET /detectors (the loaded detectors file) and POST /detect (one value judged against the current
 * baseline of its key; see baseline-scoring.ts).
 *
 * /detect answers, for a key without a baseline yet or still warming up, 200 with `ready: false` and
 * the reason, not 404: the request is right and the detector exists, it just cannot judge yet (the
 * same answer as for a key with too few windows). 404 is for an unknown detector, 409 for a
 * disabled one (not running, so it has no state), 422 for strategies without a per-value baseline.
 */
import { basename } from 'node:path'
import type { FastifyPluginAsync } from 'fastify'
import type { DetectorConfig } from '../detectors-config.js'
import type { RoutesOptions } from './api-context.js'
import { hasBaseline, scoreAgainstBaseline } from './baseline-scoring.js'
import { ApiError } from './errors.js'
import { forwardContext } from './interactive-queries.js'
import { detectBody, detectorSchema, detectResponse, errors } from './schemas.js'

/** A detector as GET /detectors shows it: the common fields, then the strategy's own settings. */
export function describeDetector(detector: DetectorConfig): Record<string, unknown> {
  const { id, type, strategy, groupBy, severity, enabled, description, actions, ...rest } = detector
  const settings: Record<string, unknown> = { ...rest }
  let window: Record<string, unknown> | null = null
  if ('windowMs' in detector) {
    window = { kind: 'tumbling', size_ms: detector.windowMs, grace_ms: detector.graceMs, aggregate: 'aggregate' in detector ? detector.aggregate : null }
    delete settings.windowMs
    delete settings.graceMs
    delete settings.aggregate
  } else if (detector.strategy === 'threshold' || detector.strategy === 'consecutive') {
    window = detector.window === null ? null : { kind: 'tumbling', size_ms: detector.window.sizeMs, grace_ms: detector.window.graceMs, aggregate: detector.window.aggregate }
    delete settings.window
  } else if (detector.strategy === 'session-profile') {
    window = { kind: 'session', size_ms: detector.gapMs, grace_ms: detector.graceMs, aggregate: null }
    delete settings.gapMs
    delete settings.graceMs
  }
  delete settings.metric
  delete settings.threshold
  delete settings.significance
  return {
    id,
    type,
    strategy,
    metric: 'metric' in detector ? detector.metric : null,
    window,
    // A binomial burst's threshold is its tail probability.
    threshold: 'threshold' in detector ? detector.threshold : detector.significance,
    groupBy,
    severity,
    enabled,
    description,
    parameters: { ...settings, actions },
  }
}

export const detectorRoutes: FastifyPluginAsync<RoutesOptions> = async (app, { ctx }) => {
  const byId = new Map(ctx.detectors.detectors.map((d) => [d.id, d]))

  app.get(
    '/detectors',
    {
      schema: {
        summary: 'The loaded detectors',
        tags: ['detectors'],
        response: { 200: { type: 'object', required: ['source', 'detectors'], properties: { source: { type: 'string' }, detectors: { type: 'array', items: detectorSchema } } }, ...errors(401, 429) },
      },
    },
    // The file's name only: its directory tells a caller about the host's layout, nothing about detectors.
    async () => ({ source: basename(ctx.detectors.source), detectors: ctx.detectors.detectors.map(describeDetector) }),
  )

  app.post<{ Body: { detector_id: string; key: string; value: number; timestamp?: string } }>(
    '/detect',
    {
      schema: {
        summary: "Score one value against the current baseline of its key",
        description: "For zscore, ewma and percentile detectors: `value` stands for a window's aggregate of the detector's metric. Nothing is stored. `ready: false` (200) when the key has no baseline yet or too few windows.",
        tags: ['detectors'],
        body: detectBody,
        response: { 200: detectResponse, ...errors(400, 401, 404, 409, 422, 429, 502, 503) },
      },
    },
    async (request) => {
      const { detector_id, key, value, timestamp } = request.body
      const detector = byId.get(detector_id)
      if (detector === undefined) throw new ApiError(404, 'not_found', `no detector '${detector_id}'; GET /api/v1/detectors lists them`)
      if (!detector.enabled) throw new ApiError(409, 'detector_disabled', `detector '${detector_id}' is disabled (enabled: false), so it keeps no baseline; enable it in the detectors file`)
      if (!hasBaseline(detector)) {
        throw new ApiError(422, 'no_baseline_strategy', `detector '${detector_id}' uses strategy '${detector.strategy}', which keeps no per-value baseline to score against; /detect scores zscore, ewma and percentile detectors`)
      }
      const slot = await ctx.reads.slot(detector_id, key, forwardContext(request))
      return { ...scoreAgainstBaseline(detector, key, value, slot), ...(timestamp === undefined ? {} : { timestamp }) }
    },
  )
}
