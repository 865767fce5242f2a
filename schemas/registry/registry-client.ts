/**
 * One Schema Registry client per connection, with its credentials. Every registry serde of an
 * application shares it, so schema ids are fetched once per process whatever the number of serdes.
 *
 * Credentials come from the caller (config) or the environment — `SCHEMA_REGISTRY_AUTH=user:pass`
 * (HTTP basic, Confluent's `basic.auth.user.info`) or `SCHEMA_REGISTRY_TOKEN` (a bearer token) — or
 * from userinfo in the URL, which is then removed from it. They are kept out of everything this
 * module returns that could be logged: use `redactedRegistryUrl` for log lines.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'

export type RegistryAuth = { readonly kind: 'basic'; readonly username: string; readonly password: string } | { readonly kind: 'bearer'; readonly token: string }

export interface RegistryConnection {
  /** The Confluent-compatible base URL, e.g. http://localhost:8081 (Apicurio: .../apis/ccompat/v7). */
  readonly url: string
  readonly auth?: RegistryAuth
}

type ClientArgs = ConstructorParameters<typeof SchemaRegistry>[0]
type Middleware = NonNullable<ClientArgs['middlewares']>[number]

/** Bearer tokens have no slot in the library's options: a request middleware adds the header. */
const bearer = (token: string): Middleware =>
  (() => ({
    request: (request: { enhance(changes: { headers: Record<string, string> }): unknown }) => request.enhance({ headers: { Authorization: `Bearer ${token}` } }),
  })) as unknown as Middleware

/** Credentials from the environment, or undefined. A malformed value throws, naming the variable only. */
export function registryAuthFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryAuth | undefined {
  const token = env.SCHEMA_REGISTRY_TOKEN?.trim()
  const basic = env.SCHEMA_REGISTRY_AUTH?.trim()
  if (token && basic) throw new Error('both SCHEMA_REGISTRY_TOKEN and SCHEMA_REGISTRY_AUTH are set: keep the one your registry expects')
  if (token) return { kind: 'bearer', token }
  if (basic) return parseBasicAuth(basic, 'SCHEMA_REGISTRY_AUTH')
  return undefined
}

/** `user:pass` (the password may contain colons). `where` names the setting in the error, never the value. */
export function parseBasicAuth(userInfo: string, where: string): RegistryAuth {
  const colon = userInfo.indexOf(':')
  if (colon <= 0) throw new Error(`${where} must be written user:password (the value given has no user before a colon)`)
  return { kind: 'basic', username: userInfo.slice(0, colon), password: userInfo.slice(colon + 1) }
}

/** Splits userinfo out of a URL: `http://u:p@host` → url `http://host`, basic auth u/p. */
export function splitUrlCredentials(url: string): RegistryConnection {
  const parsed = new URL(url)
  if (parsed.username === '' && parsed.password === '') return { url }
  const auth: RegistryAuth = { kind: 'basic', username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
  parsed.username = ''
  parsed.password = ''
  return { url: parsed.toString().replace(/\/$/, ''), auth }
}

/** The URL as it may appear in logs and errors: without userinfo. */
export function redactedRegistryUrl(url: string): string {
  return URL.canParse(url) ? splitUrlCredentials(url).url : '(not a URL)'
}

/**
 * A client for `connection`: explicit `auth` first, then credentials in the URL. The library's
 * retries are kept (3) so a registry restarting during start-up is waited for briefly.
 */
export function createRegistryClient(connection: RegistryConnection): SchemaRegistry {
  const split = splitUrlCredentials(connection.url)
  const auth = connection.auth ?? split.auth
  const args: ClientArgs = { host: split.url, clientId: 'sentinel-streams' }
  if (auth?.kind === 'basic') args.auth = { username: auth.username, password: auth.password }
  if (auth?.kind === 'bearer') args.middlewares = [bearer(auth.token)]
  return new SchemaRegistry(args)
}
