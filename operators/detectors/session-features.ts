/**
 * The features of one LLM session (issue 6): requests, tokens, cost, distinct models, error ratio,
 * duration and requests per minute, built up record by record in a plain JSON accumulator.
 */
export interface SessionRecord {
  readonly timestamp: number
  readonly tokens: number
  readonly cost: number
  readonly model: string
  readonly error: boolean
}

export interface SessionSummary {
  readonly requests: number
  readonly tokens: number
  readonly cost: number
  readonly errors: number
  readonly models: string[]
  readonly start: number
  readonly end: number
}

export const SESSION_FEATURES = ['requests', 'tokens', 'cost', 'distinct_models', 'error_ratio', 'duration_s', 'requests_per_minute'] as const
export type SessionFeature = (typeof SESSION_FEATURES)[number]

export function addToSession(s: SessionSummary | undefined, r: SessionRecord): SessionSummary {
  if (!s) return { requests: 1, tokens: r.tokens, cost: r.cost, errors: r.error ? 1 : 0, models: [r.model], start: r.timestamp, end: r.timestamp }
  return {
    requests: s.requests + 1,
    tokens: s.tokens + r.tokens,
    cost: s.cost + r.cost,
    errors: s.errors + (r.error ? 1 : 0),
    models: s.models.includes(r.model) ? s.models : [...s.models, r.model],
    start: Math.min(s.start, r.timestamp),
    end: Math.max(s.end, r.timestamp),
  }
}

/** Merges two sessions bridged by a late record (session windows merge). */
export function mergeSessions(a: SessionSummary, b: SessionSummary): SessionSummary {
  return {
    requests: a.requests + b.requests,
    tokens: a.tokens + b.tokens,
    cost: a.cost + b.cost,
    errors: a.errors + b.errors,
    models: [...new Set([...a.models, ...b.models])],
    start: Math.min(a.start, b.start),
    end: Math.max(a.end, b.end),
  }
}

export function sessionFeatures(s: SessionSummary): Record<SessionFeature, number> {
  const durationS = (s.end - s.start) / 1000
  // A one-record session lasts 0 s; its rate is counted over one minute rather than divided by zero.
  const minutes = Math.max(durationS / 60, 1)
  return {
    requests: s.requests,
    tokens: s.tokens,
    cost: s.cost,
    distinct_models: s.models.length,
    error_ratio: s.requests > 0 ? s.errors / s.requests : 0,
    duration_s: durationS,
    requests_per_minute: s.requests / minutes,
  }
}
