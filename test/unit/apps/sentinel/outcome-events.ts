/** Outcome telemetry (llm.response / llm.error) for tests of the per-window figures, at seconds after T0. */
import type { TelemetryEvent } from '../../../../schemas/telemetry/index.js'

export const T0 = Date.UTC(2026, 0, 1)
let n = 0

export function outcome(
  app: string,
  model: string | undefined,
  second: number,
  latency_ms: number,
  extra: Partial<TelemetryEvent> = {},
  failed = false,
): TelemetryEvent {
  n += 1
  return {
    event_id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    timestamp: new Date(T0 + second * 1000).toISOString(),
    source: { service: 'obs', host: 'h' },
    event_type: failed ? 'llm.error' : 'llm.response',
    application_id: app,
    tenant_id: 'acme',
    data: { status: failed ? 'error' : 'success', latency_ms, ...(model === undefined ? {} : { model }), total_tokens: 100, cost: 0.01 },
    ...extra,
  }
}
