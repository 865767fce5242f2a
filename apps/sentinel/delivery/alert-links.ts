/** Links from a message back to Sentinel's API (the receivers file's `publicUrl`). */
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'

/** `{publicUrl}/api/v1/anomalies/{anomaly_id}` of the anomaly that made the alert fire, or null without a publicUrl. */
export function anomalyLink(alert: AlertEvent, publicUrl: string | null): string | null {
  return publicUrl === null ? null : `${publicUrl}/api/v1/anomalies/${encodeURIComponent(alert.anomaly.anomaly_id)}`
}

/** Cuts `text` to `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
