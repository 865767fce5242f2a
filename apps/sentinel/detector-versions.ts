/**
 * Versions of the detector definitions, kept in one compacted config topic that every instance
 * reads whole (a global table): `v0000000007` → the full definition list of version 7, and
 * `current` → the version in force. Every version is a whole list, never a diff, so any one of them
 * can be restored by a rollback (which is itself a new version, pointing back at the one it copies).
 *
 * Version 0 is the detectors file each instance started from; it is never written. A definition
 * list is checked exactly as the file is (detectors-config.ts) before it is written: a bad one is
 * refused with each field and its fix, and `current` stays where it was.
 *
 * What applies without a restart (live-detector-settings.ts): whether a detector runs (enabled,
 * deleted), its severity floor and its actions, because those act on its anomalies after the
 * operator and leave its state alone. A change to anything the operator is built from (strategy,
 * metric, window, thresholds, groupBy) or a new detector is versioned, dry-runnable and exported as
 * a detectors file (GET /detectors/versions/:v/file), and takes effect when instances are restarted
 * with that file: the running topology is built once, at start.
 */
import { stringify } from 'yaml'
import { type DetectorConfig, type DetectorsConfig, parseDetectorsConfig } from './detectors-config.js'

export type VersionOp = 'create' | 'update' | 'delete' | 'rollback'

export interface DetectorVersion {
  readonly version: number
  readonly created_at: string
  readonly op: VersionOp | 'file'
  /** The detector created, updated or deleted; null for a rollback or the file. */
  readonly detector_id: string | null
  /** For a rollback: the version restored. */
  readonly from_version: number | null
  /** Each as written in a detectors file (`config:` nesting allowed). */
  readonly definitions: readonly Record<string, unknown>[]
}

export const CURRENT_KEY = 'current'
export const versionKey = (version: number): string => `v${String(version).padStart(10, '0')}`

/** The fields the running detectors take from a new version without a restart (the rest change the operator). */
export const LIVE_FIELDS = ['enabled', 'severity', 'actions', 'description'] as const

/** Version 0: the instance's detectors file. */
export function fileVersion(config: DetectorsConfig, startedAt: number): DetectorVersion {
  return {
    version: 0,
    created_at: new Date(startedAt).toISOString(),
    op: 'file',
    detector_id: null,
    from_version: null,
    definitions: (config.definitions ?? []) as Record<string, unknown>[],
  }
}

/** Checks a definition list as the file would be checked; throws DetectorsConfigError naming each field and fix. */
export function checkDefinitions(definitions: readonly Record<string, unknown>[], version: number): DetectorsConfig {
  // YAML is a superset of JSON: the file's parser reads the list as it would read the file.
  return parseDetectorsConfig(JSON.stringify({ detectors: definitions }), `detectors version ${version}`)
}

/** Reads a stored record; null for anything that is not a version (never trusted blindly: the topic is writable by others). */
export function readVersion(value: unknown): DetectorVersion | null {
  if (typeof value !== 'object' || value === null) return null
  const v = value as Record<string, unknown>
  if (!Number.isSafeInteger(v.version) || (v.version as number) < 0 || !Array.isArray(v.definitions) || typeof v.created_at !== 'string') return null
  if (!v.definitions.every((d) => typeof d === 'object' && d !== null && !Array.isArray(d))) return null
  return {
    version: v.version as number,
    created_at: v.created_at,
    op: typeof v.op === 'string' ? (v.op as DetectorVersion['op']) : 'update',
    detector_id: typeof v.detector_id === 'string' ? v.detector_id : null,
    from_version: Number.isSafeInteger(v.from_version) ? (v.from_version as number) : null,
    definitions: v.definitions as Record<string, unknown>[],
  }
}

/** The fields of a definition that differ between two parsed detectors and need a restart. */
export function restartFields(before: DetectorConfig | undefined, after: DetectorConfig): string[] {
  if (before === undefined) return ['(new detector)']
  const live = new Set<string>(LIVE_FIELDS)
  const a = before as unknown as Record<string, unknown>
  const b = after as unknown as Record<string, unknown>
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => !live.has(k) && k !== 'minSeverity' && JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .sort()
}

/**
 * What a version changes against what this instance runs (the topology built at start): the
 * detectors whose operator would differ, by id with the fields, and the new ones. Empty: the
 * version applies live in full.
 */
export function pendingRestart(running: DetectorsConfig, next: DetectorsConfig): Record<string, string[]> {
  const before = new Map(running.detectors.map((d) => [d.id, d]))
  const out: Record<string, string[]> = {}
  for (const d of next.detectors) {
    const fields = restartFields(before.get(d.id), d)
    if (fields.length > 0) out[d.id] = fields
  }
  return out
}

/** A version as a detectors file, to start instances from. */
export function versionFile(version: DetectorVersion): string {
  return `# LLM-Sentinel detectors, version ${version.version} (${version.op}${version.detector_id === null ? '' : ` ${version.detector_id}`}, ${version.created_at})\n${stringify({ detectors: version.definitions })}`
}
