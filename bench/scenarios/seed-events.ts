/**
 * Calls as seed 001 TelemetryEvents: an llm.request (with the model) at the call's start and an
 * outcome (llm.response, or llm.error for a failure) when it ends. The outcome has the seed's
 * ResponseData shape only: no `model`, no `prompt_tokens`; it shares `correlation_id` (the request
 * id) with its request, as a tracing producer would send it.
 */
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import { SCENARIO_APPS, SCENARIO_MODELS } from './population.js'
import type { ScenarioRandom } from './scenario-random.js'
import type { Call } from './traffic.js'

/** Prompts are sent as text up to this length (longer ones are cut, as a producer would truncate). */
const MAX_PROMPT_CHARS = 20_000

const iso = (ms: number): string => new Date(ms).toISOString()

export function callEvents(call: Call, random: ScenarioRandom): [TelemetryEvent, TelemetryEvent] {
  const app = SCENARIO_APPS.find((a) => a.id === call.app)!
  const model = SCENARIO_MODELS.find((m) => m.id === call.model)!
  const common = {
    source: { service: 'llm-gateway', host: `gw-${call.app}` },
    application_id: call.app,
    tenant_id: app.tenant,
    correlation_id: call.id,
    metadata: { user_id: call.user, session_id: call.session, environment: 'prod' as const },
  }
  const request: TelemetryEvent = {
    ...common,
    event_id: random.uuid(),
    timestamp: iso(call.start),
    event_type: 'llm.request',
    data: { model: call.model, prompt: 'p'.repeat(Math.min(call.promptChars, MAX_PROMPT_CHARS)), prompt_tokens: call.promptTokens },
  }
  const failed = call.status !== 'success'
  const cost = (call.promptTokens * model.promptPrice + call.completionTokens * model.completionPrice) / 1000
  const outcome: TelemetryEvent = {
    ...common,
    event_id: random.uuid(),
    timestamp: iso(call.start + call.latencyMs),
    // Failures come both ways producers report them: half as llm.error, half as a failed llm.response.
    event_type: failed && call.id.charCodeAt(0) % 2 === 0 ? 'llm.error' : 'llm.response',
    data: {
      status: call.status,
      latency_ms: call.latencyMs,
      completion_tokens: call.completionTokens,
      total_tokens: call.promptTokens + call.completionTokens,
      cost: Math.round(cost * 1e6) / 1e6,
      finish_reason: failed ? 'error' : 'stop',
    },
  }
  return [request, outcome]
}

/** All events of the calls, in event-time order. */
export function telemetryOf(calls: readonly Call[], random: ScenarioRandom): TelemetryEvent[] {
  const events: { at: number; event: TelemetryEvent }[] = []
  for (const call of calls) {
    const [request, outcome] = callEvents(call, random)
    events.push({ at: call.start, event: request }, { at: call.start + call.latencyMs, event: outcome })
  }
  events.sort((a, b) => a.at - b.at)
  return events.map((e) => e.event)
}
