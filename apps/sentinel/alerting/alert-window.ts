/**
 * One group's aggregation window of one rule: what the rule's tumbling window has seen so far, kept
 * in the alert windows store. Pure functions: the processor owns storage.
 */
import type { AnomalySeverity } from '../../../operators/detectors/severity.js'
import type { AnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'
import type { AggregationFunction } from './alert-rules-config.js'

export interface AlertWindowState {
  /** [start, end) in epoch ms. */
  readonly start: number
  readonly end: number
  readonly count: number
  /** Of the anomalies' scores. */
  readonly sum: number
  readonly max: number
  readonly min: number
  /** The highest severity seen. */
  readonly severity: AnomalySeverity
  /** The window's anomaly ids in arrival order, at most the processor's cap (the first ones). */
  readonly anomaly_ids: readonly string[]
  /** Whether the window has fired (a window fires at most once). */
  readonly fired: boolean
  /**
   * The latest `timestamp` of the window's anomalies (epoch ms): its alert is never dated before it.
   * Absent in states stored before it existed.
   */
  readonly latest_ms?: number
}

const RANK: Record<AnomalySeverity, number> = { info: 0, warning: 1, critical: 2 }

export function higherSeverity(a: AnomalySeverity, b: AnomalySeverity): AnomalySeverity {
  return RANK[b] > RANK[a] ? b : a
}

/**
 * When an anomaly says it was detected (epoch ms), or -Infinity when its timestamp is unreadable.
 * Detectors stamp a closed window's anomaly with the window's end while the record carries the time
 * of the window's last event, so the two differ.
 */
export function anomalyTimeMs(anomaly: AnomalyEvent): number {
  const t = Date.parse(anomaly.timestamp)
  return Number.isFinite(t) ? t : -Infinity
}

/** The window after `anomaly` (a new object: stored values are never mutated). */
export function addToWindow(state: AlertWindowState | undefined, window: { start: number; end: number }, anomaly: AnomalyEvent, maxIds: number): AlertWindowState {
  const score = anomaly.score
  const at = anomalyTimeMs(anomaly)
  if (state === undefined) return { start: window.start, end: window.end, count: 1, sum: score, max: score, min: score, severity: anomaly.severity, anomaly_ids: [anomaly.anomaly_id], fired: false, latest_ms: at }
  return {
    latest_ms: Math.max(state.latest_ms ?? -Infinity, at),
    ...state,
    count: state.count + 1,
    sum: state.sum + score,
    max: Math.max(state.max, score),
    min: Math.min(state.min, score),
    severity: higherSeverity(state.severity, anomaly.severity),
    anomaly_ids: state.anomaly_ids.length < maxIds ? [...state.anomaly_ids, anomaly.anomaly_id] : state.anomaly_ids,
  }
}

/** The rule's aggregate of the window: `count` counts anomalies, the others are of their scores. */
export function aggregateValue(state: AlertWindowState, fn: AggregationFunction): number {
  switch (fn) {
    case 'count':
      return state.count
    case 'sum':
      return state.sum
    case 'avg':
      return state.sum / state.count
    case 'max':
      return state.max
    case 'min':
      return state.min
  }
}
