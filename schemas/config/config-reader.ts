/**
 * The one reader of YAML/JSON configuration files: parses the text, checks it against the file's
 * JSON Schema (ajv, draft-07, every error at once) and says what is wrong the way a person fixes
 * it: `<file>: <field path>: <problem>; <fix>`, e.g.
 *
 *   rules.yaml: rules[2].conditions.trigger: "alarm" is not valid; use anomaly
 *
 * The schema carries the structure (types, required fields, enums, ranges, unknown keys); the
 * caller keeps the rules a schema cannot say well (references between sections, durations,
 * cross-field bounds) and runs them on the value afterwards. The same .schema.json files are
 * published for editors, so the editor and the start check agree.
 *
 * Fix texts: a schema node's `x-fix` (an annotation this reader registers) is the advice shown when
 * that node fails; without one the advice is derived from the schema (the allowed values of an enum,
 * the bound of a range, the known keys of a mapping with the closest one to a misspelt key).
 * It lives in schemas/ (the lowest layer) so the app and the CLI read their files the same way.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { parseDocument } from 'yaml'
import { closestName } from './closest-name.js'

/** One step of a field path: a key, or an index in a list. */
export type ConfigPathPart = string | number

export interface ConfigIssue {
  /** From the file's root, e.g. ['rules', 2, 'conditions', 'trigger']; empty for the file itself. */
  readonly path: readonly ConfigPathPart[]
  /** `<problem>; <fix>`, e.g. `"alarm" is not valid; use anomaly`. */
  readonly message: string
}

/** `rules[2].conditions.trigger`; `(file)` for the root. */
export function fieldPath(path: readonly ConfigPathPart[]): string {
  const text = path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('')
  return text.length === 0 ? '(file)' : text
}

export function describeConfigIssue(source: string, issue: ConfigIssue): string {
  return `${source}: ${fieldPath(issue.path)}: ${issue.message}`
}

export class ConfigFileError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`invalid config file ${source}:\n${issues.map((i) => `  - ${describeConfigIssue(source, i)}`).join('\n')}`)
    this.name = 'ConfigFileError'
  }
}

// allErrors: a file is fixed in one round, not one error per start. Strict: a schema typo (a
// misspelt keyword) fails at compile time instead of silently checking nothing. Union types are
// allowed because durations are written `30s` or as milliseconds.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true })
ajv.addKeyword({ keyword: 'x-fix', schemaType: 'string' })

export type ConfigValidator = ValidateFunction

/** Compiles a config file's JSON Schema (once, at module load: a bad schema fails at start). */
export function compileConfigSchema(schema: object): ConfigValidator {
  return ajv.compile(schema)
}

/** The value of a YAML (or JSON: YAML is its superset) text, or its syntax errors as issues. */
export function parseConfigText(text: string): { readonly value: unknown; readonly issues: readonly ConfigIssue[] } {
  const doc = parseDocument(text)
  if (doc.errors.length > 0) return { value: undefined, issues: doc.errors.map((e) => ({ path: [], message: `YAML syntax: ${e.message}` })) }
  return { value: doc.toJS() as unknown, issues: [] }
}

interface SchemaNode {
  type?: string | string[]
  enum?: readonly unknown[]
  const?: unknown
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  properties?: Record<string, SchemaNode>
  'x-fix'?: string
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'null',
}

function typeName(type: string | string[] | undefined): string {
  const types = type === undefined ? [] : Array.isArray(type) ? type : [type]
  return types.map((t) => TYPE_NAMES[t] ?? t).join(' or ') || 'another type'
}

function pathOf(instancePath: string, child?: string): ConfigPathPart[] {
  const parts: ConfigPathPart[] = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^(0|[1-9]\d*)$/.test(p) ? Number(p) : p))
  if (child !== undefined) parts.push(child)
  return parts
}

const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}

/** `problem; fix`, or the problem alone when there is no advice beyond it. */
const withFix = (problem: string, fix: string | undefined): string => (fix === undefined || fix.length === 0 ? problem : `${problem}; ${fix}`)

function rangeFix(node: SchemaNode): string {
  const low = node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : node.minimum !== undefined ? `>= ${node.minimum}` : null
  const high = node.exclusiveMaximum !== undefined ? `< ${node.exclusiveMaximum}` : node.maximum !== undefined ? `<= ${node.maximum}` : null
  return `give ${node.type === 'integer' ? 'an integer' : 'a number'} ${[low, high].filter((b) => b !== null).join(' and ')}`
}

function issueOf(error: ErrorObject): ConfigIssue | null {
  const node = (error.parentSchema ?? {}) as SchemaNode
  const fix = node['x-fix']
  const path = pathOf(error.instancePath)
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required': {
      const field = String(params.missingProperty)
      return { path: pathOf(error.instancePath, field), message: withFix('is required', node.properties?.[field]?.['x-fix']) }
    }
    case 'additionalProperties': {
      const field = String(params.additionalProperty)
      const known = Object.keys(node.properties ?? {})
      const closest = closestName(field, known)
      const list = known.length === 0 ? 'this mapping takes no fields' : `the fields here are ${known.join(', ')}`
      return { path: pathOf(error.instancePath, field), message: `is not a known field; ${closest === null ? list : `did you mean '${closest}'? ${list}`}` }
    }
    case 'type':
      return { path, message: withFix(`must be ${typeName(node.type)}`, fix) }
    case 'enum':
      return { path, message: `${shown(error.data)} is not valid; ${fix ?? `use ${(node.enum ?? []).map(String).join(' | ')}`}` }
    case 'const':
      return { path, message: `${shown(error.data)} is not valid; ${fix ?? `use ${String(node.const)}`}` }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `${shown(error.data)} is not valid; ${fix ?? rangeFix(node)}` }
    case 'minLength':
      return { path, message: withFix('must not be empty', fix) }
    case 'minItems':
      return { path, message: withFix(Number(params.limit) === 1 ? 'must not be an empty list' : `must list at least ${String(params.limit)} entries`, fix) }
    case 'uniqueItems': {
      const list = Array.isArray(error.data) ? (error.data as unknown[]) : []
      return { path, message: `lists ${shown(list[Number(params.j)])} twice; list each once` }
    }
    case 'pattern':
    case 'format':
      return { path, message: `${shown(error.data)} is not valid; ${fix ?? `write ${error.message ?? 'the expected form'}`}` }
    case 'not':
      return { path, message: withFix('is not allowed here', fix) }
    case 'oneOf':
    case 'anyOf':
      return { path, message: `${shown(error.data)} is not valid; ${fix ?? 'it fits none of the forms the schema accepts here'}` }
    case 'minProperties':
      return { path, message: withFix('must not be empty', fix) }
    case 'if':
      return null // the failing `then` has said what is wrong
    default:
      return { path, message: withFix(error.message ?? 'is invalid', fix) }
  }
}

/** The schema's errors as issues, in file order, without the noise of alternatives' branches. */
export function schemaIssues(errors: readonly ErrorObject[]): ConfigIssue[] {
  // A value that fits no branch of a oneOf/anyOf gets one issue (the node's x-fix), not one per branch.
  const alternatives = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.schemaPath)
  const seen = new Set<string>()
  const issues: ConfigIssue[] = []
  for (const error of errors) {
    if (alternatives.some((a) => error.schemaPath !== a && error.schemaPath.startsWith(`${a}/`))) continue
    const issue = issueOf(error)
    if (issue === null) continue
    const key = `${fieldPath(issue.path)}\u0000${issue.message}`
    if (seen.has(key)) continue
    seen.add(key)
    issues.push(issue)
  }
  return issues
}

/** The value's schema issues (none: it has the schema's shape). Never mutates the value. */
export function validateConfig(validator: ConfigValidator, value: unknown): ConfigIssue[] {
  return validator(value) ? [] : schemaIssues(validator.errors ?? [])
}

/**
 * Parses and checks a config text; throws ConfigFileError with every issue. For callers without
 * semantic checks of their own; callers with some use parseConfigText + validateConfig and add theirs.
 */
export function readConfigText(text: string, source: string, validator: ConfigValidator): unknown {
  const parsed = parseConfigText(text)
  const issues = parsed.issues.length > 0 ? parsed.issues : validateConfig(validator, parsed.value)
  if (issues.length > 0) throw new ConfigFileError(source, issues)
  return parsed.value
}
