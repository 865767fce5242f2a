/**
 * The detectors file (YAML, seed 001's shape), read once at start. Mistakes are reported together,
 * each naming the detector, the field and the fix, so a bad file fails the start and never a
 * detector at run time. Two rounds: the file's shape is checked first against its JSON Schema
 * (config-schemas/detectors.schema.json, published for editors; schemas/config/config-reader.ts):
 * required fields, the common fields' types and allowed values, actions, and the strategy
 * parameters that take fixed values (condition, aggregate, direction, cohort, features,
 * stdConfidence, early's shape). Then this file reads each strategy's parameters: their bounds and
 * defaults, durations, metrics, which parameters a strategy takes, and cross-field rules.
 *
 * Accepted shape: `detectors:` as a list (or the seed's `{ version, items: [...] }`); per detector the
 * fields at its top level or, as in the seed's examples, under `config:` (not both). `value` is
 * accepted for `threshold` and `condition: greater_than` etc. for the comparison, as the seed writes
 * them. Actions: `- alert: <receiver>` (with optional `severity`), `- shield: block | rate_limit` (with
 * its gate, optional `minSeverity`, `minScore`), `- log`; what they do: detector-actions.ts. The
 * receiver names are checked against the receivers file at start (sentinel-app.ts), not here.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Comparison } from '../../operators/detectors/streak.js'
import { closestName } from '../../schemas/config/closest-name.js'
import { type ConfigIssue, compileConfigSchema, fieldPath, parseConfigText, validateConfig } from '../../schemas/config/config-reader.js'
import type { Direction } from '../../operators/detectors/direction.js'
import type { AnomalySeverity } from '../../operators/detectors/severity.js'
import { SESSION_FEATURES, type SessionFeature } from '../../operators/detectors/session-features.js'
import type { WindowAggregate } from '../../operators/dsl/window-metric.js'
import { type DetectorGroupBy, GROUP_BY, type GroupBy, type MetricRef, TELEMETRY_METRICS, isMetricRef, isShortGroupBy } from './metrics.js'
import { readFieldPath } from './telemetry-field-path.js'

export const DETECTOR_TYPES = ['statistical', 'rule', 'behavioral'] as const
export type DetectorKind = (typeof DETECTOR_TYPES)[number]
export const STRATEGIES = [
  'zscore',
  'threshold',
  'consecutive',
  'session-profile',
  'ewma',
  'percentile',
  'ratio',
  'sliding-sum',
  'outlier-streak',
  'cusum',
  'binomial-burst',
  'record-cusum',
] as const
export type Strategy = (typeof STRATEGIES)[number]

/** Which `type` each strategy belongs to (a mismatch is almost always a copy-paste slip). */
const STRATEGY_TYPES: Record<Strategy, readonly DetectorKind[]> = {
  zscore: ['statistical'],
  cusum: ['statistical'],
  ewma: ['statistical'],
  percentile: ['statistical'],
  threshold: ['rule'],
  consecutive: ['rule'],
  ratio: ['rule', 'statistical'],
  'session-profile': ['behavioral'],
  'sliding-sum': ['statistical', 'behavioral'],
  'outlier-streak': ['statistical', 'behavioral'],
  'binomial-burst': ['statistical'],
  'record-cusum': ['statistical'],
}

const CONDITIONS: Record<string, Comparison> = {
  greater_than: '>',
  greater_or_equal: '>=',
  less_than: '<',
  less_or_equal: '<=',
  equal: '==',
  '>': '>',
  '>=': '>=',
  '<': '<',
  '<=': '<=',
  '==': '==',
}

export type DetectorAction =
  | { readonly kind: 'alert'; readonly name: string; readonly severity: AnomalySeverity | null }
  | { readonly kind: 'shield'; readonly action: 'block' | 'rate_limit'; readonly gate: ShieldGate }
  | { readonly kind: 'log' }

/**
 * When a detector's shield action may act on its own (detector-actions.ts): an anomaly at least
 * this severe and scoring at least this much, about a named entity. Anything less is withheld.
 */
export interface ShieldGate {
  readonly minSeverity: 'warning' | 'critical'
  readonly minScore: number
}

/** Conservative: the default Shield block rule's bar (critical, score 0.75 = 3x the detector's bound). */
export const DEFAULT_SHIELD_GATE: ShieldGate = { minSeverity: 'critical', minScore: 0.75 }

interface DetectorBase {
  readonly id: string
  readonly type: DetectorKind
  /** A short name (application, model, ...) or a TelemetryEvent field path (`source.host`, `metadata.tags.region`). */
  readonly groupBy: DetectorGroupBy
  /**
   * Records without the group's value: `skip` leaves them out of the detector, `group` judges them
   * together under the key `(missing)`. Default: `group` for a field path, `skip` for a short name
   * (as before field paths). Either way they are counted in `sentinel_group_field_missing_total`.
   */
  readonly missingGroup: MissingGroup
  /** Severity of rule anomalies (graded detectors derive theirs from the deviation); default warning. */
  readonly severity: AnomalySeverity
  /**
   * `severity` when the file gives it: then no anomaly of the detector is graded below it (a graded
   * detector's deviation can only raise it). Absent or null: not given.
   */
  readonly minSeverity?: AnomalySeverity | null
  readonly actions: readonly DetectorAction[]
  readonly enabled: boolean
  readonly description: string | null
}

interface WindowedBase extends DetectorBase {
  readonly metric: MetricRef
  readonly windowMs: number
  readonly graceMs: number
  readonly aggregate: WindowAggregate
}

export interface ZScoreDetectorConfig extends WindowedBase {
  readonly strategy: 'zscore'
  readonly threshold: number
  readonly direction: Direction
  /** Rolling baseline of this many windows. */
  readonly baselineWindows: number
  readonly minHistory: number
  /** Judge against this upper confidence bound of the baseline's std; null: the sample std. */
  readonly stdConfidence: number | null
}

/** Windows' residuals against a warm-up baseline, accumulated by a CUSUM (operators/dsl/cusum-windows.ts). */
export interface CusumDetectorConfig extends WindowedBase {
  readonly strategy: 'cusum'
  /** Decision threshold h, in baseline stds. */
  readonly threshold: number
  /** Allowance k per window, in baseline stds. */
  readonly drift: number
  readonly clip: number
  readonly warmupWindows: number
  /** Learning weight after the warm-up, while no change builds (0: frozen). */
  readonly alpha: number
  readonly direction: Direction
  readonly minStd: number
  /** Judge against this upper confidence bound of the warm-up std; null: the sample std. */
  readonly stdConfidence: number | null
}

export interface EwmaDetectorConfig extends WindowedBase {
  readonly strategy: 'ewma'
  /** Relative deviation (0.5 = 50%). */
  readonly threshold: number
  readonly alpha: number
  readonly direction: Direction
  readonly minHistory: number
}

export interface PercentileDetectorConfig extends Omit<WindowedBase, 'aggregate'> {
  readonly strategy: 'percentile'
  /** In (0, 1]. */
  readonly percentile: number
  /** Absolute bound on the window's percentile, and/or a multiple (> 1) of its baseline. */
  readonly threshold: number | null
  readonly factor: number | null
  readonly minHistory: number
}

export interface RuleDetectorConfig extends DetectorBase {
  readonly strategy: 'threshold' | 'consecutive'
  readonly metric: MetricRef
  readonly comparison: Comparison
  readonly threshold: number
  /** Breaches in a row that make an anomaly (1 for a plain threshold). */
  readonly consecutive: number
  /** With a window, the rule judges each window's aggregate; without, each event. */
  readonly window: { readonly sizeMs: number; readonly graceMs: number; readonly aggregate: WindowAggregate } | null
}

export interface RatioDetectorConfig extends DetectorBase {
  readonly strategy: 'ratio'
  readonly metric: MetricRef
  readonly denominator: MetricRef
  readonly windowMs: number
  readonly graceMs: number
  readonly threshold: number
  readonly minVolume: number
}

export interface SessionProfileDetectorConfig extends DetectorBase {
  readonly strategy: 'session-profile'
  /** Inactivity that closes a session. */
  readonly gapMs: number
  readonly graceMs: number
  readonly threshold: number
  readonly minSessions: number
  readonly features: readonly SessionFeature[]
  /** Judge sessions while they are open too, once they have this much evidence; null: at close only. */
  readonly early: { readonly minRecords: number; readonly minDurationMs: number; readonly maxDurationMs?: number } | null
}

export interface SlidingSumDetectorConfig extends DetectorBase {
  readonly strategy: 'sliding-sum'
  /** Summed over the sliding window (request_count counts requests). */
  readonly metric: MetricRef
  readonly windowMs: number
  /** Always 0: judged at each record, there is no window close to wait for. */
  readonly graceMs: number
  readonly bucketMs: number
  /** The least bound for any key: smaller sums are never anomalous. */
  readonly minimum: number
  /** Deviations of the log window sum above the key's (or cohort's) mean that are anomalous. */
  readonly threshold: number
  /** Floor of the log sum's standard deviation. */
  readonly minLogStd: number
  readonly alpha: number
  readonly minHistory: number
  /** The peers a key without history is compared with (e.g. the users of its application); null: none. */
  readonly cohort: GroupBy | null
  /** The bound when neither the key nor its cohort has history. */
  readonly coldStart: number
}

export interface OutlierStreakDetectorConfig extends DetectorBase {
  readonly strategy: 'outlier-streak'
  readonly metric: MetricRef
  /** Always 0 (judged per record); kept so every metric detector has a window shape. */
  readonly windowMs: number
  readonly graceMs: number
  /** z of the log value above the key's (or cohort's) mean. */
  readonly threshold: number
  readonly minLogStd: number
  /** Values below it are never outliers. */
  readonly minimum: number
  /** Outliers that make an anomaly... */
  readonly consecutive: number
  /** ...among the key's last `within` records (`consecutive`: in a row). */
  readonly within: number
  readonly alpha: number
  readonly minHistory: number
  readonly cohort: GroupBy | null
  readonly cohortMinHistory: number
}

/** Failures among a sliding window's calls against the key's long-run rate (operators/dsl/binomial-burst.ts). */
export interface BinomialBurstDetectorConfig extends DetectorBase {
  readonly strategy: 'binomial-burst'
  /** 1 on a failed call (error). */
  readonly metric: MetricRef
  /** 1 on every call outcome (response_count). */
  readonly denominator: MetricRef
  readonly windowMs: number
  /** Always 0: judged at each failure, there is no window close to wait for. */
  readonly graceMs: number
  readonly bucketMs: number
  /** Tail probability at or below which a window is a burst. */
  readonly significance: number
  readonly minFailures: number
  readonly priorCalls: number
  readonly memoryCalls: number
  readonly coldStartRate: number
}

/** Each record's log value against the key's profile, accumulated by a CUSUM (operators/dsl/record-cusum.ts). */
export interface RecordCusumDetectorConfig extends DetectorBase {
  readonly strategy: 'record-cusum'
  readonly metric: MetricRef
  /** Always 0 (judged per record); kept so every metric detector has a window shape. */
  readonly windowMs: number
  readonly graceMs: number
  /** Decision threshold h and allowance k, in profile stds. */
  readonly threshold: number
  readonly drift: number
  readonly clip: number
  readonly minLogStd: number
  readonly alpha: number
  readonly minHistory: number
  /** Judge against this upper confidence bound of the profile's std (null: the sample std). */
  readonly stdConfidence: number | null
}

export type DetectorConfig =
  | RecordCusumDetectorConfig
  | BinomialBurstDetectorConfig
  | CusumDetectorConfig
  | OutlierStreakDetectorConfig
  | SlidingSumDetectorConfig
  | ZScoreDetectorConfig
  | EwmaDetectorConfig
  | PercentileDetectorConfig
  | RuleDetectorConfig
  | RatioDetectorConfig
  | SessionProfileDetectorConfig

export interface DetectorsConfig {
  readonly source: string
  readonly detectors: readonly DetectorConfig[]
  /** The entries as written (for versions built from this file, detector-versions.ts). */
  readonly definitions?: readonly unknown[]
}

export interface DetectorConfigIssue {
  /** The detector's id, or `detectors[i]` when it has none; null for the file itself. */
  readonly detector: string | null
  readonly field: string | null
  readonly message: string
}

export class DetectorsConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly DetectorConfigIssue[],
  ) {
    super(`invalid detectors file ${source}:\n${issues.map((i) => `  - ${describeIssue(i)}`).join('\n')}`)
    this.name = 'DetectorsConfigError'
  }
}

export function describeIssue(issue: DetectorConfigIssue): string {
  const where = [issue.detector === null ? null : `detector '${issue.detector}'`, issue.field === null ? null : `field '${issue.field}'`]
    .filter((s) => s !== null)
    .join(', ')
  return where.length > 0 ? `${where}: ${issue.message}` : issue.message
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `500ms`, `30s`, `5m`, `1h`, `1d`, or a number of milliseconds; null if it is none of them. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : null
  if (typeof value !== 'string') return null
  const match = DURATION.exec(value.trim())
  if (!match) return null
  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN)
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : null
}

export const MISSING_GROUP = ['group', 'skip'] as const
export type MissingGroup = (typeof MISSING_GROUP)[number]

const COMMON_FIELDS = ['id', 'type', 'strategy', 'groupBy', 'missingGroup', 'severity', 'actions', 'enabled', 'description', 'config', 'sensitivity']

/**
 * Seed 001's `sensitivity` on detectors whose threshold is a deviation (stds, or a relative
 * deviation): it scales that threshold, as a knob would — high fires at 0.8 of it, low at 1.25.
 */
export const SENSITIVITY_FACTORS = { low: 1.25, medium: 1, high: 0.8 } as const
const SENSITIVE_STRATEGIES: readonly Strategy[] = ['zscore', 'cusum', 'ewma']
/** Seed names of metrics, and what they are here. */
const METRIC_ALIASES: Readonly<Record<string, MetricRef>> = { cost_per_request: 'cost' }
const STRATEGY_FIELDS: Record<Strategy, readonly string[]> = {
  zscore: ['metric', 'window', 'grace', 'aggregate', 'threshold', 'direction', 'baselineWindows', 'minHistory', 'stdConfidence'],
  cusum: ['metric', 'window', 'grace', 'aggregate', 'threshold', 'drift', 'clip', 'warmupWindows', 'alpha', 'direction', 'minStd', 'stdConfidence'],
  ewma: ['metric', 'window', 'grace', 'aggregate', 'threshold', 'alpha', 'direction', 'minHistory'],
  percentile: ['metric', 'window', 'grace', 'percentile', 'threshold', 'factor', 'minHistory'],
  threshold: ['metric', 'window', 'grace', 'aggregate', 'condition', 'threshold', 'value', 'consecutive'],
  consecutive: ['metric', 'window', 'grace', 'aggregate', 'condition', 'threshold', 'value', 'consecutive'],
  ratio: ['metric', 'denominator', 'window', 'grace', 'threshold', 'minVolume'],
  'session-profile': ['gap', 'grace', 'threshold', 'minSessions', 'features', 'early'],
  'outlier-streak': ['metric', 'threshold', 'minLogStd', 'minimum', 'consecutive', 'within', 'alpha', 'minHistory', 'cohort', 'cohortMinHistory'],
  'sliding-sum': ['metric', 'window', 'bucket', 'minimum', 'threshold', 'minLogStd', 'alpha', 'minHistory', 'cohort', 'coldStart'],
  'record-cusum': ['metric', 'threshold', 'drift', 'clip', 'minLogStd', 'alpha', 'minHistory', 'stdConfidence'],
  'binomial-burst': ['metric', 'denominator', 'window', 'bucket', 'significance', 'minFailures', 'priorCalls', 'memoryCalls', 'coldStartRate'],
}

/** Reads one detector's fields, recording issues instead of throwing so all are reported together. */
class FieldReader {
  constructor(
    private readonly detector: string,
    private readonly fields: Record<string, unknown>,
    private readonly issues: DetectorConfigIssue[],
  ) {}

  problem(field: string | null, message: string): void {
    this.issues.push({ detector: this.detector, field, message })
  }

  has(field: string): boolean {
    return this.fields[field] !== undefined
  }

  raw(field: string): unknown {
    return this.fields[field]
  }

  /** A reader of nested fields (named as they are reported, e.g. `early.minRecords`), same issues. */
  nested(fields: Record<string, unknown>): FieldReader {
    return new FieldReader(this.detector, fields, this.issues)
  }

  /** A field with fixed values: the schema has checked it is one of them (and present when required). */
  choice<T extends string>(field: string, fallback?: T): T {
    return (this.fields[field] ?? fallback) as T
  }

  number(field: string, check: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean; fallback?: number; hint: string }): number {
    const value = this.fields[field]
    if (value === undefined) {
      if (check.fallback !== undefined) return check.fallback
      this.problem(field, `is required; give ${check.hint}`)
      return Number.NaN
    }
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!check.integer || Number.isInteger(value)) &&
      (check.min === undefined || (check.exclusiveMin ? value > check.min : value >= check.min)) &&
      (check.max === undefined || value <= check.max)
    if (!ok) this.problem(field, `${JSON.stringify(value)} is not valid; give ${check.hint}`)
    return ok ? value : Number.NaN
  }

  duration(field: string, fallback?: number): number {
    const value = this.fields[field]
    if (value === undefined) {
      if (fallback !== undefined) return fallback
      this.problem(field, 'is required; give a duration such as 30s, 5m or 1h')
      return Number.NaN
    }
    const ms = parseDuration(value)
    if (ms === null) this.problem(field, `${JSON.stringify(value)} is not a duration; write e.g. 500ms, 30s, 5m, 1h`)
    return ms ?? Number.NaN
  }

  metric(field: string, fallback?: MetricRef): MetricRef {
    const value = this.fields[field]
    if (value === undefined && fallback !== undefined) return fallback
    const hint = `use one of ${TELEMETRY_METRICS.join(', ')}, or metric:<metric_name> for an llm.metric event`
    if (value === undefined) {
      this.problem(field, `is required; ${hint}`)
      return 'request_count'
    }
    // Each call's cost is the seed's cost_per_request (the window aggregate makes it per window).
    if (typeof value === 'string' && METRIC_ALIASES[value] !== undefined) return METRIC_ALIASES[value]
    if (typeof value !== 'string' || !isMetricRef(value)) {
      this.problem(field, `${JSON.stringify(value)} is not a known metric; ${hint}`)
      return 'request_count'
    }
    return value
  }
}

function readActions(reader: FieldReader): DetectorAction[] {
  // The schema has checked each entry is `log`, { alert, severity? } or { shield }.
  type Entry =
    'log' | { alert?: string; severity?: AnomalySeverity; shield?: 'block' | 'rate_limit'; minSeverity?: ShieldGate['minSeverity']; minScore?: number }
  const entries = (reader.raw('actions') ?? []) as readonly Entry[]
  return entries.map((entry, i): DetectorAction => {
    if (entry === 'log') return { kind: 'log' }
    // One entry is one action: a gate beside `alert:` would silently apply to nothing.
    if (entry.alert !== undefined && entry.shield !== undefined) reader.problem(`actions[${i}]`, 'has both alert and shield; write them as two entries')
    if (entry.shield === undefined && (entry.minScore !== undefined || entry.minSeverity !== undefined))
      reader.problem(`actions[${i}]`, 'minScore and minSeverity are the gate of a shield action; move them to the `- shield:` entry')
    if (entry.alert !== undefined) return { kind: 'alert', name: entry.alert, severity: entry.severity ?? null }
    return {
      kind: 'shield',
      action: entry.shield ?? 'block',
      gate: { minSeverity: entry.minSeverity ?? DEFAULT_SHIELD_GATE.minSeverity, minScore: entry.minScore ?? DEFAULT_SHIELD_GATE.minScore },
    }
  })
}

/**
 * `early: { minRecords: 10, minDuration: 2m, maxDuration: 4m }` (a session-profile judging open
 * sessions, only while they span at most maxDuration when given), absent or
 * `false` for verdicts at close only. Nested fields are reported as `early.<field>`.
 */
function readEarly(reader: FieldReader): SessionProfileDetectorConfig['early'] {
  const value = reader.raw('early')
  if (value === undefined || value === false) return null
  // The schema has checked its shape: a mapping of these fields, minRecords and minDuration given.
  const fields = value as Record<string, unknown>
  const nested = reader.nested({ 'early.minRecords': fields.minRecords, 'early.minDuration': fields.minDuration, 'early.maxDuration': fields.maxDuration })
  const minRecords = nested.number('early.minRecords', {
    min: 2,
    integer: true,
    hint: 'an integer >= 2: records an open session needs before it is judged, e.g. 20',
  })
  const minDurationMs = nested.duration('early.minDuration')
  if (fields.maxDuration === undefined) return { minRecords, minDurationMs }
  const maxDurationMs = nested.duration('early.maxDuration')
  if (maxDurationMs < minDurationMs) reader.problem('early.maxDuration', 'must be at least early.minDuration')
  return { minRecords, minDurationMs, maxDurationMs }
}

/** `sensitivity: low | medium | high` applied to a deviation threshold (SENSITIVITY_FACTORS); refused elsewhere. */
function withSensitivity(detector: DetectorConfig, reader: FieldReader): DetectorConfig {
  if (!SENSITIVE_STRATEGIES.includes(detector.strategy)) {
    reader.problem(
      'sensitivity',
      `does not apply to a ${detector.strategy} detector (its threshold is not a deviation to scale); set threshold itself, or use sensitivity with ${SENSITIVE_STRATEGIES.join(', ')}`,
    )
    return detector
  }
  const level = reader.choice<keyof typeof SENSITIVITY_FACTORS>('sensitivity')
  if (detector.strategy !== 'zscore' && detector.strategy !== 'cusum' && detector.strategy !== 'ewma') return detector
  return { ...detector, threshold: detector.threshold * SENSITIVITY_FACTORS[level] }
}

/** The seed's ML detectors need model serving Sentinel does not have: one clear refusal, not a list of missing fields. */
const ML_REFUSAL =
  "'ml' is not supported: Sentinel runs no ML model (the seed's classifier needs model serving); run the classifier beside the application, send its score as an llm.metric event and detect on it, e.g. strategy: threshold, metric: metric:prompt_injection_score, condition: greater_than, value: 0.85"

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

// The structure is the schema's; this file reads each strategy's parameters. The same file is
// published for editors (README, "Config schemas").
const detectorsSchema = JSON.parse(readFileSync(new URL('./config-schemas/detectors.schema.json', import.meta.url), 'utf8')) as { definitions: object }
const fileValidator = compileConfigSchema(detectorsSchema)
// One entry, as the API receives it.
const definitionValidator = compileConfigSchema({ definitions: detectorsSchema.definitions, $ref: '#/definitions/detector' })

/**
 * The schema's issues of one detector entry (paths from the entry) in the file's terms, naming the
 * detector by its id when it has one; an ML detector gets its one refusal instead.
 */
function entryIssues(raw: unknown, label: string, issues: readonly ConfigIssue[]): DetectorConfigIssue[] {
  const name = isMapping(raw) && typeof raw.id === 'string' && raw.id.trim().length > 0 ? raw.id : label
  if (isMapping(raw) && raw.type === 'ml') return [{ detector: name, field: 'type', message: ML_REFUSAL }]
  return issues.map((i) => ({ detector: name, field: i.path.length === 0 ? null : fieldPath(i.path), message: i.message }))
}

/** `groupBy`: a short name, else a field path checked against TelemetryEvent's schema. */
function readGroupBy(reader: FieldReader, fallback: GroupBy): DetectorGroupBy {
  const value = reader.choice<string>('groupBy', fallback)
  if (isShortGroupBy(value)) return value
  const read = readFieldPath(value)
  if ('path' in read) return read.path
  const short = closestName(value, GROUP_BY)
  reader.problem('groupBy', `${read.problem}; or a short name: ${GROUP_BY.join(' | ')}${short === null ? '' : ` (did you mean ${short}?)`}`)
  return fallback
}

/** Reads one detector entry the schema has passed; issues the schema cannot see go to `issues`. */
function readDetector(top: Record<string, unknown>, issues: DetectorConfigIssue[]): DetectorConfig | null {
  const name = top.id as string

  // The seed nests the parameters under `config:`; flatten, refusing a field given twice.
  const fields: Record<string, unknown> = { ...top }
  delete fields.config
  const before = issues.length
  const reader = new FieldReader(name, fields, issues)
  for (const [key, value] of Object.entries((top.config ?? {}) as Record<string, unknown>)) {
    if (key in fields) reader.problem(key, `is given both at the top level and under config; keep one`)
    fields[key] = value
  }

  const strategy = reader.choice<Strategy>('strategy')
  const type = reader.choice<DetectorKind>('type')
  if (!STRATEGY_TYPES[strategy].includes(type))
    reader.problem('type', `'${type}' does not fit strategy '${strategy}'; use type ${STRATEGY_TYPES[strategy].join(' or ')}`)
  const known = new Set([...COMMON_FIELDS, ...STRATEGY_FIELDS[strategy]])
  // Which parameters a strategy takes is code: they may sit at the top level or under config.
  for (const field of Object.keys(fields))
    if (!known.has(field))
      reader.problem(field, `is not a field of a ${strategy} detector; its fields are ${[...known].filter((f) => f !== 'config').join(', ')}`)

  const enabled = fields.enabled !== false
  const description = fields.description as string | undefined
  const groupBy = readGroupBy(reader, strategy === 'session-profile' ? 'user' : 'application')
  const base: DetectorBase = {
    id: name,
    type,
    groupBy,
    missingGroup: reader.choice<MissingGroup>('missingGroup', isShortGroupBy(groupBy) ? 'skip' : 'group'),
    severity: reader.choice<AnomalySeverity>('severity', 'warning'),
    minSeverity: reader.has('severity') ? reader.choice<AnomalySeverity>('severity') : null,
    actions: readActions(reader),
    enabled: enabled === true,
    description: typeof description === 'string' ? description : null,
  }
  const grace = (): number => reader.duration('grace', 0)
  const aggregate = (): WindowAggregate => reader.choice<WindowAggregate>('aggregate', 'mean')
  // What every tumbling-window detector reads first, in this order (problems are reported in it).
  const windowedMetric = () => ({ metric: reader.metric('metric'), windowMs: reader.duration('window'), graceMs: grace(), aggregate: aggregate() })
  const direction = (): Direction => reader.choice<Direction>('direction', 'both')
  // A CUSUM's allowance and residual clip, in stds of its reference: the clip must exceed the allowance.
  const cusumAllowance = (fallbackDrift: number, reference: string): { drift: number; clip: number } => {
    const drift = reader.number('drift', { min: 0, fallback: fallbackDrift, hint: `an allowance >= 0 in ${reference} stds, e.g. ${fallbackDrift}` })
    const clip = reader.number('clip', { min: 0, exclusiveMin: true, fallback: 4, hint: `a bound > drift in ${reference} stds, e.g. 4` })
    if (!(clip > drift)) reader.problem('clip', `${clip} must exceed drift (${drift})`)
    return { drift, clip }
  }
  // An upper confidence bound of a baseline's std (operators/detectors/std-bound.ts), or null.
  const stdConfidence = (): number | null => {
    if (!reader.has('stdConfidence')) return null
    // One of operators/detectors/std-bound.ts' STD_CONFIDENCE_LEVELS (the schema's enum).
    return reader.raw('stdConfidence') as number
  }
  // A sliding window judged per record: its length and bucket resolution.
  const slidingWindow = (): { windowMs: number; bucketMs: number } => {
    const windowMs = reader.duration('window')
    const bucketMs = reader.duration('bucket', Math.max(1, Math.round(windowMs / 12)))
    if (bucketMs > windowMs) reader.problem('bucket', `is longer than window; give a fraction of it, e.g. ${Math.round(windowMs / 12 / 1000)}s`)
    return { windowMs, bucketMs }
  }
  const thresholdField = reader.has('value') && !reader.has('threshold') ? 'value' : 'threshold'
  if (reader.has('value') && reader.has('threshold')) reader.problem('value', 'duplicates threshold; keep threshold')

  let detector: DetectorConfig
  switch (strategy) {
    case 'zscore': {
      const baselineWindows = reader.number('baselineWindows', {
        min: 2,
        integer: true,
        fallback: 60,
        hint: 'an integer >= 2 (windows in the rolling baseline)',
      })
      const minHistory = reader.number('minHistory', {
        min: 2,
        integer: true,
        fallback: Math.min(20, baselineWindows),
        hint: 'an integer >= 2, at most baselineWindows',
      })
      if (minHistory > baselineWindows)
        reader.problem('minHistory', `${minHistory} exceeds baselineWindows (${baselineWindows}); lower it or raise baselineWindows`)
      detector = {
        ...base,
        strategy,
        ...windowedMetric(),
        threshold: reader.number('threshold', { min: 0, exclusiveMin: true, hint: 'a |z| > 0, e.g. 3' }),
        direction: direction(),
        baselineWindows,
        minHistory,
        stdConfidence: stdConfidence(),
      }
      break
    }
    case 'cusum': {
      const { drift, clip } = cusumAllowance(0.5, 'baseline')
      detector = {
        ...base,
        strategy,
        ...windowedMetric(),
        threshold: reader.number('threshold', { min: 0, exclusiveMin: true, fallback: 5, hint: 'a CUSUM decision threshold > 0 in baseline stds, e.g. 5' }),
        drift,
        clip,
        warmupWindows: reader.number('warmupWindows', { min: 2, integer: true, fallback: 10, hint: 'an integer >= 2 (windows of the warm-up baseline)' }),
        alpha: reader.number('alpha', { min: 0, max: 1, fallback: 0, hint: 'a weight in [0, 1], 0 for a frozen baseline' }),
        direction: reader.choice<Direction>('direction', 'up'),
        minStd: reader.number('minStd', { min: 0, fallback: 0, hint: "a floor >= 0 of the baseline std, in the metric's units" }),
        stdConfidence: stdConfidence(),
      }
      break
    }
    case 'ewma':
      detector = {
        ...base,
        strategy,
        ...windowedMetric(),
        threshold: reader.number('threshold', { min: 0, exclusiveMin: true, hint: 'a relative deviation > 0, e.g. 0.5 for 50%' }),
        alpha: reader.number('alpha', { min: 0, max: 1, exclusiveMin: true, fallback: 0.1, hint: 'a weight in (0, 1], e.g. 0.1' }),
        direction: direction(),
        minHistory: reader.number('minHistory', { min: 1, integer: true, fallback: 10, hint: 'an integer >= 1' }),
      }
      break
    case 'percentile': {
      const threshold = reader.has('threshold') ? reader.number('threshold', { hint: "a number: the bound on the window's percentile" }) : null
      const factor = reader.has('factor') ? reader.number('factor', { min: 1, exclusiveMin: true, hint: 'a multiple > 1 of the baseline, e.g. 2' }) : null
      if (threshold === null && factor === null)
        reader.problem('threshold', 'a percentile detector needs threshold (an absolute bound) and/or factor (a multiple of its baseline)')
      detector = {
        ...base,
        strategy,
        metric: reader.metric('metric'),
        windowMs: reader.duration('window'),
        graceMs: grace(),
        percentile: reader.number('percentile', { min: 0, max: 1, exclusiveMin: true, fallback: 0.99, hint: 'a quantile in (0, 1], e.g. 0.99' }),
        threshold,
        factor,
        minHistory: reader.number('minHistory', { min: 1, integer: true, fallback: 5, hint: 'an integer >= 1' }),
      }
      break
    }
    case 'threshold':
    case 'consecutive': {
      // One of CONDITIONS' keys (the schema's enum).
      const comparison = CONDITIONS[reader.choice('condition', 'greater_than')]
      const consecutive = reader.number(
        'consecutive',
        strategy === 'consecutive'
          ? { min: 2, integer: true, hint: 'an integer >= 2 (breaches in a row)' }
          : { min: 1, integer: true, fallback: 1, hint: 'an integer >= 1 (breaches in a row)' },
      )
      const windowed = reader.has('window')
      if (!windowed && (reader.has('aggregate') || reader.has('grace')))
        reader.problem(reader.has('aggregate') ? 'aggregate' : 'grace', 'applies to a window only; add window or remove it')
      detector = {
        ...base,
        strategy,
        metric: reader.metric('metric'),
        comparison: comparison ?? '>',
        threshold: reader.number(thresholdField, { hint: 'a number: the bound the metric is compared with' }),
        consecutive,
        window: windowed ? { sizeMs: reader.duration('window'), graceMs: grace(), aggregate: aggregate() } : null,
      }
      break
    }
    case 'ratio':
      detector = {
        ...base,
        strategy,
        metric: reader.metric('metric'),
        denominator: reader.metric('denominator', 'response_count'),
        windowMs: reader.duration('window'),
        graceMs: grace(),
        threshold: reader.number('threshold', { min: 0, exclusiveMin: true, hint: 'the highest normal ratio, e.g. 0.05 for 5%' }),
        minVolume: reader.number('minVolume', { min: 1, fallback: 20, hint: 'a number >= 1: windows with a smaller denominator are not judged' }),
      }
      break
    case 'outlier-streak': {
      const consecutive = reader.number('consecutive', { min: 1, integer: true, fallback: 3, hint: 'an integer >= 1 (outliers that make an anomaly)' })
      detector = {
        ...base,
        strategy,
        metric: reader.metric('metric'),
        windowMs: 0,
        graceMs: 0,
        threshold: reader.number('threshold', { min: 0, exclusiveMin: true, hint: 'a z > 0 of the log value, e.g. 3' }),
        minLogStd: reader.number('minLogStd', { min: 0, exclusiveMin: true, fallback: 0.5, hint: 'a standard deviation > 0 of the log value, e.g. 0.5' }),
        minimum: reader.number('minimum', { min: 0, fallback: 0, hint: 'a value >= 0 below which nothing is an outlier' }),
        consecutive,
        within: reader.number('within', {
          min: consecutive,
          integer: true,
          fallback: consecutive,
          hint: `an integer >= consecutive (${consecutive}): outliers are counted among the key's last 'within' records`,
        }),
        alpha: reader.number('alpha', { min: 0, max: 1, exclusiveMin: true, fallback: 0.05, hint: 'a weight in (0, 1], e.g. 0.05' }),
        minHistory: reader.number('minHistory', { min: 1, integer: true, fallback: 10, hint: "an integer >= 1: records before the key's own profile counts" }),
        cohort: reader.has('cohort') ? reader.choice<GroupBy>('cohort') : null,
        cohortMinHistory: reader.number('cohortMinHistory', {
          min: 1,
          integer: true,
          fallback: 50,
          hint: 'an integer >= 1: records before a cohort is a reference',
        }),
      }
      break
    }
    case 'record-cusum': {
      const { drift, clip } = cusumAllowance(1, 'profile')
      detector = {
        ...base,
        strategy,
        metric: reader.metric('metric'),
        windowMs: 0,
        graceMs: 0,
        threshold: reader.number('threshold', { min: 0, exclusiveMin: true, hint: 'a CUSUM decision threshold > 0 in profile stds, e.g. 8' }),
        drift,
        clip,
        minLogStd: reader.number('minLogStd', { min: 0, exclusiveMin: true, fallback: 0.25, hint: 'a standard deviation > 0 of the log value, e.g. 0.25' }),
        alpha: reader.number('alpha', { min: 0, max: 1, exclusiveMin: true, fallback: 0.02, hint: 'a weight in (0, 1], e.g. 0.02' }),
        minHistory: reader.number('minHistory', { min: 1, integer: true, fallback: 50, hint: 'an integer >= 1: records before any verdict' }),
        stdConfidence: stdConfidence(),
      }
      break
    }
    case 'binomial-burst': {
      const { windowMs, bucketMs } = slidingWindow()
      const priorCalls = reader.number('priorCalls', {
        min: 0,
        exclusiveMin: true,
        fallback: 200,
        hint: "a number > 0 of pseudo-calls at the population's rate, e.g. 200",
      })
      const memoryCalls = reader.number('memoryCalls', {
        min: 1,
        fallback: 5000,
        hint: 'a number of calls the long-run rate remembers, at least priorCalls, e.g. 5000',
      })
      if (memoryCalls < priorCalls) reader.problem('memoryCalls', `${memoryCalls} is below priorCalls (${priorCalls}); raise it`)
      detector = {
        ...base,
        strategy,
        metric: reader.metric('metric', 'error'),
        denominator: reader.metric('denominator', 'response_count'),
        windowMs,
        graceMs: 0,
        bucketMs,
        significance: reader.number('significance', { min: 0, max: 0.5, exclusiveMin: true, hint: 'a tail probability in (0, 0.5], e.g. 0.0001' }),
        minFailures: reader.number('minFailures', { min: 1, integer: true, fallback: 2, hint: 'an integer >= 1: failures a window needs to be a burst' }),
        priorCalls,
        memoryCalls,
        coldStartRate: reader.number('coldStartRate', {
          min: 0,
          max: 1,
          exclusiveMin: true,
          fallback: 0.02,
          hint: 'a failure rate in (0, 1) assumed before any call, e.g. 0.02',
        }),
      }
      break
    }
    case 'sliding-sum': {
      const { windowMs, bucketMs } = slidingWindow()
      detector = {
        ...base,
        strategy,
        metric: reader.metric('metric'),
        windowMs,
        graceMs: 0,
        bucketMs,
        minimum: reader.number('minimum', { min: 0, exclusiveMin: true, hint: 'a sum > 0: the least bound, e.g. 20 requests' }),
        threshold: reader.number('threshold', { min: 0, exclusiveMin: true, hint: 'a z > 0 of the log window sum, e.g. 3' }),
        minLogStd: reader.number('minLogStd', { min: 0, exclusiveMin: true, fallback: 0.5, hint: 'a standard deviation > 0 of the log sum, e.g. 0.5' }),
        alpha: reader.number('alpha', { min: 0, max: 1, exclusiveMin: true, fallback: 0.05, hint: 'a weight in (0, 1], e.g. 0.05' }),
        minHistory: reader.number('minHistory', { min: 1, integer: true, fallback: 10, hint: "an integer >= 1: samples before the key's own baseline counts" }),
        cohort: reader.has('cohort') ? reader.choice<GroupBy>('cohort') : null,
        coldStart: reader.has('coldStart')
          ? reader.number('coldStart', { min: 0, exclusiveMin: true, hint: 'a sum > 0: the bound before any history' })
          : reader.number('minimum', { min: 0, exclusiveMin: true, hint: 'a sum > 0' }),
      }
      break
    }
    case 'session-profile': {
      const features = (fields.features as SessionFeature[] | undefined) ?? [...SESSION_FEATURES]
      detector = {
        ...base,
        strategy,
        gapMs: reader.duration('gap', 600_000),
        graceMs: grace(),
        threshold: reader.number('threshold', { min: 0, exclusiveMin: true, hint: 'a |z| > 0 of the most deviating session feature, e.g. 4' }),
        minSessions: reader.number('minSessions', { min: 1, integer: true, fallback: 5, hint: 'an integer >= 1' }),
        features,
        early: readEarly(reader),
      }
      break
    }
  }
  if (reader.has('sensitivity')) detector = withSensitivity(detector, reader)
  return issues.length === before ? detector : null
}

/** Parses and checks a detectors file's text; throws DetectorsConfigError listing every issue. */
export function parseDetectorsConfig(text: string, source = '<inline>'): DetectorsConfig {
  const parsed = parseConfigText(text)
  if (parsed.issues.length > 0)
    throw new DetectorsConfigError(
      source,
      parsed.issues.map((i) => ({ detector: null, field: null, message: i.message })),
    )
  const root = parsed.value
  const listed: unknown = isMapping(root) ? root.detectors : undefined
  const seedShape = isMapping(listed)
  const list: unknown = seedShape ? listed.items : listed
  // Another kind of file (or an empty one) gets one clear issue, not a list of everything it lacks.
  if (!Array.isArray(list))
    throw new DetectorsConfigError(source, [
      { detector: null, field: 'detectors', message: 'is required: a list of detectors (detectors: [- id: ..., type: ..., strategy: ...])' },
    ])
  const shapeIssues = validateConfig(fileValidator, root)
  const entryDepth = seedShape ? 3 : 2 // detectors[i] or detectors.items[i]
  const atEntry = (issue: ConfigIssue): number | null =>
    issue.path.length >= entryDepth && typeof issue.path[entryDepth - 1] === 'number' ? (issue.path[entryDepth - 1] as number) : null
  const issues: DetectorConfigIssue[] = shapeIssues
    .filter((i) => atEntry(i) === null)
    .map((i) => ({ detector: null, field: fieldPath(i.path), message: i.message }))
  list.forEach((raw: unknown, index) => {
    const own = shapeIssues.filter((i) => atEntry(i) === index).map((i) => ({ ...i, path: i.path.slice(entryDepth) }))
    if (own.length > 0 || (isMapping(raw) && raw.type === 'ml')) issues.push(...entryIssues(raw, `detectors[${index}]`, own))
  })
  if (issues.length > 0) throw new DetectorsConfigError(source, issues)

  const detectors: DetectorConfig[] = []
  const seen = new Set<string>()
  for (const raw of list as Record<string, unknown>[]) {
    const detector = readDetector(raw, issues)
    const id = raw.id as string
    if (seen.has(id))
      issues.push({
        detector: id,
        field: 'id',
        message: `is used by more than one detector; ids must be unique (they are part of anomaly ids and store names)`,
      })
    seen.add(id)
    if (detector) detectors.push(detector)
  }
  if (issues.length > 0) throw new DetectorsConfigError(source, issues)
  return { source, detectors, definitions: list }
}

/**
 * One detector definition as the API receives it (a JSON object shaped like one entry of the file,
 * `config:` nesting allowed), checked exactly as the file's entries are; throws DetectorsConfigError.
 */
export function parseDetectorDefinition(raw: unknown, source = '<api>'): DetectorConfig {
  const shape = validateConfig(definitionValidator, raw)
  if (shape.length > 0 || (isMapping(raw) && raw.type === 'ml')) throw new DetectorsConfigError(source, entryIssues(raw, 'detectors[0]', shape))
  const issues: DetectorConfigIssue[] = []
  const detector = readDetector(raw as Record<string, unknown>, issues)
  if (detector === null || issues.length > 0) throw new DetectorsConfigError(source, issues)
  return detector
}

/** Reads a detectors file at start (synchronously: nothing runs before it is known good). */
export function loadDetectorsConfig(path: string | URL): DetectorsConfig {
  const source = path instanceof URL ? fileURLToPath(path) : path
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new DetectorsConfigError(source, [{ detector: null, field: null, message: `cannot read the file: ${(err as Error).message}` }])
  }
  return parseDetectorsConfig(text, source)
}

/** The default detectors file shipped with the app. */
export const DEFAULT_DETECTORS_PATH = new URL('./detectors.default.yaml', import.meta.url)
