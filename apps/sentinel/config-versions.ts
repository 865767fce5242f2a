/**
 * Versions of a live configuration, kept in one compacted config topic that every instance reads
 * whole (a global table). Two configurations share the topic, each under its own keys:
 * - the detectors (detector-versions.ts): `v0000000007` → version 7, `current` → the one in force;
 * - the alert rules (alert-rule-versions.ts): `alert-rules/v0000000003`, `alert-rules/current`.
 * The detectors' keys have no prefix because they were there first (topics written by earlier
 * releases keep working).
 *
 * Every version is whole, never a diff, so any one of them can be restored by a rollback (itself a
 * new version, pointing back at the one it copies). Version 0 is the file an instance started from;
 * it is never written. A stored record is never trusted blindly: the topic is writable by others.
 */
export type VersionOp = 'create' | 'update' | 'delete' | 'rollback' | 'config'

/**
 * How a change reaches the running instances: `live` (at their next record, state kept),
 * `live-fresh` (without a restart, but the items it changes in shape start with empty state: a
 * detector on a rebuilt topology, an alert rule with a new window size), or `restart-required` (when instances restart with it).
 */
export type Applied = 'live' | 'live-fresh' | 'restart-required'

export const APPLIED_VALUES: readonly Applied[] = ['live', 'live-fresh', 'restart-required']

export interface ConfigVersion {
  readonly version: number
  readonly created_at: string
  readonly op: VersionOp | 'file'
  /** The item (detector, rule) created, updated or deleted; null for a rollback, a file or a PUT /config. */
  readonly subject: string | null
  /** For a rollback: the version restored. */
  readonly from_version: number | null
  /** The items, each as written in its file (a detector, a rule). */
  readonly definitions: readonly Record<string, unknown>[]
  /** The file's other top-level sections (alert rules: routing, maintenance_windows, ...); null when it has none. */
  readonly sections: Readonly<Record<string, unknown>> | null
}

/** Where one configuration's versions live in the topic, and how its records name their item. */
export interface VersionKeys {
  /** Prefix of its keys ('' for the detectors). */
  readonly prefix: string
  /** The stored field naming the version's item (`detector_id`, `rule_id`). */
  readonly subjectField: string
}

export const CURRENT_KEY = 'current'
export const versionKey = (version: number, prefix = ''): string => `${prefix}v${String(version).padStart(10, '0')}`

/** Whether `key` is one of this configuration's keys (a version or `current`), not another's. */
export function isVersionKey(key: string, prefix: string): boolean {
  if (!key.startsWith(prefix)) return false
  const rest = key.slice(prefix.length)
  return rest === CURRENT_KEY || /^v\d{10}$/.test(rest)
}

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Reads a stored record; null for anything that is not a version. */
export function readVersion(value: unknown, subjectField = 'detector_id'): ConfigVersion | null {
  if (!isMapping(value)) return null
  const v = value
  if (!Number.isSafeInteger(v.version) || (v.version as number) < 0 || !Array.isArray(v.definitions) || typeof v.created_at !== 'string') return null
  if (!v.definitions.every(isMapping)) return null
  return {
    version: v.version as number,
    created_at: v.created_at,
    op: typeof v.op === 'string' ? (v.op as ConfigVersion['op']) : 'update',
    subject: typeof v[subjectField] === 'string' ? (v[subjectField] as string) : null,
    from_version: Number.isSafeInteger(v.from_version) ? (v.from_version as number) : null,
    definitions: v.definitions as Record<string, unknown>[],
    sections: isMapping(v.sections) ? v.sections : null,
  }
}

/** A version as stored (and summarised): its item under the configuration's own field name. */
export function storedRecord(version: ConfigVersion, subjectField: string): Record<string, unknown> {
  const { subject, sections, ...rest } = version
  return { ...rest, [subjectField]: subject, ...(sections === null ? {} : { sections }) }
}

/** Whether two versions hold the same configuration (what a watched file compares before publishing). */
export const sameContent = (a: Pick<ConfigVersion, 'definitions' | 'sections'>, b: Pick<ConfigVersion, 'definitions' | 'sections'>): boolean =>
  JSON.stringify(a.definitions) === JSON.stringify(b.definitions) && JSON.stringify(a.sections ?? {}) === JSON.stringify(b.sections ?? {})

/** The keys in which two objects differ (compared as JSON), sorted. */
export function changedKeys(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>, ignore: readonly string[] = []): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !ignore.includes(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort()
}

/** The slowest way any of the changes applies: `restart-required`, else `live-fresh`, else `live`. */
export const appliedOf = (changes: readonly { readonly applied: Applied }[]): Applied =>
  changes.some((c) => c.applied === 'restart-required') ? 'restart-required' : changes.some((c) => c.applied === 'live-fresh') ? 'live-fresh' : 'live'
