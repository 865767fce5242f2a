/**
 * GET /detectors (the loaded detectors file) and POST /detect (a data point judged against the
 * current baselines: the `{metrics, context}` body and `{is_anomaly, score, explanation}`
 * answer, or one detector's value; see baseline-scoring.ts).
 *
 * /detect answers, for a key without a baseline yet or still warming up, 200 with `ready: false` and
 * the reason, not 404: the request is right and the detector exists, it just cannot judge yet (the
 * same answer as for a key with too few windows). 404 is for an unknown detector, 409 for a
 * disabled one (not running, so it has no state), 422 for strategies without a per-value baseline.
 */
import { basename } from 'node:path'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { DetectorConfig } from '../detectors-config.js'
import { type DetectorGroupBy, type GroupBy, isShortGroupBy } from '../metrics.js'
import type { RoutesOptions } from './api-context.js'
import { type BaselineDetectorConfig, hasBaseline, scoreAgainstBaseline } from './baseline-scoring.js'
import { ApiError } from './errors.js'
import { DetectorsConfigError, parseDetectorDefinition } from '../detectors-config.js'
import { dryRunDetector } from '../detector-dry-run.js'
import { type TelemetryEvent, validateTelemetryEvent } from '../../../schemas/telemetry/index.js'
import { forwardContext } from './interactive-queries.js'
import {
  anomalyEventSchema,
  detectBody,
  detectorIdParams,
  detectorSchema,
  detectResponse,
  errors,
  metricsDetectBody,
  metricsDetectResponse,
} from './schemas.js'

interface DetectBody {
  readonly detector_id: string
  readonly key: string
  readonly value: number
  readonly timestamp?: string
}

interface MetricsDetectBody {
  readonly metrics: Readonly<Record<string, number>>
  readonly context?: {
    readonly application_id?: string
    readonly model?: string
    readonly user_id?: string
    readonly tenant_id?: string
    readonly detector_id?: string
    readonly timestamp?: string
  }
}

interface TestBody {
  readonly detector?: Record<string, unknown>
  readonly events?: readonly unknown[]
  readonly limit?: number
}

/** Most events one dry run judges: it runs on the request's thread, so it is kept to well under a second. */
export const MAX_TEST_EVENTS = 10_000

/** A definition refused: 422 with every issue as {field, message} (the message says the fix). */
export function definitionRefused(err: DetectorsConfigError): ApiError {
  return new ApiError(
    422,
    'invalid_detector',
    `the detector definition is invalid: ${err.issues.map((i) => `${i.field ?? '(detector)'}: ${i.message}`).join('; ')}`,
    err.issues.map((i) => ({ field: i.field, message: i.message })),
  )
}

const rounded = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : String(Math.round(x * 100) / 100))

/** The metrics the shipped detectors read that derive from the ones a caller naturally has. */
function withDerivedMetrics(given: Readonly<Record<string, number>>): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = { ...given }
  const latency = given.latency_ms
  if (latency !== undefined && latency > 0) {
    out.success_latency_ms ??= latency
    out.log_latency_ms ??= Math.log(latency)
  }
  const tokens = given.total_tokens
  if (tokens !== undefined && tokens > 0) out.log_total_tokens ??= Math.log(tokens)
  return out
}

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
    window =
      detector.window === null
        ? null
        : { kind: 'tumbling', size_ms: detector.window.sizeMs, grace_ms: detector.window.graceMs, aggregate: detector.window.aggregate }
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
  // The detectors this instance runs now: a rebuild on a new version replaces them.
  const byId = { get: (id: string) => ctx.detectors.detectors.find((d) => d.id === id) }

  app.get(
    '/detectors',
    {
      schema: {
        summary: 'The loaded detectors',
        tags: ['detectors'],
        response: {
          200: {
            type: 'object',
            required: ['source', 'detectors'],
            properties: { source: { type: 'string' }, detectors: { type: 'array', items: detectorSchema }, feedback_partial: { type: 'boolean' } },
          },
          ...errors(401, 429),
        },
      },
    },
    // The file's name only: its directory tells a caller about the host's layout, nothing about detectors.
    async (request) => {
      // Feedback figures are extra: a listing during a rebalance still lists the detectors.
      const feedback = await ctx.falsePositiveRates.snapshot(forwardContext(request)).catch(() => null)
      return {
        source: basename(ctx.detectors.source),
        detectors: ctx.detectors.detectors.map((d) => {
          const f = feedback?.byDetector.get(d.id)
          return { ...describeDetector(d), false_positive_rate: f?.rate ?? null, feedback_count: f?.labelled ?? 0 }
        }),
        feedback_partial: feedback === null || feedback.partial,
      }
    },
  )

  app.post<{ Body: DetectBody | MetricsDetectBody }>(
    '/detect',
    {
      schema: {
        summary: 'Score a data point against the current baselines',
        description:
          "Two bodies. `{metrics, context}`: every enabled zscore, ewma or percentile detector whose metric is in `metrics` and whose groupBy key is in `context` judges its value; the answer is `{is_anomaly, score, explanation, results[]}`. Or `{detector_id, key, value}`: one detector, one value, the verdict alone. A value stands for a window's aggregate of the detector's metric. Nothing is stored. `ready: false` when the key has no baseline yet or too few windows.",
        tags: ['detectors'],
        body: { oneOf: [detectBody, metricsDetectBody] },
        response: { 200: { anyOf: [metricsDetectResponse, detectResponse] }, ...errors(400, 401, 404, 409, 422, 429, 502, 503) },
      },
    },
    async (request) => {
      const body = request.body
      if ('metrics' in body) return detectMetrics(body, request)
      const { detector_id, key, value, timestamp } = body
      const detector = byId.get(detector_id)
      if (detector === undefined) throw new ApiError(404, 'not_found', `no detector '${detector_id}'; GET /api/v1/detectors lists them`)
      if (!detector.enabled)
        throw new ApiError(
          409,
          'detector_disabled',
          `detector '${detector_id}' is disabled (enabled: false), so it keeps no baseline; enable it in the detectors file`,
        )
      if (!hasBaseline(detector)) {
        throw new ApiError(
          422,
          'no_baseline_strategy',
          `detector '${detector_id}' uses strategy '${detector.strategy}', which keeps no per-value baseline to score against; /detect scores zscore, ewma and percentile detectors`,
        )
      }
      const slot = await ctx.reads.slot(detector, key, forwardContext(request))
      return { ...scoreAgainstBaseline(detector, key, value, slot), ...(timestamp === undefined ? {} : { timestamp }) }
    },
  )

  app.post<{ Params: { id: string }; Body: TestBody }>(
    '/detectors/:id/test',
    {
      schema: {
        summary: 'Dry-run a detector on a sample of events',
        description:
          "Runs the detector `:id` (or the definition in `detector`, shaped like one entry of the detectors file, for a detector not yet created or an edit not yet applied) on `events` (TelemetryEvents), or without them on the newest `limit` events this instance wrote (default and at most 10,000). The run is the app's own detection topology for that one detector, in process and from empty state, in event-time order: the answer lists what it would flag. Nothing is written, stored or alerted. Windows still open at the sample's last event are not judged, and detectors that need history say nothing until the sample gave it.",
        tags: ['detectors'],
        params: detectorIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            detector: { type: 'object', additionalProperties: true, description: 'a definition as in the detectors file; its id, if given, must be :id' },
            events: { type: 'array', maxItems: MAX_TEST_EVENTS, items: {}, description: 'TelemetryEvents; absent: the newest events this instance wrote' },
            limit: { type: 'integer', minimum: 1, maximum: MAX_TEST_EVENTS, description: 'how many of the newest events, without `events`' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['detector', 'sample', 'events', 'flagged', 'anomalies', 'dry_run'],
            properties: {
              detector: detectorSchema,
              sample: { type: 'string', enum: ['given', 'recent'] },
              events: { type: 'integer' },
              flagged: { type: 'integer' },
              anomalies: { type: 'array', items: anomalyEventSchema },
              dry_run: { type: 'boolean', description: 'always true: nothing was written or alerted' },
            },
          },
          ...errors(400, 401, 404, 422, 429),
        },
      },
    },
    async (request) => {
      const { id } = request.params
      const { detector: given, events: posted, limit } = request.body ?? {}
      let detector: DetectorConfig
      if (given !== undefined) {
        if (given.id !== undefined && given.id !== id)
          throw new ApiError(400, 'id_mismatch', `the definition's id '${String(given.id)}' is not the path's '${id}'; leave id out or make them equal`)
        try {
          detector = parseDetectorDefinition({ ...given, id })
        } catch (err) {
          if (err instanceof DetectorsConfigError) throw definitionRefused(err)
          throw err
        }
      } else {
        const loaded = byId.get(id)
        if (loaded === undefined)
          throw new ApiError(404, 'not_found', `no detector '${id}'; GET /api/v1/detectors lists them, or post its definition in 'detector' to test a new one`)
        detector = loaded
      }
      let sample: TelemetryEvent[]
      if (posted !== undefined) {
        sample = []
        const invalid: { index: number; issues: unknown }[] = []
        posted.forEach((raw, index) => {
          const checked = validateTelemetryEvent(raw)
          if (checked.ok) sample.push(checked.event)
          else if (invalid.length < 20) invalid.push({ index, issues: checked.issues })
        })
        if (invalid.length > 0)
          throw new ApiError(
            400,
            'invalid_events',
            `${posted.length - sample.length} of the posted events are not valid TelemetryEvents (the first ${invalid.length} in details); fix or drop them`,
            invalid,
          )
      } else {
        sample = ctx.recentTelemetry.latest(limit ?? MAX_TEST_EVENTS)
      }
      const run = await dryRunDetector(detector, sample)
      return {
        detector: describeDetector(detector),
        sample: posted === undefined ? 'recent' : 'given',
        events: run.events,
        flagged: run.anomalies.length,
        anomalies: run.anomalies,
        dry_run: true,
      }
    },
  )

  async function detectMetrics(body: MetricsDetectBody, request: FastifyRequest): Promise<Record<string, unknown>> {
    const context = body.context ?? {}
    const metrics = withDerivedMetrics(body.metrics)
    // Seed 002's context names no host, region, API key or other field: detectors keyed by those are not judged here.
    const shortKeys: Record<GroupBy, string | undefined> = {
      application: context.application_id,
      model: context.model,
      user: context.user_id,
      tenant: context.tenant_id,
      host: undefined,
      region: undefined,
      api_key: undefined,
    }
    const keys = (groupBy: DetectorGroupBy): string | undefined => (isShortGroupBy(groupBy) ? shortKeys[groupBy] : undefined)
    if (context.detector_id !== undefined) {
      const named = byId.get(context.detector_id)
      if (named === undefined) throw new ApiError(404, 'not_found', `no detector '${context.detector_id}'; GET /api/v1/detectors lists them`)
      if (!hasBaseline(named) || !named.enabled)
        throw new ApiError(
          422,
          'no_baseline_strategy',
          `detector '${named.id}' is disabled or keeps no per-value baseline; /detect scores enabled zscore, ewma and percentile detectors`,
        )
    }
    const judging = ctx.detectors.detectors.filter(
      (d): d is BaselineDetectorConfig =>
        d.enabled &&
        hasBaseline(d) &&
        (context.detector_id === undefined || d.id === context.detector_id) &&
        metrics[d.metric] !== undefined &&
        keys(d.groupBy) !== undefined,
    )
    if (judging.length === 0) {
      throw new ApiError(
        422,
        'nothing_to_judge',
        `no enabled zscore, ewma or percentile detector has its metric in 'metrics' and its key in 'context'; detectors judge ${[...new Set(ctx.detectors.detectors.filter(hasBaseline).map((d) => `${d.metric} by ${d.groupBy}`))].join(', ')}`,
      )
    }
    const results = await Promise.all(
      judging.map(async (d) => {
        const key = keys(d.groupBy)!
        const slot = await ctx.reads.slot(d, key, forwardContext(request))
        return scoreAgainstBaseline(d, key, metrics[d.metric]!, slot)
      }),
    )
    const anomalous = results.filter((r) => r.anomalous)
    const ready = results.filter((r) => r.ready)
    const explanation =
      anomalous.length > 0
        ? anomalous
            .map(
              (r) =>
                `${r.detector_id}: ${r.key} ${r.value} against baseline mean ${rounded(r.baseline?.mean)} (deviation ${rounded(r.deviation)}, threshold ${rounded(r.threshold)})`,
            )
            .join('; ')
        : ready.length > 0
          ? `within the baselines of ${ready.map((r) => r.detector_id).join(', ')}`
          : `no baseline ready yet: ${results.map((r) => `${r.detector_id}: ${r.reason ?? 'not ready'}`).join('; ')}`
    return { is_anomaly: anomalous.length > 0, score: Math.max(0, ...results.map((r) => r.score)), explanation, results }
  }
}
