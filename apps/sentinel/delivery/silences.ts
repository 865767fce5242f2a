/**
 * Silences (Alertmanager's): label matchers with a start and an end. While one is active, an alert
 * whose labels (alerting/alert-notification.ts `alertLabels`: rule, severity, alert_id, detector_id,
 * application_id, tenant_id, the group's fields, the rule's labels such as team) all match is not
 * delivered: the dispatcher records the delivery as `silenced` and sends nothing.
 *
 * They live in a topic (`alert-silence-rules`, JSON, keyed by silence id; a later record of an id
 * replaces the earlier one, so expiring a silence is writing it again with `ends_at` now). Every
 * dispatcher reads the whole topic at each start (its own group, no commits) into a SilenceBook, so
 * every instance knows every silence. An alert that fires while silenced is not sent later.
 */
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'

export interface SilenceMatcher {
  readonly name: string
  readonly value: string
  /** `value` is a regular expression, anchored at both ends (Alertmanager's =~). */
  readonly is_regex: boolean
  /** false: the label must not match (!= / !~). */
  readonly is_equal: boolean
}

export interface Silence {
  readonly type: 'silence-rule'
  readonly id: string
  readonly matchers: readonly SilenceMatcher[]
  /** ISO-8601. */
  readonly starts_at: string
  readonly ends_at: string
  readonly created_by: string | null
  readonly comment: string | null
  readonly updated_at: string
}

export type SilenceState = 'pending' | 'active' | 'expired'

/** A regex matcher's source is capped: it runs on every delivery. */
export const MAX_MATCHER_REGEX = 200

const compiled = new Map<string, RegExp>()
function regex(source: string): RegExp {
  let re = compiled.get(source)
  if (re === undefined) {
    re = new RegExp(`^(?:${source})$`)
    if (compiled.size > 1000) compiled.clear()
    compiled.set(source, re)
  }
  return re
}

/** Problems of matchers as posted (empty: fine). */
export function matcherProblems(matchers: readonly SilenceMatcher[]): string[] {
  const problems: string[] = []
  if (matchers.length === 0) problems.push('matchers: give at least one matcher; a silence of everything is a maintenance window (rules file)')
  matchers.forEach((m, i) => {
    if (!m.is_regex) return
    if (m.value.length > MAX_MATCHER_REGEX) problems.push(`matchers[${i}].value: a regular expression of at most ${MAX_MATCHER_REGEX} characters`)
    else
      try {
        regex(m.value)
      } catch (err) {
        problems.push(`matchers[${i}].value: not a valid regular expression (${(err as Error).message}); fix it or set is_regex: false`)
      }
  })
  if (matchers.length > 0 && matchers.every((m) => !m.is_equal)) problems.push('matchers: at least one must be positive (is_equal: true), or the silence matches nearly everything')
  return problems
}

export function matcherMatches(m: SilenceMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[m.name] ?? ''
  const hit = m.is_regex ? regex(m.value).test(value) : value === m.value
  return hit === m.is_equal
}

export function silenceState(s: Silence, now: number): SilenceState {
  if (now < Date.parse(s.starts_at)) return 'pending'
  return now < Date.parse(s.ends_at) ? 'active' : 'expired'
}

export const silenceMatches = (s: Silence, labels: Readonly<Record<string, string>>, now: number): boolean => silenceState(s, now) === 'active' && s.matchers.every((m) => matcherMatches(m, labels))

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export function isSilence(value: unknown): value is Silence {
  if (!isObject(value) || value.type !== 'silence-rule' || typeof value.id !== 'string' || !Array.isArray(value.matchers)) return false
  if (typeof value.starts_at !== 'string' || typeof value.ends_at !== 'string' || !Number.isFinite(Date.parse(value.starts_at)) || !Number.isFinite(Date.parse(value.ends_at))) return false
  return value.matchers.every((m) => isObject(m) && typeof m.name === 'string' && typeof m.value === 'string' && typeof m.is_regex === 'boolean' && typeof m.is_equal === 'boolean')
}

/** Every silence this process has read, latest version per id. */
export class SilenceBook {
  private readonly silences = new Map<string, Silence>()
  private loadedResolve!: () => void
  /** Resolves once the topic has been read (or the dispatcher stopped waiting). */
  readonly loaded = new Promise<void>((resolve) => (this.loadedResolve = resolve))

  apply(silence: Silence): void {
    const before = this.silences.get(silence.id)
    // A replayed older version must not undo an expiry.
    if (before !== undefined && Date.parse(before.updated_at) > Date.parse(silence.updated_at)) return
    this.silences.set(silence.id, silence)
  }

  markLoaded(): void {
    this.loadedResolve()
  }

  get(id: string): Silence | undefined {
    return this.silences.get(id)
  }

  list(): Silence[] {
    return [...this.silences.values()]
  }

  /** The ids of the active silences matching `labels`. */
  silencing(labels: Readonly<Record<string, string>>, now: number): string[] {
    const ids: string[] = []
    for (const s of this.silences.values()) if (silenceMatches(s, labels, now)) ids.push(s.id)
    return ids
  }

  /** Drops silences expired more than `keepMs` ago (the list would grow forever). */
  prune(now: number, keepMs: number): void {
    for (const [id, s] of this.silences) if (Date.parse(s.ends_at) < now - keepMs) this.silences.delete(id)
  }
}

/** Labels of `alert` for silences: given by the caller (the rules' labels are the rules file's). */
export type AlertLabeller = (alert: AlertEvent) => Readonly<Record<string, string>>
