/**
 * Who produces the synthetic telemetry: models with their own latency, speed, price and failure
 * profiles, and applications (each of one tenant) with their traffic share, model mix, session shape
 * and prompt sizes. Figures are in the range of public list prices and observed latencies of 2024-25
 * hosted models; they are not meant to be exact, only to give each model and application a
 * distinct, plausible normal.
 */

export interface ModelProfile {
  readonly id: string
  /** Median time to first token, ms. */
  readonly ttftMs: number
  /** Extra time to first token per 1k prompt tokens, ms (prefill). */
  readonly prefillMsPer1k: number
  /** Median generation speed, completion tokens per second. */
  readonly tokensPerSecond: number
  /** USD per 1k prompt and completion tokens. */
  readonly pricePer1kPrompt: number
  readonly pricePer1kCompletion: number
  /** Share of calls failing in normal operation. */
  readonly errorRate: number
}

export interface ApplicationProfile {
  readonly id: string
  readonly tenant: string
  /** Calls per minute at the daily peak. */
  readonly peakCallsPerMinute: number
  /** Model ids with their share of calls. */
  readonly models: readonly { readonly model: string; readonly share: number }[]
  readonly users: number
  /** Mean calls per session (geometric) and median think time between calls, seconds. */
  readonly meanSessionCalls: number
  readonly thinkTimeS: number
  /** Median prompt tokens of a first call, and how much each later call of a session adds (conversation history). */
  readonly promptTokens: number
  readonly promptGrowthPerCall: number
  readonly promptSigma: number
  readonly completionTokens: number
  readonly maxTokens: number
}

export const MODELS: readonly ModelProfile[] = [
  { id: 'gpt-4o', ttftMs: 450, prefillMsPer1k: 25, tokensPerSecond: 80, pricePer1kPrompt: 0.0025, pricePer1kCompletion: 0.01, errorRate: 0.004 },
  { id: 'gpt-4o-mini', ttftMs: 320, prefillMsPer1k: 15, tokensPerSecond: 110, pricePer1kPrompt: 0.00015, pricePer1kCompletion: 0.0006, errorRate: 0.004 },
  { id: 'claude-3-5-sonnet', ttftMs: 600, prefillMsPer1k: 30, tokensPerSecond: 70, pricePer1kPrompt: 0.003, pricePer1kCompletion: 0.015, errorRate: 0.006 },
  { id: 'claude-3-haiku', ttftMs: 260, prefillMsPer1k: 12, tokensPerSecond: 140, pricePer1kPrompt: 0.00025, pricePer1kCompletion: 0.00125, errorRate: 0.004 },
  { id: 'claude-3-opus', ttftMs: 1100, prefillMsPer1k: 40, tokensPerSecond: 28, pricePer1kPrompt: 0.015, pricePer1kCompletion: 0.075, errorRate: 0.008 },
  { id: 'llama-3-70b', ttftMs: 380, prefillMsPer1k: 20, tokensPerSecond: 45, pricePer1kPrompt: 0.0009, pricePer1kCompletion: 0.0009, errorRate: 0.01 },
]

export const APPLICATIONS: readonly ApplicationProfile[] = [
  {
    id: 'support-chat',
    tenant: 'acme',
    peakCallsPerMinute: 45,
    models: [{ model: 'gpt-4o-mini', share: 0.75 }, { model: 'gpt-4o', share: 0.25 }],
    users: 3000,
    meanSessionCalls: 6,
    thinkTimeS: 35,
    promptTokens: 350,
    promptGrowthPerCall: 160,
    promptSigma: 0.35,
    completionTokens: 180,
    maxTokens: 1024,
  },
  {
    id: 'code-assistant',
    tenant: 'globex',
    peakCallsPerMinute: 25,
    models: [{ model: 'claude-3-5-sonnet', share: 0.65 }, { model: 'gpt-4o', share: 0.35 }],
    users: 400,
    meanSessionCalls: 8,
    thinkTimeS: 60,
    promptTokens: 2500,
    promptGrowthPerCall: 300,
    promptSigma: 0.5,
    completionTokens: 350,
    maxTokens: 4096,
  },
  {
    id: 'search-rag',
    tenant: 'acme',
    peakCallsPerMinute: 18,
    models: [{ model: 'llama-3-70b', share: 0.6 }, { model: 'gpt-4o-mini', share: 0.4 }],
    users: 1500,
    meanSessionCalls: 3,
    thinkTimeS: 45,
    promptTokens: 2800,
    promptGrowthPerCall: 0,
    promptSigma: 0.3,
    completionTokens: 250,
    maxTokens: 1024,
  },
  {
    id: 'doc-summarizer',
    tenant: 'initech',
    peakCallsPerMinute: 8,
    models: [{ model: 'claude-3-haiku', share: 0.7 }, { model: 'gpt-4o-mini', share: 0.3 }],
    users: 300,
    meanSessionCalls: 4,
    thinkTimeS: 120,
    promptTokens: 6000,
    promptGrowthPerCall: 0,
    promptSigma: 0.6,
    completionTokens: 500,
    maxTokens: 2048,
  },
  {
    id: 'research-agent',
    tenant: 'hooli',
    peakCallsPerMinute: 3,
    models: [{ model: 'claude-3-opus', share: 0.5 }, { model: 'claude-3-5-sonnet', share: 0.5 }],
    users: 120,
    meanSessionCalls: 6,
    thinkTimeS: 40,
    promptTokens: 12000,
    promptGrowthPerCall: 1500,
    promptSigma: 0.7,
    completionTokens: 700,
    maxTokens: 8192,
  },
]

export function modelProfile(id: string): ModelProfile {
  const model = MODELS.find((m) => m.id === id)
  if (!model) throw new Error(`unknown model '${id}'; known: ${MODELS.map((m) => m.id).join(', ')}`)
  return model
}

export function applicationProfile(id: string): ApplicationProfile {
  const app = APPLICATIONS.find((a) => a.id === id)
  if (!app) throw new Error(`unknown application '${id}'; known: ${APPLICATIONS.map((a) => a.id).join(', ')}`)
  return app
}

/** User ids of an application: `<app>-u0001`... (stable, so a user is the same across runs). */
export function userId(app: ApplicationProfile, index: number): string {
  return `${app.id}-u${String(index + 1).padStart(4, '0')}`
}

/**
 * Relative activity of an application's users: log-normal (sigma 1), so a few heavy users are
 * active ten times as often as the median user and most users are light. Drawn from `random`, so
 * it is part of the seeded run.
 */
export function userWeights(app: ApplicationProfile, random: { normal(): number }): number[] {
  return Array.from({ length: app.users }, () => Math.exp(random.normal()))
}

/**
 * The daily traffic curve, in (0, 1]: lowest around 03:00 UTC, highest around 15:00 UTC, with a
 * small dip at lunch (12:00-13:00 UTC).
 */
export function diurnalFactor(timeMs: number): number {
  const hour = (timeMs / 3_600_000) % 24
  const base = 0.55 - 0.45 * Math.cos((2 * Math.PI * (hour - 3)) / 24)
  const lunch = 1 - 0.12 * Math.exp(-Math.pow((hour - 12.5) / 0.5, 2))
  return base * lunch
}
