/**
 * Correlation (seed 001 `detection.correlation`: window 10m, maxRelatedEvents 50): anomalies of the
 * same application, or of the same model, within `windowMs` of each other are related. Each anomaly
 * leaves here with `context.related_anomalies` holding the ids of the related anomalies seen before
 * it, and a link record per relation in both directions (the earlier anomaly learns of the later
 * one), which the anomaly view applies: read through the API, each of two related anomalies lists
 * the other.
 *
 * Two stages, one per dimension, because an anomaly is related by application to some anomalies and
 * by model to others, and each dimension's anomalies must meet in one task:
 *
 *   ─ selectKey(app:<application_id>) ─ repartition <name>-by-application ─ <name>-application
 *   ─ selectKey(model:<model>)        ─ repartition <name>-by-model       ─ <name>-model
 *
 * An anomaly without the stage's dimension (no application id; an entity that is not a model) is
 * keyed `#<its id>` there and passes unchanged. State: a window store per stage keyed by the
 * dimension, in buckets of `windowMs`, holding the (id, time) of the bucket's anomalies (the latest
 * `maxRelated`); an anomaly at t reads the buckets of t - window, t and t + window (prefetched per
 * batch, no per-record await) and relates to those within `windowMs` of t, in both time directions
 * (anomalies arrive out of order: window detectors emit when their windows close). Retention:
 * 3 windows + the alerting grace; an anomaly older than that passes unrelated.
 */
import type { Logger } from 'pino'
import { type AnomalyEvent, anomalyEventSchema } from '../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../schemas/index.js'
import type { TimeWindow, WindowStore } from '../../../state/types.js'
import { type KStream, type Processor, type ProcessorContext, type StreamRecord, Stores, type WindowStoreDefinition } from '../../../topology/index.js'

export const DEFAULT_CORRELATION_WINDOW_MS = 600_000
export const DEFAULT_MAX_RELATED = 50

export interface CorrelationSettings {
  /** Anomalies this close in time (ms) and of the same application or model are related. */
  readonly windowMs: number
  /** Related ids kept per anomaly (the closest in time). */
  readonly maxRelated: number
}

/** A relation for the anomaly view: `anomaly_id` is related to each of `related`. */
export interface AnomalyLink {
  readonly anomaly_id: string
  readonly related: readonly string[]
}

/** What a correlation stage emits: the anomaly (with its related ids), and links. */
export type CorrelationOutput = { readonly kind: 'anomaly'; readonly anomaly: AnomalyEvent } | { readonly kind: 'link'; readonly link: AnomalyLink }

interface SeenAnomaly {
  readonly id: string
  readonly t: number
}

/** Ids in first-seen order without repeats, at most `max`. */
export function unionIds(a: readonly string[], b: readonly string[], max: number): string[] {
  return [...new Set([...a, ...b])].slice(0, max)
}

/** The anomaly with `related` added to its context (a new object). */
export function withRelated(anomaly: AnomalyEvent, related: readonly string[], max: number): AnomalyEvent {
  const context = anomaly.context ?? { window_start: null, window_end: null, sample_events: [], related_anomalies: [] }
  return { ...anomaly, context: { ...context, related_anomalies: unionIds(context.related_anomalies, related.filter((id) => id !== anomaly.anomaly_id), max) } }
}

const bucketsAround = (t: number, size: number): TimeWindow[] => {
  const start = Math.floor(t / size) * size
  return [start - size, start, start + size].filter((s) => s >= 0).map((s) => ({ start: s, end: s + size }))
}

class CorrelationProcessor implements Processor<string, AnomalyEvent, string, CorrelationOutput> {
  private context!: ProcessorContext<string, CorrelationOutput>
  private seen!: WindowStore<string, SeenAnomaly[]>

  constructor(
    private readonly store: WindowStoreDefinition<string, SeenAnomaly[]>,
    private readonly settings: CorrelationSettings,
    private readonly log: Logger,
  ) {}

  init(context: ProcessorContext<string, CorrelationOutput>): void {
    this.context = context
    this.seen = context.getStateStore(this.store)
  }

  process(record: StreamRecord<string, AnomalyEvent>): void {
    const anomaly = record.value
    const out = (value: CorrelationOutput, key: string): void => this.context.forward({ key, value, timestamp: record.timestamp, headers: {} })
    const { windowMs, maxRelated } = this.settings
    const t = record.timestamp
    const buckets = bucketsAround(t, windowMs)
    // An anomaly without this dimension is keyed `#<its id>`: nothing to relate to.
    const alone = record.key.startsWith(NO_DIMENSION)
    if (alone || buckets[0]!.start < this.context.streamTime() - this.store.retentionMs) {
      if (!alone) this.log.debug({ anomaly_id: anomaly.anomaly_id, key: record.key }, 'anomaly older than the correlation retention: not correlated')
      return out({ kind: 'anomaly', anomaly }, anomaly.anomaly_id)
    }
    const own = Math.floor(t / windowMs) * windowMs
    let replayed = false
    const near: SeenAnomaly[] = []
    for (const b of buckets)
      for (const s of this.seen.get(record.key, b.start) ?? []) {
        if (s.id === anomaly.anomaly_id) replayed = true
        else if (Math.abs(s.t - t) <= windowMs) near.push(s)
      }
    const related = near
      .sort((x, y) => Math.abs(x.t - t) - Math.abs(y.t - t))
      .slice(0, maxRelated)
      .sort((x, y) => x.t - y.t)
      .map((s) => s.id)
    if (!replayed) this.seen.put(record.key, [...(this.seen.get(record.key, own) ?? []), { id: anomaly.anomaly_id, t }].slice(-maxRelated), own)
    out({ kind: 'anomaly', anomaly: withRelated(anomaly, related, maxRelated) }, anomaly.anomaly_id)
    if (related.length === 0) return
    out({ kind: 'link', link: { anomaly_id: anomaly.anomaly_id, related } }, anomaly.anomaly_id)
    for (const id of related) out({ kind: 'link', link: { anomaly_id: id, related: [anomaly.anomaly_id] } }, id)
  }
}

const NO_DIMENSION = '#'

/** The dimensions anomalies are related by: the application, and the model of a model-level anomaly. */
const DIMENSIONS = {
  application: (a: AnomalyEvent): string | null => (a.application_id === null ? null : `app:${a.application_id}`),
  model: (a: AnomalyEvent): string | null => (a.affected_entity?.type === 'model' && a.affected_entity.id !== null ? `model:${a.affected_entity.id}` : null),
} as const

export interface CorrelationStagesOptions extends CorrelationSettings {
  /** Prefix of processor, store and repartition names (default `correlation`). */
  readonly name: string
  /** How far behind stream time an anomaly may still be correlated, beyond the window. */
  readonly graceMs: number
  readonly log: Logger
}

/**
 * Adds both stages after `anomalies` (deduplicated: a replay must not relate an anomaly to itself
 * twice, though a replayed id is recognised). Returns the correlated anomalies (keyed by anomaly id)
 * and one link stream per stage (keyed by the anomaly id the link is for).
 */
export function addCorrelation(anomalies: KStream<string, AnomalyEvent>, options: CorrelationStagesOptions): { anomalies: KStream<string, AnomalyEvent>; links: KStream<string, AnomalyLink>[] } {
  const { name } = options
  if (!(Number.isSafeInteger(options.windowMs) && options.windowMs >= 1000)) throw new Error(`correlation: window must be at least 1s, got ${options.windowMs} ms`)
  if (!(Number.isInteger(options.maxRelated) && options.maxRelated >= 1 && options.maxRelated <= 1000)) throw new Error(`correlation: maxRelatedEvents must be an integer in [1, 1000], got ${options.maxRelated}`)
  const links: KStream<string, AnomalyLink>[] = []
  let current = anomalies
  for (const [dimension, keyOf] of Object.entries(DIMENSIONS)) {
    const stage = `${name}-${dimension}`
    const store: WindowStoreDefinition<string, SeenAnomaly[]> = Stores.window(`${stage}-store`, Serdes.string(), Serdes.json<SeenAnomaly[]>(), {
      windowSizeMs: options.windowMs,
      retentionMs: 3 * options.windowMs + options.graceMs,
      windowsFor: (t) => bucketsAround(t, options.windowMs),
    })
    const outputs = current
      .selectKey((_key, anomaly) => keyOf(anomaly) ?? `${NO_DIMENSION}${anomaly.anomaly_id}`, { name: `${stage}-key` })
      .repartition({ name: `${name}-by-${dimension}`, key: Serdes.string(), value: Serdes.avro<AnomalyEvent>(anomalyEventSchema) })
      .process(() => new CorrelationProcessor(store, options, options.log), { name: stage, stores: [store] })
    current = outputs.flatMapValues((o): AnomalyEvent[] => (o.kind === 'anomaly' ? [o.anomaly] : []), { name: `${stage}-anomalies` })
    links.push(outputs.flatMapValues((o): AnomalyLink[] => (o.kind === 'link' ? [o.link] : []), { name: `${stage}-links` }))
  }
  return { anomalies: current, links }
}
