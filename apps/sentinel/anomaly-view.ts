/**
 * The anomaly view: every anomaly with its acknowledgement and feedback, by anomaly id, in a logged
 * key-value store `anomalies-by-id` that the API reads through interactive queries.
 *
 * Shape: anomalies (keyed by their detector's key) → re-keyed by anomaly_id → `anomaly-view-anomalies`
 * repartition; merged with the acknowledgements and feedback topics (JSON, keyed by anomaly_id) →
 * `anomaly-view-updates` repartition (so an acknowledgement meets its anomaly in one task, whatever
 * the partition counts of the three topics) → `anomaly-view` (store `anomalies-by-id`).
 *
 * Anomalies get their own repartition before the merge so that merging does not glue the view's
 * inputs into the detectors' sub-topologies (a merge joins its parents' sub-topologies): the
 * detection tasks stay as `buildSentinelTopology` lays them out. Anomalies are rare, so the extra
 * hop costs nothing that matters.
 *
 * With `links` (the alert manager's correlation) and `actionsTaken` (the alert view's delivery
 * outcomes per anomaly), each repartitioned by anomaly id and merged in too, an entry learns its
 * related anomalies in both directions and what the dispatcher did (`actions_taken`).
 *
 * An acknowledgement or feedback may arrive before its anomaly (another partition, a replay): it is
 * kept in an entry without anomaly (`anomaly: null`, not listed by the API) and applied when the
 * anomaly comes. A repeated anomaly (a replay) replaces the event but keeps the acknowledgement.
 *
 * Retention, by view time (the view task's highest record timestamp, capped at the wall clock plus
 * 5 minutes so that no record dated ahead can age the whole view: view-time.ts): an entry whose last
 * update is older than `retentionMs` (default 7 days) is deleted by a punctuator every
 * `purgeIntervalMs` (default 1 hour) of stream time, and a record already that old is not stored.
 * Its update time is capped the same way. View time moves
 * with anomaly detection times, so acknowledgements must carry their anomaly's timestamp (the API
 * does so), not the wall clock: a wall-clock record would jump stream time ahead when the detectors
 * run on replayed or synthetic telemetry and purge the whole view. Stream time is per task: a
 * partition that receives nothing keeps its entries until it does (it does not grow meanwhile);
 * with the runtime's idle timeout, stream time of a quiet task advances anyway. Feedback is capped at
 * `maxFeedback` (default 100) entries per anomaly, the latest kept.
 */
import type { ActionTaken, AnomalyEvent, AnomalyStatus } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import type { Serde } from '../../schemas/serde.js'
import type { KeyValueStore } from '../../state/types.js'
import {
  type KStream,
  type KeyValueStoreDefinition,
  type Processor,
  type ProcessorContext,
  type StreamRecord,
  Stores,
  type StreamsBuilder,
} from '../../topology/index.js'
import { type AnomalyLink, DEFAULT_MAX_RELATED, unionIds, withRelated } from './alerting/anomaly-correlation.js'
import { ViewTime } from './view-time.js'

export const ANOMALY_VIEW_STORE = 'anomalies-by-id'
export const FEEDBACK_LABELS = ['true_positive', 'false_positive'] as const
export type FeedbackLabel = (typeof FEEDBACK_LABELS)[number]

/** A record of the acknowledgements topic, keyed by anomaly_id. */
export interface AnomalyAcknowledgement {
  readonly type: 'acknowledge'
  readonly anomaly_id: string
  readonly by: string
  readonly note: string | null
  /** ISO-8601, when it was given (wall clock of the API). */
  readonly at: string
}

/** A record of the feedback topic, keyed by anomaly_id: kept for evaluating detectors. */
export interface AnomalyFeedback {
  readonly type: 'feedback'
  readonly anomaly_id: string
  readonly label: FeedbackLabel
  readonly comment: string | null
  readonly by: string | null
  /** ISO-8601, when it was given. */
  readonly at: string
}

/** What the view stores per anomaly id. */
export interface AnomalyRecord {
  /** Null while only an acknowledgement or feedback has arrived. */
  readonly anomaly: AnomalyEvent | null
  /** The anomaly's status, `acknowledged` once acknowledged. */
  readonly status: AnomalyStatus
  readonly acknowledged_by: string | null
  readonly acknowledged_at: string | null
  readonly acknowledgement_note: string | null
  readonly feedback: readonly AnomalyFeedback[]
  /**
   * Related anomaly ids learnt from the correlation (both directions) and what the dispatcher did,
   * kept apart so they survive a replayed anomaly and apply to one that arrives after them; `anomaly`
   * shows them merged. Absent in entries stored before they existed.
   */
  readonly related_anomalies?: readonly string[]
  readonly actions_taken?: readonly ActionTaken[]
  /** Event time (epoch ms) of the latest update: what retention goes by. */
  readonly updated_at: number
}

/** A correlation link: `related` are related to `anomaly_id` (anomaly-correlation.ts). */
export interface AnomalyRelated extends AnomalyLink {
  readonly type: 'related'
}

/** One delivery outcome of an alert the anomaly was part of (from the alert view). */
export interface AnomalyActionTaken {
  readonly type: 'action'
  readonly anomaly_id: string
  readonly action: ActionTaken
}

/** What flows into the view's store, by anomaly id. */
export type AnomalyViewUpdate =
  { readonly type: 'anomaly'; readonly anomaly: AnomalyEvent } | AnomalyAcknowledgement | AnomalyFeedback | AnomalyRelated | AnomalyActionTaken

export interface AnomalyViewOptions {
  /** Default `anomaly-acks`. */
  readonly acksTopic?: string
  /** Default `anomaly-feedback`. */
  readonly feedbackTopic?: string
  /** Default 7 days. */
  readonly retentionMs?: number
  /** Stream time between purges; default 1 hour (at most retentionMs). */
  readonly purgeIntervalMs?: number
  /** Feedback entries kept per anomaly (the latest); default 100. */
  readonly maxFeedback?: number
  /** Link streams of the correlation (addAlertManager's `links`), keyed by the anomaly id each is for. */
  readonly links?: readonly KStream<string, AnomalyLink>[]
  /** What the dispatcher did per anomaly (addAlertViewWithActions' `actionsTaken`), keyed by anomaly id. */
  readonly actionsTaken?: KStream<string, AnomalyActionTaken>
  /** Related ids kept per anomaly; default 50 (seed maxRelatedEvents). */
  readonly maxRelated?: number
}

const DAY_MS = 86_400_000

const isString = (v: unknown): v is string => typeof v === 'string'
const isOptionalString = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string'

export function isAnomalyAcknowledgement(value: unknown): value is AnomalyAcknowledgement {
  const v = value as Record<string, unknown> | null
  return (
    typeof v === 'object' && v !== null && v.type === 'acknowledge' && isString(v.anomaly_id) && isString(v.by) && isOptionalString(v.note) && isString(v.at)
  )
}

export function isAnomalyFeedback(value: unknown): value is AnomalyFeedback {
  const v = value as Record<string, unknown> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    v.type === 'feedback' &&
    isString(v.anomaly_id) &&
    (FEEDBACK_LABELS as readonly unknown[]).includes(v.label) &&
    isOptionalString(v.comment) &&
    isOptionalString(v.by) &&
    isString(v.at)
  )
}

/** JSON serdes of the acknowledgement and feedback topics; a record of another shape is a bad record (DLQ). */
export const anomalyAcknowledgementSerde = (): Serde<AnomalyAcknowledgement> =>
  Serdes.json<AnomalyAcknowledgement>({ name: 'json(AnomalyAcknowledgement)', validate: isAnomalyAcknowledgement })
export const anomalyFeedbackSerde = (): Serde<AnomalyFeedback> => Serdes.json<AnomalyFeedback>({ name: 'json(AnomalyFeedback)', validate: isAnomalyFeedback })
export const anomalyRecordSerde = (): Serde<AnomalyRecord> => Serdes.json<AnomalyRecord>({ name: 'json(AnomalyRecord)' })

/**
 * `actions` with `action` in place of the earlier outcome of the same action and target, or of the
 * detector's request for it (`pending`, detector-actions.ts; a shield request names no receiver).
 */
function withAction(actions: readonly ActionTaken[], action: ActionTaken): readonly ActionTaken[] {
  const requested = (a: ActionTaken): boolean => a.status === 'pending' && action.status !== 'pending' && (a.target === null || a.target === action.target)
  const i = actions.findIndex((a) => a.action === action.action && (a.target === action.target || requested(a)))
  if (i < 0) return [...actions, action]
  // A late copy of an earlier outcome does not replace the later one; an outcome always replaces a request.
  if (!requested(actions[i]!) && Date.parse(action.timestamp ?? '') < Date.parse(actions[i]!.timestamp ?? '')) return actions
  return actions.map((a, j) => (j === i ? action : a))
}

/** The entry's anomaly with the related ids and actions it has learnt. */
function decorated(anomaly: AnomalyEvent, related: readonly string[], actions: readonly ActionTaken[], maxRelated: number): AnomalyEvent {
  const linked = related.length === 0 ? anomaly : withRelated(anomaly, related, maxRelated)
  return actions.length === 0 ? linked : { ...linked, actions_taken: [...actions.reduce(withAction, anomaly.actions_taken)] }
}

/** The next state of an entry after one update (pure: the view's processor and its tests use it). */
export function applyAnomalyUpdate(
  previous: AnomalyRecord | undefined,
  update: AnomalyViewUpdate,
  timestamp: number,
  maxFeedback = 100,
  maxRelated = DEFAULT_MAX_RELATED,
): AnomalyRecord {
  const base: AnomalyRecord = previous ?? {
    anomaly: null,
    status: 'active',
    acknowledged_by: null,
    acknowledged_at: null,
    acknowledgement_note: null,
    feedback: [],
    updated_at: timestamp,
  }
  const updated_at = Math.max(base.updated_at, timestamp)
  const related = base.related_anomalies ?? []
  const actions = base.actions_taken ?? []
  switch (update.type) {
    case 'anomaly':
      return {
        ...base,
        anomaly: decorated(update.anomaly, related, actions, maxRelated),
        status: base.acknowledged_by !== null ? 'acknowledged' : update.anomaly.status,
        updated_at,
      }
    case 'acknowledge':
      return { ...base, status: 'acknowledged', acknowledged_by: update.by, acknowledged_at: update.at, acknowledgement_note: update.note, updated_at }
    case 'feedback':
      return { ...base, feedback: [...base.feedback, update].slice(-maxFeedback), updated_at }
    case 'related': {
      const next = unionIds(
        related,
        update.related.filter((id) => id !== update.anomaly_id),
        maxRelated,
      )
      return { ...base, related_anomalies: next, anomaly: base.anomaly && decorated(base.anomaly, next, [], maxRelated), updated_at }
    }
    case 'action': {
      const next = withAction(actions, update.action)
      return { ...base, actions_taken: next, anomaly: base.anomaly && decorated(base.anomaly, [], [update.action], maxRelated), updated_at }
    }
  }
}

class AnomalyViewProcessor implements Processor<string, AnomalyViewUpdate> {
  private store!: KeyValueStore<string, AnomalyRecord>
  private viewTime!: ViewTime

  constructor(
    private readonly definition: KeyValueStoreDefinition<string, AnomalyRecord>,
    private readonly retentionMs: number,
    private readonly purgeIntervalMs: number,
    private readonly maxFeedback: number,
    private readonly maxRelated: number,
  ) {}

  init(context: ProcessorContext): void {
    this.store = context.getStateStore(this.definition)
    this.viewTime = new ViewTime(() => context.wallClockTime())
    context.schedule(this.purgeIntervalMs, 'stream-time', () => this.purge())
  }

  process(record: StreamRecord<string, AnomalyViewUpdate>): void {
    const time = this.viewTime.observe(record.timestamp)
    // Already past retention: storing it would only have the next purge delete it.
    if (time < this.viewTime.now - this.retentionMs) return
    this.store.put(record.key, applyAnomalyUpdate(this.store.get(record.key), record.value, time, this.maxFeedback, this.maxRelated))
  }

  private async purge(): Promise<void> {
    if (this.viewTime.now < 0) return
    const cutoff = this.viewTime.now - this.retentionMs
    const expired: string[] = []
    for await (const [id, entry] of this.store.all()) if (entry.updated_at < cutoff) expired.push(id)
    // Deletes are blind writes: they need no prefetch.
    for (const id of expired) this.store.delete(id)
  }
}

/**
 * Adds the view to `builder`: `anomalies` (any key) in, store `anomalies-by-id` out (see above).
 * Reads `acksTopic` and `feedbackTopic` (JSON, keyed by anomaly_id); the topology must not read them
 * elsewhere.
 */
export function addAnomalyView(
  builder: StreamsBuilder,
  anomalies: KStream<string, AnomalyEvent>,
  options: AnomalyViewOptions = {},
): KeyValueStoreDefinition<string, AnomalyRecord> {
  const retentionMs = options.retentionMs ?? 7 * DAY_MS
  if (!(Number.isSafeInteger(retentionMs) && retentionMs > 0))
    throw new Error(`addAnomalyView: 'retentionMs' must be a positive integer (ms), got ${retentionMs}`)
  const purgeIntervalMs = Math.min(options.purgeIntervalMs ?? 3_600_000, retentionMs)
  if (!(purgeIntervalMs > 0)) throw new Error(`addAnomalyView: 'purgeIntervalMs' must be > 0, got ${purgeIntervalMs}`)
  const maxFeedback = options.maxFeedback ?? 100
  if (!(Number.isInteger(maxFeedback) && maxFeedback >= 1)) throw new Error(`addAnomalyView: 'maxFeedback' must be an integer >= 1, got ${maxFeedback}`)
  const maxRelated = options.maxRelated ?? DEFAULT_MAX_RELATED
  if (!(Number.isInteger(maxRelated) && maxRelated >= 1)) throw new Error(`addAnomalyView: 'maxRelated' must be an integer >= 1, got ${maxRelated}`)
  const updates = Serdes.json<AnomalyViewUpdate>({ name: 'json(AnomalyViewUpdate)' })

  const fromAnomalies = anomalies
    .map((_key, anomaly): [string, AnomalyViewUpdate] => [anomaly.anomaly_id, { type: 'anomaly', anomaly }], { name: 'anomaly-view-key-by-id' })
    .repartition({ name: 'anomaly-view-anomalies', key: Serdes.string(), value: updates })
  const acks = builder
    .stream(options.acksTopic ?? 'anomaly-acks', { key: Serdes.string(), value: anomalyAcknowledgementSerde(), name: 'anomaly-view-acks-source' })
    .mapValues((ack): AnomalyViewUpdate => ack, { name: 'anomaly-view-acks' })
  const feedback = builder
    .stream(options.feedbackTopic ?? 'anomaly-feedback', { key: Serdes.string(), value: anomalyFeedbackSerde(), name: 'anomaly-view-feedback-source' })
    .mapValues((entry): AnomalyViewUpdate => entry, { name: 'anomaly-view-feedback' })

  // Each its own repartition first, for the reason anomalies have one (see above).
  const annotations = [
    ...(options.links ?? []).map((links, i) =>
      links
        .mapValues((link): AnomalyViewUpdate => ({ type: 'related', ...link }), { name: `anomaly-view-link-updates-${i}` })
        .repartition({ name: `anomaly-view-links-${i}`, key: Serdes.string(), value: updates }),
    ),
    ...(options.actionsTaken
      ? [
          options.actionsTaken
            .mapValues((a): AnomalyViewUpdate => a, { name: 'anomaly-view-action-updates' })
            .repartition({ name: 'anomaly-view-actions', key: Serdes.string(), value: updates }),
        ]
      : []),
  ]

  const store = Stores.keyValue(ANOMALY_VIEW_STORE, Serdes.string(), anomalyRecordSerde())
  annotations
    .reduce((merged, more, i) => merged.merge(more, { name: `anomaly-view-merge-annotations-${i}` }), fromAnomalies)
    .merge(acks, { name: 'anomaly-view-merge-acks' })
    .merge(feedback, { name: 'anomaly-view-merge-feedback' })
    // Topic keys are trusted only as far as the records say: an ack keyed otherwise would land on the wrong entry.
    .selectKey((_key, update) => (update.type === 'anomaly' ? update.anomaly.anomaly_id : update.anomaly_id), { name: 'anomaly-view-select-id' })
    .repartition({ name: 'anomaly-view-updates', key: Serdes.string(), value: updates })
    .process(() => new AnomalyViewProcessor(store, retentionMs, purgeIntervalMs, maxFeedback, maxRelated), { name: 'anomaly-view', stores: [store] })
  return store
}
