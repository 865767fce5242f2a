/**
 * Calls as seed 001's TelemetryEvents, exactly its shape: an `llm.request` carrying the model,
 * prompt and prompt tokens; then an `llm.response` (or `llm.error`) carrying only the seed's
 * ResponseData (status, latency, completion and total tokens, cost, finish reason) — no `model`, no
 * `prompt_tokens` — joined to its request by `correlation_id` alone.
 */
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import type { Call } from './calls.js'
import type { Rng } from './rng.js'

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits

export function callEvents(rng: Rng, call: Call): [TelemetryEvent, TelemetryEvent] {
  const correlation = `req-${rng.uuid()}`
  const common = {
    source: { service: call.app.id, host: `${call.app.id}-${rng.int(1, 4)}`, version: '2.4.1' },
    application_id: call.app.id,
    tenant_id: call.app.tenant,
    correlation_id: correlation,
    metadata: { user_id: call.user.id, session_id: call.session, environment: 'prod' as const },
  }
  const request: TelemetryEvent = {
    ...common,
    event_id: rng.uuid(),
    timestamp: new Date(Math.round(call.t)).toISOString(),
    event_type: 'llm.request',
    data: {
      model: call.model.name,
      prompt: `sha256:${rng.uuid().replaceAll('-', '')}`,
      prompt_tokens: call.promptTokens,
      parameters: { temperature: 0.2, max_tokens: call.app.maxTokens },
    },
  }
  const ok = call.status === 'success'
  const cost = (call.promptTokens * call.model.promptPrice + call.completionTokens * call.model.completionPrice) / 1000
  const outcome: TelemetryEvent = {
    ...common,
    event_id: rng.uuid(),
    timestamp: new Date(Math.round(call.t + call.latencyMs)).toISOString(),
    event_type: ok ? 'llm.response' : 'llm.error',
    data: {
      status: call.status,
      latency_ms: round(call.latencyMs, 2),
      completion_tokens: call.completionTokens,
      total_tokens: call.promptTokens + call.completionTokens,
      cost: round(ok ? cost : 0, 6),
      finish_reason: ok ? 'stop' : 'error',
    },
  }
  return [request, outcome]
}
