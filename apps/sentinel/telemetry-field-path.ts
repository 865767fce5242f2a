/**
 * Telemetry field paths a detector can group by (`groupBy: source.host`, `metadata.tags.region`,
 * `data.dimensions.api_key_id`), checked against TelemetryEvent's Avro schema when the detectors
 * are loaded, so a misspelt path is refused with the closest known one instead of grouping every
 * record under "missing".
 *
 * A path names a scalar: a string, enum, number or boolean field (numbers and booleans are keyed by
 * their text), or one key of a map (`metadata.tags.<key>`, `data.dimensions.<key>`). `data` is the
 * payload union: a path into it is valid when one branch has it, and missing on the others.
 * `data.context` is left out: free-form JSON, not a field.
 */
import type avro from 'avsc'
import { closestName } from '../../schemas/config/closest-name.js'
import { type TelemetryEvent, telemetryEventSchema } from '../../schemas/telemetry/telemetry-event.js'

/** A validated field path of TelemetryEvent (made by `readFieldPath` only). */
export type FieldPath = string & { readonly fieldPath: true }

/** Fields that are not a group key though the schema types them as strings. */
const NOT_A_KEY = new Set(['data.context'])

interface KnownPaths {
  /** Paths of scalar fields. */
  readonly scalars: readonly string[]
  /** Paths of string maps: any one key below them is a path. */
  readonly maps: readonly string[]
}

function walk(type: avro.Schema, path: string, out: { scalars: Set<string>; maps: Set<string> }): void {
  if (NOT_A_KEY.has(path)) return
  if (Array.isArray(type)) {
    for (const branch of type) walk(branch as avro.Schema, path, out)
    return
  }
  if (typeof type === 'string') {
    if (type !== 'null' && type !== 'bytes') out.scalars.add(path)
    return
  }
  const t = type as { type: string; fields?: { name: string; type: avro.Schema }[]; values?: avro.Schema }
  if (t.type === 'record') for (const field of t.fields ?? []) walk(field.type, path === '' ? field.name : `${path}.${field.name}`, out)
  else if (t.type === 'enum') out.scalars.add(path)
  else if (t.type === 'map' && t.values === 'string') out.maps.add(path)
  else if (typeof t.type === 'string' && t.type !== 'array' && t.type !== 'fixed') walk(t.type as avro.Schema, path, out)
}

let known: KnownPaths | undefined
export function knownFieldPaths(): KnownPaths {
  if (known === undefined) {
    const out = { scalars: new Set<string>(), maps: new Set<string>() }
    walk(telemetryEventSchema, '', out)
    known = { scalars: [...out.scalars].sort(), maps: [...out.maps].sort() }
  }
  return known
}

/** `path` as a FieldPath, or the reason it is not one (with the closest known path when there is one). */
export function readFieldPath(path: string): { path: FieldPath } | { problem: string } {
  const { scalars, maps } = knownFieldPaths()
  if (scalars.includes(path)) return { path: path as FieldPath }
  const map = maps.find((m) => path.startsWith(`${m}.`) && path.length > m.length + 1)
  if (map !== undefined) return { path: path as FieldPath }
  if (maps.includes(path)) return { problem: `'${path}' is a map; name one of its keys, like ${path}.region` }
  if (NOT_A_KEY.has(path)) return { problem: `'${path}' is free-form JSON, not a field to group by` }
  const tags = maps.find((m) => m.endsWith('.tags'))
  // A bare unknown name (`country`) is most likely a tag.
  const bareTag = !path.includes('.') && tags !== undefined ? `${tags}.${path}` : null
  const hint = closestSibling(path, scalars) ?? mapKeyHint(path, maps) ?? closestName(path, scalars) ?? bareTag
  return {
    problem: `'${path}' is not a field of TelemetryEvent${hint === null ? '' : ` (did you mean ${hint}?)`}; a path names a field (${scalars.join(', ')}) or a key of ${maps.join(' or ')}`,
  }
}

/** A misspelt last segment among the fields beside it (`metadata.user_ids` → `metadata.user_id`). */
function closestSibling(path: string, scalars: readonly string[]): string | null {
  const parent = path.includes('.') ? path.slice(0, path.lastIndexOf('.') + 1) : ''
  const siblings = scalars.filter((s) => s.startsWith(parent) && !s.slice(parent.length).includes('.')).map((s) => s.slice(parent.length))
  const name = closestName(path.slice(parent.length), siblings)
  return name === null ? null : `${parent}${name}`
}

/**
 * The map key a wrong path most likely meant: a key written beside the map (`metadata.region` for
 * `metadata.tags.region`) or below the map's own name (`tags.region`). TelemetryEvent has no field
 * for region, host id or API key: they travel as tags.
 */
function mapKeyHint(path: string, maps: readonly string[]): string | null {
  for (const map of maps) {
    const parent = map.slice(0, map.lastIndexOf('.'))
    const name = map.slice(map.lastIndexOf('.') + 1)
    if (path.startsWith(`${parent}.`) && !path.slice(parent.length + 1).includes('.')) return `${map}.${path.slice(parent.length + 1)}`
    if (path.startsWith(`${name}.`)) return `${map}.${path.slice(name.length + 1)}`
  }
  return null
}

/** The event's value at `path` as a key, or null when the event has none there (or not a scalar). */
export function fieldValue(event: TelemetryEvent, path: FieldPath): string | null {
  let value: unknown = event
  for (const segment of segmentsOf(path)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
    value = Object.prototype.hasOwnProperty.call(value, segment) ? (value as Record<string, unknown>)[segment] : undefined
  }
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return null
}

const segments = new Map<string, readonly string[]>()

/** A map key may itself contain dots (`metadata.tags.k8s.io/zone`): it is everything after the map's path. */
function segmentsOf(path: FieldPath): readonly string[] {
  let known = segments.get(path)
  if (known === undefined) {
    const map = knownFieldPaths().maps.find((m) => path.startsWith(`${m}.`))
    known = map === undefined ? path.split('.') : [...map.split('.'), path.slice(map.length + 1)]
    segments.set(path, known)
  }
  return known
}
