/**
 * The `sentinel.schemaRegistry` section: how Sentinel's topics use the Schema Registry once one is
 * configured (its URL: `sentinel.input.schemaRegistryUrl`, `sentinel.schemaRegistry.url`, the run's
 * `schemaRegistryUrl` or SCHEMA_REGISTRY_URL).
 *
 *   schemaRegistry:
 *     url: http://registry:8081
 *     subjectNameStrategy: TopicNameStrategy   # or RecordNameStrategy, TopicRecordNameStrategy
 *     auth: { username: sentinel, password: ... }   # or { token: ... }; prefer the environment:
 *
 * SCHEMA_REGISTRY_AUTH=user:password (basic) or SCHEMA_REGISTRY_TOKEN (bearer) override the file.
 * Credentials are kept in an object that prints as `[redacted]`, so settings dumped into a log line
 * or an error never carry them.
 */
import { ConfigError } from '../../runtime/config.js'
import { type RegistryAuth, registryAuthFromEnv } from '../../schemas/registry/registry-client.js'
import { SUBJECT_NAME_STRATEGIES, type SubjectNameStrategyName, isSubjectNameStrategyName } from '../../schemas/registry/subject-name-strategy.js'

export interface RegistrySettings {
  /** From this section only; the effective URL is `SentinelSettings.schemaRegistryUrl`. */
  readonly url: string | null
  readonly subjectNameStrategy: SubjectNameStrategyName
  /** Null: the registry is open (or credentials are in the URL's userinfo). */
  readonly auth: RegistryAuth | null
}

const STRATEGIES = Object.keys(SUBJECT_NAME_STRATEGIES).join(', ')

/** Hides the credentials from JSON.stringify and util.inspect (pino, console.log, assert messages). */
function redacted(auth: RegistryAuth): RegistryAuth {
  const hide = { value: () => '[redacted]', enumerable: false }
  return Object.defineProperties({ ...auth }, { toJSON: hide, [Symbol.for('nodejs.util.inspect.custom')]: hide })
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function authFromFile(raw: unknown, path: string): RegistryAuth | null {
  if (raw === undefined) return null
  const fix = 'Write auth: { username: ..., password: ... } or auth: { token: ... }; better, set SCHEMA_REGISTRY_AUTH=user:password or SCHEMA_REGISTRY_TOKEN instead of writing secrets in a file.'
  if (!isObject(raw)) throw new ConfigError(path, 'expected a mapping', fix)
  const keys = Object.keys(raw).sort().join(',')
  const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0
  if (keys === 'token' && nonEmpty(raw.token)) return { kind: 'bearer', token: raw.token }
  if (keys === 'password,username' && nonEmpty(raw.username) && nonEmpty(raw.password)) return { kind: 'basic', username: raw.username, password: raw.password }
  // The message names the keys, never the values: they may be secrets.
  throw new ConfigError(path, `expected non-empty username and password, or a token alone; got keys [${keys}]`, fix)
}

export function resolveRegistrySettings(raw: unknown, path: string, env: NodeJS.ProcessEnv): RegistrySettings {
  if (raw !== undefined && !isObject(raw)) throw new ConfigError(path, `expected a mapping, got ${JSON.stringify(raw)}`, "Write it as 'schemaRegistry:' followed by indented keys.")
  const section = raw ?? {}
  const unknown = Object.keys(section).find((k) => !['url', 'subjectNameStrategy', 'auth'].includes(k))
  if (unknown !== undefined) throw new ConfigError(`${path}.${unknown}`, 'is not a known setting', 'Known settings here: url, subjectNameStrategy, auth.')
  const url = section.url
  if (url !== undefined && (typeof url !== 'string' || !(URL.canParse(url) && /^https?:$/.test(new URL(url).protocol)))) {
    throw new ConfigError(`${path}.url`, 'is not an http(s) URL', 'Write it as http(s)://host:port (Apicurio: http://host:port/apis/ccompat/v7).')
  }
  const strategy = section.subjectNameStrategy ?? 'TopicNameStrategy'
  if (typeof strategy !== 'string' || !isSubjectNameStrategyName(strategy)) {
    throw new ConfigError(`${path}.subjectNameStrategy`, `${JSON.stringify(strategy)} is not a known strategy`, `Use one of ${STRATEGIES} (Confluent's names).`)
  }
  let auth: RegistryAuth | null
  try {
    auth = registryAuthFromEnv(env) ?? authFromFile(section.auth, `${path}.auth`)
  } catch (e) {
    if (e instanceof ConfigError) throw e
    throw new ConfigError('SCHEMA_REGISTRY_AUTH / SCHEMA_REGISTRY_TOKEN', (e as Error).message, 'Set SCHEMA_REGISTRY_AUTH=user:password for basic auth, or SCHEMA_REGISTRY_TOKEN=<token> for a bearer token.')
  }
  return { url: (url as string | undefined) ?? null, subjectNameStrategy: strategy, auth: auth === null ? null : redacted(auth) }
}
