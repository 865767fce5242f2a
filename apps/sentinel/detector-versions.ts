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
 * What applies without a restart (live-detector-settings.ts): whether a running detector runs
 * (`enabled`, deleted), its severity floor, actions and description, which act on its anomalies
 * after the operator; and its operator's live parameters (operator-parameters.ts: thresholds,
 * direction, minHistory, ... per strategy), which the operator reads per record. None of these
 * touch its state. Everything else the operator is built from (strategy, metric, window, baseline
 * size, groupBy, ...), a new detector, and enabling a detector that was disabled at start (its
 * operator is not in the topology) is `restart-required`: versioned, dry-runnable and exported as
 * a detectors file (GET /detectors/versions/:v/file), in force when instances restart with it.
 */
import { createHash } from 'node:crypto'
import { stringify } from 'yaml'
import { type Applied, type ConfigVersion, type VersionKeys, changedKeys, readVersion as readStoredVersion } from './config-versions.js'
import { type DetectorConfig, type DetectorsConfig, parseDetectorsConfig } from './detectors-config.js'
import { liveParameterFields } from './operator-parameters.js'

export { type Applied, type VersionOp, CURRENT_KEY, appliedOf, versionKey } from './config-versions.js'

/** A detector version: its subject is the detector created, updated or deleted; definitions as in a detectors file (`config:` nesting allowed). */
export type DetectorVersion = ConfigVersion

/** The detectors' keys in the config topic (config-versions.ts). */
export const DETECTOR_VERSION_KEYS: VersionKeys = { prefix: '', subjectField: 'detector_id' }

/**
 * The fields every running detector takes from a new version without a restart, besides its
 * operator's LIVE_PARAMETERS. `enabled` only for a detector enabled at start: one disabled then has
 * no operator in the topology, so switching it on needs a restart.
 */
export const LIVE_FIELDS = ['enabled', 'severity', 'actions', 'description'] as const

/**
 * The name of a detector's operator and stores: its id and a hash of every field but the live ones
 * (its state's shape: strategy, metric, window, groupBy, baseline sizes, ...). A version that
 * changes any of those runs the detector on stores of another name, so it starts fresh instead of
 * reading state of another shape; a rollback to the earlier shape finds that state again.
 */
export function detectorStateName(detector: DetectorConfig): string {
  const live = new Set<string>([...LIVE_FIELDS, ...liveParameterFields(detector), 'minSeverity'])
  const shape = Object.entries(detector)
    .filter(([field]) => !live.has(field))
    .sort(([a], [b]) => a.localeCompare(b))
  return `${detector.id}-${createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 8)}`
}

/** One field of one detector that a version changes, and how it applies on this instance. */
export interface VersionChange {
  readonly detector_id: string
  /** A definition field, or `(created)` / `(deleted)` for a whole detector. */
  readonly field: string
  readonly applied: Applied
}

/** Version 0: the instance's detectors file. */
export function fileVersion(config: DetectorsConfig, startedAt: number): DetectorVersion {
  return {
    version: 0,
    created_at: new Date(startedAt).toISOString(),
    op: 'file',
    subject: null,
    from_version: null,
    definitions: (config.definitions ?? []) as Record<string, unknown>[],
    sections: null,
  }
}

/** Checks a definition list as the file would be checked; throws DetectorsConfigError naming each field and fix. */
export function checkDefinitions(definitions: readonly Record<string, unknown>[], version: number): DetectorsConfig {
  // YAML is a superset of JSON: the file's parser reads the list as it would read the file.
  return parseDetectorsConfig(JSON.stringify({ detectors: definitions }), `detectors version ${version}`)
}

/** Reads a stored detector version; null for anything that is not one. */
export const readVersion = (value: unknown): DetectorVersion | null => readStoredVersion(value, DETECTOR_VERSION_KEYS.subjectField)

/** The fields in which two parsed detectors differ (`minSeverity` is `severity` as the file gave it). */
function changedFields(before: DetectorConfig, after: DetectorConfig): string[] {
  return changedKeys(before as unknown as Record<string, unknown>, after as unknown as Record<string, unknown>, ['minSeverity'])
}

/**
 * The fields of `after` that the running detector `before` (as the topology was built) cannot take
 * live. A detector disabled at start runs no operator: every change to it waits for a restart,
 * `enabled` included. Live parameters apply only to an operator of the same strategy.
 */
export function restartFields(before: DetectorConfig | undefined, after: DetectorConfig): string[] {
  if (before === undefined) return ['(new detector)']
  const changed = changedFields(before, after)
  if (!before.enabled) return changed
  const live = new Set<string>(LIVE_FIELDS)
  if (before.strategy === after.strategy) for (const field of liveParameterFields(before)) live.add(field)
  return changed.filter((k) => !live.has(k))
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

/**
 * What `next` changes against `previous` (the version it replaces), field by field, and how each
 * change applies on an instance that runs `running` (the detectors its topology was built from):
 * `live`, or, where restartFields says the running topology cannot take it, `structural`:
 * `live-fresh` where the instance rebuilds its topology on such a version (topology-rebuild.ts),
 * `restart-required` where it cannot (the standalone runtime).
 */
export function versionChanges(
  running: DetectorsConfig,
  previous: DetectorsConfig,
  next: DetectorsConfig,
  structural: Applied = 'restart-required',
): VersionChange[] {
  const started = new Map(running.detectors.map((d) => [d.id, d]))
  const before = new Map(previous.detectors.map((d) => [d.id, d]))
  const out: VersionChange[] = []
  for (const d of next.detectors) {
    const pending = new Set(restartFields(started.get(d.id), d))
    const prior = before.get(d.id)
    if (prior === undefined) {
      out.push({ detector_id: d.id, field: '(created)', applied: pending.size > 0 ? structural : 'live' })
      continue
    }
    for (const field of changedFields(prior, d))
      out.push({ detector_id: d.id, field, applied: pending.has(field) || pending.has('(new detector)') ? structural : 'live' })
  }
  const kept = new Set(next.detectors.map((d) => d.id))
  for (const d of previous.detectors) if (!kept.has(d.id)) out.push({ detector_id: d.id, field: '(deleted)', applied: 'live' })
  return out
}

/** A version as a detectors file, to start instances from. */
export function versionFile(version: DetectorVersion): string {
  return `# LLM-Sentinel detectors, version ${version.version} (${version.op}${version.subject === null ? '' : ` ${version.subject}`}, ${version.created_at})\n${stringify({ detectors: version.definitions })}`
}
