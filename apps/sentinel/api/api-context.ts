import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import type { Serde } from '../../../schemas/serde.js'
import type { TelemetryEvent } from '../../../schemas/telemetry/index.js'
import type { DetectorConfig, DetectorConfigIssue, DetectorsConfig } from '../detectors-config.js'
import type { EventTimeBounds } from '../event-time-bounds.js'
import type { RecentEventIds } from './recent-event-ids.js'
import type { RecentTelemetry } from './recent-telemetry.js'
import type { ApiMetrics } from './api-metrics.js'
import type { TelemetryIngest } from './telemetry-ingest.js'
import type { FalsePositiveRates } from './false-positive-rates.js'
import type { AlertRecord } from '../alert-view.js'
import type { AlertFilter, ListedAlert } from './alert-query.js'
import type { ViewQueries, ViewReads } from './view-reads.js'
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import type { SilenceBook } from '../delivery/silences.js'
import type { AlertRulesConfig } from '../alerting/alert-rules-config.js'
import type { ConfigVersionWriter } from './config-version-writer.js'
import type { AlertRulesVersioning } from './alert-rule-version-writer.js'

/** Problems of detectors' actions beyond their own definitions (receiver names); empty when all is well. */
export type DetectorActionsCheck = (detectors: readonly DetectorConfig[]) => DetectorConfigIssue[]

/** What the route plugins share (passed as plugin options, never decorated onto the instance). */
export interface ApiContext {
  readonly runtime: StreamsRuntime
  readonly detectors: DetectorsConfig
  readonly reads: ViewReads
  readonly metrics: ApiMetrics
  readonly telemetryTopic: string
  readonly acksTopic: string
  readonly feedbackTopic: string
  /** The alert view and where silences go; null: no alert routes. */
  readonly alerts: {
    readonly reads: ViewQueries<AlertRecord, AlertFilter, ListedAlert>
    readonly silencesTopic: string
    readonly lifecycle: AlertLifecycleApi | null
  } | null
  readonly telemetrySerde: Serde<TelemetryEvent>
  readonly maxBatchEvents: number
  readonly eventTime: EventTimeBounds
  readonly recentEventIds: RecentEventIds
  /** The newest telemetry this instance wrote (the default sample of `POST /detectors/:id/test`). */
  readonly recentTelemetry: RecentTelemetry
  /** The detector config topic (versions, ../detector-versions.ts); null: no detector changes over the API. */
  readonly detectorConfigTopic: string | null
  /** Checks a version's detector actions against the receivers file (../detector-actions.ts); absent: not checked. */
  readonly checkDetectorActions?: DetectorActionsCheck
  /** The writers of the versioned configurations (../config-versions.ts); null: no configuration changes over the API. */
  readonly versions: { readonly detectors: ConfigVersionWriter<DetectorsConfig>; readonly alertRules: ConfigVersionWriter<AlertRulesConfig> | null } | null
  /** The alert rules this instance started from, and their cross-checks; null: alert rules are not versioned here. */
  readonly alertRules: AlertRulesVersioning | null
  /** Every API input path writes telemetry through this (telemetry-ingest.ts). */
  readonly ingest: TelemetryIngest
  /** Per detector, from the stored feedback (false-positive-rates.ts). */
  readonly falsePositiveRates: FalsePositiveRates
  /** The wall clock (a test's clock in tests). */
  readonly now: () => number
  readonly version: string
  readonly startedAt: number
}

/** The alert lifecycle's side of the API: acknowledge / resolve commands, silences. */
export interface AlertLifecycleApi {
  /** Where `PUT /alerts/:id` writes, keyed by `groupKeyOf(alert)` (the lifecycle's key). */
  readonly commandsTopic: string
  readonly groupKeyOf: (alert: AlertEvent) => string | Promise<string>
  /** Where silences are written, and the book of every silence (this instance's dispatcher fills it). */
  readonly silenceRulesTopic: string
  readonly silences: SilenceBook
}

export interface RoutesOptions {
  readonly ctx: ApiContext
}
