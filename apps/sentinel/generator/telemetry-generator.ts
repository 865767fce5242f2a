/**
 * Synthetic LLM telemetry: several applications (each of one tenant), models with their own latency,
 * token and cost profiles, users with Zipf-like activity, sessions of calls with think time between
 * them, a daily traffic curve with slowly wandering load, and per-call noise, plus labelled
 * incidents injected at known event times.
 *
 * Deterministic: everything is drawn from one seeded PRNG, so a seed reproduces a run exactly.
 * Event time is compressed: hours of traffic are generated in seconds, in event-time order, minute by
 * minute (a session is planned when it starts; its later calls wait in a small buffer until their
 * minute comes), so memory stays bounded however long the span.
 *
 * Every call is an `llm.request` at its start and an `llm.response` (or `llm.error`) at start +
 * latency, linked by correlation_id, with metadata user_id / session_id / environment.
 */
import type { ResponseData, TelemetryEvent } from '../../../schemas/telemetry/telemetry-event.js'
import { APPLICATIONS, type ApplicationProfile, type ModelProfile, applicationProfile, diurnalFactor, modelProfile, userId, userWeights } from './catalogue.js'
import { EXPECTED_DETECTORS, type Incident, type IncidentEntity, type IncidentKind, entityKey } from './incidents.js'
import { SeededRandom } from './random.js'

export interface GeneratorOptions {
  /** PRNG seed (default 42). */
  readonly seed?: number
  /** Event time of the first minute, epoch ms (default 2026-03-02T07:00:00Z, a Monday morning). */
  readonly start?: number
  /** Span of event time, hours (default 6; at least MIN_HOURS_WITH_INCIDENTS when incidents are on). */
  readonly hours?: number
  /** Inject the five labelled incidents (default true). */
  readonly incidents?: boolean
  /** Multiplies every application's traffic (default 1). */
  readonly trafficScale?: number
}

export const DEFAULT_START = Date.parse('2026-03-02T07:00:00Z')
/** Detectors learn their baselines for WARMUP_MINUTES before the first incident; the last one ends TAIL_MINUTES before the end. */
export const WARMUP_MINUTES = 90
export const TAIL_MINUTES = 25
const MIN_SLOT_MINUTES = 25
export const MIN_HOURS_WITH_INCIDENTS = Math.ceil((WARMUP_MINUTES + TAIL_MINUTES + 5 * MIN_SLOT_MINUTES) / 60)

const MINUTE = 60_000
/** Calls slower than this are cut by the client: status timeout. */
const CLIENT_TIMEOUT_MS = 120_000

interface Call {
  readonly app: ApplicationProfile
  readonly model: ModelProfile
  readonly user: string
  readonly session: string
  readonly at: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly temperature: number
  /** Set by an incident: the call's telemetry is shaped by it. */
  readonly incident?: PlannedIncident
  readonly contentFilter?: boolean
}

/** How an incident changes the calls made while it lasts. */
interface PlannedIncident {
  readonly incident: MutableIncident
  /** Latency multiplier for calls of `model`. */
  readonly latencyFactor?: { readonly model: string; readonly factor: number }
  /** Prompt-token multiplier for calls of `application`. */
  readonly promptFactor?: { readonly application: string; readonly factor: number }
  /** Share of calls of `application` rejected at once (HTTP 429-like status error). */
  readonly rejectShare?: { readonly application: string; readonly share: number }
}

interface MutableIncident extends Omit<Incident, 'affected' | 'start' | 'end'> {
  start: number
  end: number
  readonly affected: Map<string, IncidentEntity>
}

interface Pending {
  readonly at: number
  readonly seq: number
  readonly event: TelemetryEvent
}

export class TelemetryGenerator {
  readonly seed: number
  readonly start: number
  readonly end: number
  private readonly random: SeededRandom
  private readonly scale: number
  private readonly planned: PlannedIncident[] = []
  private readonly injected: { at: number; calls: Call[] }[] = []
  private readonly weights = new Map<string, number[]>()
  private readonly load = new Map<string, number>()
  private pending: Pending[] = []
  private seq = 0
  private used = false

  constructor(options: GeneratorOptions = {}) {
    this.seed = options.seed ?? 42
    this.start = options.start ?? DEFAULT_START
    const hours = options.hours ?? 6
    if (!(hours > 0)) throw new Error(`generator: 'hours' must be > 0, got ${hours}`)
    const withIncidents = options.incidents ?? true
    if (withIncidents && hours < MIN_HOURS_WITH_INCIDENTS) {
      throw new Error(`generator: 'hours' must be at least ${MIN_HOURS_WITH_INCIDENTS} with incidents (detectors learn for ${WARMUP_MINUTES} min before the first one, and five need room), got ${hours}; lower it only with incidents: false`)
    }
    this.end = this.start + Math.round(hours * 60) * MINUTE
    this.scale = options.trafficScale ?? 1
    this.random = new SeededRandom(this.seed)
    for (const app of APPLICATIONS) {
      let total = 0
      this.weights.set(app.id, userWeights(app, this.random).map((w) => (total += w)))
      this.load.set(app.id, 0)
    }
    if (withIncidents) this.planIncidents()
  }

  /**
   * The labelled incidents. Times are fixed at construction; `affected` is complete once the events
   * have been generated (it lists the users and models the incident's calls touched).
   */
  get incidents(): Incident[] {
    return this.planned.map(({ incident }) => ({ ...incident, affected: [...incident.affected.values()] }))
  }

  /** The events in event-time order (one pass: a generator instance is used once). */
  *events(): Generator<TelemetryEvent> {
    if (this.used) throw new Error('generator: events() can be iterated once; create a new TelemetryGenerator (same seed, same events) to replay')
    this.used = true
    for (let minute = this.start; minute < this.end; minute += MINUTE) {
      yield* this.flush(minute)
      for (const app of APPLICATIONS) this.startSessions(app, minute)
      for (const injection of this.injected) if (injection.at >= minute && injection.at < minute + MINUTE) for (const call of injection.calls) this.emitCall(call)
    }
    yield* this.flush(this.end)
    this.pending = []
  }

  async *stream(): AsyncGenerator<TelemetryEvent> {
    for (const event of this.events()) yield event
  }

  private *flush(before: number): Generator<TelemetryEvent> {
    if (this.pending.length === 0) return
    this.pending.sort((a, b) => a.at - b.at || a.seq - b.seq)
    let i = 0
    while (i < this.pending.length && this.pending[i]!.at < before) i++
    const ready = this.pending.slice(0, i)
    this.pending = this.pending.slice(i)
    for (const p of ready) yield p.event
  }

  /** New sessions of an application in one minute: Poisson around the diurnal rate times a slowly wandering load. */
  private startSessions(app: ApplicationProfile, minute: number): void {
    // AR(1) on the log of the load: minutes of busier or quieter traffic, not white noise.
    const level = 0.9 * (this.load.get(app.id) ?? 0) + 0.06 * this.random.normal()
    this.load.set(app.id, level)
    const callsPerMinute = app.peakCallsPerMinute * diurnalFactor(minute) * Math.exp(level) * this.scale
    const sessions = this.random.poisson(callsPerMinute / app.meanSessionCalls)
    for (let s = 0; s < sessions; s++) this.planSession(app, minute + this.random.next() * MINUTE)
  }

  private planSession(app: ApplicationProfile, at: number): void {
    const user = userId(app, this.pickUser(app))
    const session = `s-${this.random.hex(12)}`
    const model = modelProfile(this.random.weighted(app.models, (m) => m.share).model)
    const calls = this.random.geometric(app.meanSessionCalls)
    let t = at
    for (let i = 0; i < calls && t < this.end; i++) {
      this.emitCall(this.normalCall(app, model, user, session, i, t))
      t += this.random.logNormal(app.thinkTimeS * 1000, 0.6)
    }
  }

  private pickUser(app: ApplicationProfile): number {
    return this.random.indexByCumulative(this.weights.get(app.id) ?? [0])
  }

  private lightUser(app: ApplicationProfile): number {
    const cumulative = this.weights.get(app.id) ?? []
    for (;;) {
      const i = this.random.int(0, app.users - 1)
      const weight = (cumulative[i] ?? 0) - (i === 0 ? 0 : (cumulative[i - 1] ?? 0))
      if (weight < 1) return i
    }
  }

  private normalCall(app: ApplicationProfile, model: ModelProfile, user: string, session: string, index: number, at: number): Call {
    const prompt = this.random.logNormal(app.promptTokens + app.promptGrowthPerCall * index, app.promptSigma)
    const completion = Math.min(app.maxTokens, this.random.logNormal(app.completionTokens, 0.5))
    return { app, model, user, session, at, promptTokens: Math.max(1, Math.round(prompt)), completionTokens: Math.max(1, Math.round(completion)), temperature: this.random.pick([0, 0.2, 0.7, 1]) }
  }

  /** The incidents active for this call, with their effects applied. */
  private shape(call: Call): { call: Call; latencyFactor: number; rejected: boolean } {
    let shaped = call
    let latencyFactor = 1
    let rejected = false
    for (const planned of this.planned) {
      const { incident } = planned
      if (call.incident === planned) {
        this.touch(incident, call)
        continue
      }
      if (call.at < incident.start || call.at > incident.end) continue
      if (planned.latencyFactor && planned.latencyFactor.model === call.model.id) {
        latencyFactor *= planned.latencyFactor.factor
        this.touch(incident, call)
      }
      if (planned.promptFactor && planned.promptFactor.application === call.app.id) {
        shaped = { ...shaped, promptTokens: Math.round(shaped.promptTokens * planned.promptFactor.factor) }
        this.touch(incident, call)
      }
      if (planned.rejectShare && planned.rejectShare.application === call.app.id && this.random.chance(planned.rejectShare.share)) {
        rejected = true
        this.touch(incident, call)
      }
    }
    return { call: shaped, latencyFactor, rejected }
  }

  private touch(incident: MutableIncident, call: Call): void {
    for (const entity of [{ type: 'application', id: call.app.id }, { type: 'model', id: call.model.id }, { type: 'user', id: call.user }] as const) {
      incident.affected.set(entityKey(entity), entity)
    }
  }

  private emitCall(raw: Call): void {
    if (raw.at >= this.end) return
    const { call, latencyFactor, rejected } = this.shape(raw)
    const { app, model } = call
    const base = {
      source: { service: 'llm-observatory', host: `obs-${(this.seq % 3) + 1}`, version: '1.4.2' },
      application_id: app.id,
      tenant_id: app.tenant,
      correlation_id: this.random.uuid(),
      metadata: { user_id: call.user, session_id: call.session, environment: 'prod' as const },
    }
    this.push(call.at, {
      event_id: this.random.uuid(),
      timestamp: new Date(Math.round(call.at)).toISOString(),
      event_type: 'llm.request',
      ...base,
      // Observatory hashes prompts for privacy: only the hash travels.
      data: { model: model.id, prompt: `sha256:${this.random.hex(64)}`, prompt_tokens: call.promptTokens, parameters: { temperature: call.temperature, max_tokens: app.maxTokens } },
    })

    // Busier hours queue a little at the provider.
    const queueing = 1 + 0.25 * Math.pow(diurnalFactor(call.at), 2)
    let data: ResponseData
    let type: TelemetryEvent['event_type'] = 'llm.response'
    if (rejected || this.random.chance(model.errorRate)) {
      type = 'llm.error'
      data = { status: 'error', latency_ms: round(this.random.logNormal(rejected ? 120 : 900, 0.5)), finish_reason: 'error', model: model.id, prompt_tokens: call.promptTokens }
    } else {
      const ttft = this.random.logNormal(model.ttftMs, 0.35) + (model.prefillMsPer1k * call.promptTokens) / 1000
      const generation = (call.completionTokens / (model.tokensPerSecond * this.random.logNormal(1, 0.15))) * 1000
      const latency = (ttft + generation) * queueing * latencyFactor
      if (latency > CLIENT_TIMEOUT_MS) {
        type = 'llm.error'
        data = { status: 'timeout', latency_ms: CLIENT_TIMEOUT_MS, finish_reason: 'error', model: model.id, prompt_tokens: call.promptTokens }
      } else {
        const cost = (call.promptTokens * model.pricePer1kPrompt + call.completionTokens * model.pricePer1kCompletion) / 1000
        data = {
          status: 'success',
          latency_ms: round(latency),
          completion_tokens: call.completionTokens,
          total_tokens: call.promptTokens + call.completionTokens,
          cost: Math.round(cost * 1e6) / 1e6,
          finish_reason: call.contentFilter ? 'content_filter' : call.completionTokens >= app.maxTokens ? 'length' : 'stop',
          model: model.id,
          prompt_tokens: call.promptTokens,
        }
      }
    }
    this.push(call.at + data.latency_ms, { event_id: this.random.uuid(), timestamp: new Date(Math.round(call.at + data.latency_ms)).toISOString(), event_type: type, ...base, data })
  }

  private push(at: number, event: TelemetryEvent): void {
    if (at >= this.end) return
    this.pending.push({ at: Math.round(at), seq: this.seq++, event })
  }

  /**
   * Five incidents, evenly spread after the warm-up (jittered by the seed), in a fixed order of kinds.
   * Each picks its victim (model, application, user) the way it would happen: a degraded provider
   * model, a RAG application whose retriever starts stuffing prompts, an agent stuck in a loop on a
   * premium model, an application rate-limited by its provider, one user of a chat app trying
   * jailbreaks.
   */
  private planIncidents(): void {
    const firstAt = this.start + WARMUP_MINUTES * MINUTE
    const slot = Math.floor((this.end - TAIL_MINUTES * MINUTE - firstAt) / 5 / MINUTE) * MINUTE
    const startOf = (i: number): number => firstAt + i * slot + Math.floor(this.random.uniform(0, 3)) * MINUTE + this.random.int(0, 59) * 1000
    const order: IncidentKind[] = ['latency-spike', 'token-rate-spike', 'cost-runaway', 'error-burst', 'jailbreak-burst']
    order.forEach((kind, i) => this.planIncident(kind, i + 1, startOf(i)))
  }

  private incident(kind: IncidentKind, n: number, entity: IncidentEntity, start: number, end: number, description: string): MutableIncident {
    return { id: `inc-${n}-${kind}`, kind, description, entity, start, end, detectors: EXPECTED_DETECTORS[kind], affected: new Map([[entityKey(entity), entity]]) }
  }

  private planIncident(kind: IncidentKind, n: number, start: number): void {
    switch (kind) {
      case 'latency-spike': {
        const model = 'claude-3-5-sonnet'
        const factor = 3
        const incident = this.incident(kind, n, { type: 'model', id: model }, start, start + 15 * MINUTE, `${model} answers ${factor}x slower for 15 min (provider degradation)`)
        this.planned.push({ incident, latencyFactor: { model, factor } })
        return
      }
      case 'token-rate-spike': {
        const app = 'search-rag'
        const factor = 4
        const incident = this.incident(kind, n, { type: 'application', id: app }, start, start + 20 * MINUTE, `${app} prompts ${factor}x longer for 20 min (retriever stuffing the context)`)
        this.planned.push({ incident, promptFactor: { application: app, factor } })
        return
      }
      case 'cost-runaway': {
        const app = applicationProfile('research-agent')
        const model = modelProfile('claude-3-opus')
        const user = userId(app, this.random.int(0, app.users - 1))
        const session = `s-${this.random.hex(12)}`
        const incident = this.incident(kind, n, { type: 'application', id: app.id }, start, start, `an agent of ${user} in ${app.id} loops on ${model.id}, re-sending its growing transcript (40 calls over $1 in ~12 min)`)
        const planned: PlannedIncident = { incident }
        const calls: Call[] = []
        let t = start
        // No human in the loop: the next call goes out as soon as the last answer is in (short tool-call
        // completions, ~15 s on this model), each one re-sending the whole, growing transcript.
        for (let i = 0; i < 40; i++) {
          const promptTokens = Math.round(this.random.logNormal(70_000 + 2_500 * i, 0.05))
          calls.push({ app, model, user, session, at: t, promptTokens, completionTokens: Math.round(this.random.logNormal(250, 0.3)), temperature: 0, incident: planned })
          t += this.random.logNormal(18_000, 0.15)
        }
        this.inject(incident, planned, calls)
        return
      }
      case 'error-burst': {
        const app = 'support-chat'
        const share = 0.5
        const incident = this.incident(kind, n, { type: 'application', id: app }, start, start + 10 * MINUTE, `${app} rate-limited by its provider: ${share * 100}% of calls rejected for 10 min`)
        this.planned.push({ incident, rejectShare: { application: app, share } })
        return
      }
      case 'jailbreak-burst': {
        const app = applicationProfile('support-chat')
        // A light user (less active than the median): the burst is nothing like their usual sessions.
        const user = userId(app, this.lightUser(app))
        const session = `s-${this.random.hex(12)}`
        const model = modelProfile('gpt-4o')
        const incident = this.incident(kind, n, { type: 'user', id: user }, start, start, `${user} sends 70 long role-play prompts in ~11 min in one session (jailbreak attempts)`)
        const planned: PlannedIncident = { incident }
        const calls: Call[] = []
        let t = start
        for (let i = 0; i < 70; i++) {
          const promptTokens = Math.round(this.random.logNormal(4_500, 0.25))
          calls.push({ app, model, user, session, at: t, promptTokens, completionTokens: Math.round(this.random.logNormal(120, 0.5)), temperature: 1, incident: planned, contentFilter: this.random.chance(0.4) })
          t += this.random.logNormal(9_000, 0.3)
        }
        this.inject(incident, planned, calls)
        return
      }
    }
  }

  /** Injected calls are emitted in their minute like any other; the incident spans them. */
  private inject(incident: MutableIncident, planned: PlannedIncident, calls: Call[]): void {
    const last = calls[calls.length - 1]
    incident.end = last === undefined ? incident.start : last.at
    this.planned.push(planned)
    for (const call of calls) {
      const minute = call.at - ((call.at - this.start) % MINUTE)
      let slot = this.injected.find((s) => s.at === minute)
      if (!slot) this.injected.push((slot = { at: minute, calls: [] }))
      slot.calls.push(call)
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}

export interface GeneratedTelemetry {
  readonly events: TelemetryEvent[]
  readonly incidents: Incident[]
}

/** The whole run at once (for tests and files; `TelemetryGenerator.events()` streams it). */
export function generateTelemetry(options: GeneratorOptions = {}): GeneratedTelemetry {
  const generator = new TelemetryGenerator(options)
  const events = [...generator.events()]
  return { events, incidents: generator.incidents }
}


