/**
 * Reading state stores across instances: a key is read where it lives (this instance's store, or the
 * owner's `/internal/v1/...` endpoint), a listing is gathered from every instance.
 *
 * Forwarding, not redirecting: the client talks to any instance (behind one load balancer address)
 * and gets the answer from it. A redirect would need every instance's `applicationServer` address
 * to be reachable by clients (it is usually an internal address), would make clients re-send
 * their API key to another origin and handle 307 for POSTs, and would leak the partitioning into
 * every client. The cost is one extra hop inside the cluster.
 *
 * The owner answers from its local store only (internal endpoints never forward again), so a
 * request never loops while instances disagree during a rebalance: an instance that is asked for a
 * key it no longer holds answers 503 and the client retries after `Retry-After`.
 */
import type { FastifyBaseLogger } from 'fastify'
import { type HostInfo, StoreNotQueryableError, type StreamsRuntime } from '../../../runtime/streams-runtime.js'
import { Serdes } from '../../../schemas/index.js'
import { ApiError, unavailable } from './errors.js'

export const hostName = (host: HostInfo): string => `${host.host}:${host.port}`

const sameHost = (a: HostInfo, b: HostInfo | null): boolean => b !== null && a.host === b.host && a.port === b.port

/** What a forwarded request carries from the client's: its API key, and its id so logs correlate. */
export interface ForwardContext {
  readonly authorization: string | undefined
  readonly requestId: string
}

/** The forward context of a fastify request. */
export const forwardContext = (request: { headers: { authorization?: string }; id: string }): ForwardContext => ({ authorization: request.headers.authorization, requestId: request.id })

export interface ScatterResult<T> {
  readonly results: readonly T[]
  /** Instances (host:port, or `local`) that did not answer. */
  readonly unavailable: readonly string[]
}

/** Calls the store layer, turning "not queryable here" into a 503 the client can retry. */
export async function queryable<T>(storeName: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (err) {
    if (err instanceof StoreNotQueryableError) throw unavailable(`store '${storeName}' cannot be queried right now (${err.message}); retry shortly`)
    throw err
  }
}

export class InteractiveQueries {
  constructor(
    private readonly runtime: StreamsRuntime,
    private readonly forwardTimeoutMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * The value of `key` in `storeName` (string keys): read by `local` when this instance owns it,
   * else GET `internalPath` on the owner (200: its JSON, 404: undefined). Throws ApiError 503 while
   * no instance holds the key (rebalancing) or the owner does not answer.
   */
  async byKey<T>(storeName: string, key: string, local: () => Promise<T | undefined>, internalPath: string, via: ForwardContext): Promise<T | undefined> {
    const meta = await queryable(storeName, async () => this.runtime.queryMetadataForKey(storeName, key, Serdes.string()))
    if (meta.local) return queryable(storeName, local)
    if (meta.active === null) throw unavailable(`no instance holds key '${key}' of store '${storeName}' right now (the application is rebalancing); retry shortly`)
    return this.forward<T>(meta.active, internalPath, via)
  }

  /**
   * Local-only read for the internal endpoints: answers only for keys this instance owns now, so a
   * forwarded request never lands on a stale copy nor gets forwarded again.
   */
  async ownedLocally<T>(storeName: string, key: string, local: () => Promise<T | undefined>): Promise<T | undefined> {
    const meta = await queryable(storeName, async () => this.runtime.queryMetadataForKey(storeName, key, Serdes.string()))
    if (!meta.local) {
      const owner = meta.active === null ? 'no instance yet (rebalancing)' : hostName(meta.active)
      throw unavailable(`this instance does not hold key '${key}' of store '${storeName}' (owner: ${owner}); retry shortly`)
    }
    return queryable(storeName, local)
  }

  /** `local` here and GET `internalPath` on every other instance, in parallel; what did not answer is listed. */
  async scatter<T>(storeName: string, local: () => Promise<T>, internalPath: string, via: ForwardContext): Promise<ScatterResult<T>> {
    const self = this.runtime.hostInfo
    const others = this.runtime.allHosts().filter((h) => !sameHost(h, self))
    const settled = await Promise.allSettled([
      queryable(storeName, local),
      ...others.map(async (host) => {
        const value = await this.forward<T>(host, internalPath, via)
        if (value === undefined) throw new Error(`${hostName(host)} answered 404`)
        return value
      }),
    ])
    const results: T[] = []
    const missing: string[] = []
    settled.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') results.push(outcome.value)
      else {
        const name = i === 0 ? 'local' : hostName(others[i - 1]!)
        this.log.warn({ host: name, err: outcome.reason as Error }, 'scatter-gather: an instance did not answer')
        missing.push(name)
      }
    })
    return { results, unavailable: missing }
  }

  private async forward<T>(host: HostInfo, path: string, via: ForwardContext): Promise<T | undefined> {
    const url = `http://${hostName(host)}${path}`
    let response: Response
    try {
      response = await fetch(url, {
        headers: {
          accept: 'application/json',
          'x-request-id': via.requestId,
          ...(via.authorization === undefined ? {} : { authorization: via.authorization }),
          ...(this.runtime.hostInfo ? { 'x-sentinel-forwarded-by': hostName(this.runtime.hostInfo) } : {}),
        },
        signal: AbortSignal.timeout(this.forwardTimeoutMs),
      })
    } catch (err) {
      throw unavailable(`the instance holding this key (${hostName(host)}) did not answer: ${(err as Error).message}; retry shortly`)
    }
    if (response.status === 404) {
      await response.body?.cancel()
      return undefined
    }
    const body = (await response.json().catch(() => null)) as unknown
    if (response.ok) return body as T
    const reason = typeof body === 'object' && body !== null && 'message' in body ? String((body as { message: unknown }).message) : `HTTP ${response.status}`
    if (response.status === 503) throw unavailable(`the instance ${hostName(host)} cannot answer right now: ${reason}`)
    throw new ApiError(502, 'bad_gateway', `the instance ${hostName(host)} answered ${response.status}: ${reason}`)
  }
}
