/**
 * The routes every view store has: its listing and its entries by id (public, read wherever they
 * live), and the internal endpoints instances ask each other for them (local answers only, see
 * interactive-queries.ts).
 */
import type { FastifyInstance } from 'fastify'
import { ApiError } from './errors.js'
import { forwardContext } from './interactive-queries.js'
import type { TimeRange } from './keyset-pages.js'
import { errors, localPageSchemaOf, pageSchemaOf } from './schemas.js'
import { type ListQuery, pageQueryOf, pageResponse, type ViewQueries } from './view-reads.js'

export interface ViewRoutes<E, F extends TimeRange, T> {
  /** Relative to the route prefix, e.g. `/anomalies`; the view's `internalPath` ends with it. */
  readonly path: string
  readonly reads: ViewQueries<E, F, T>
  /** JSON schemas: the listing's query string, the `:id` parameter, a listed item. */
  readonly querystring: object
  readonly params: object
  readonly item: object
}

export interface ViewDocs {
  readonly tag: string
  readonly listSummary: string
  readonly listDescription: string
  readonly itemSummary: string
}

/** `GET <path>` (every instance's page, merged) and `GET <path>/:id` (from the instance holding it). */
export function addViewRoutes<E, F extends TimeRange, T>(app: FastifyInstance, { path, reads, querystring, params, item }: ViewRoutes<E, F, T>, docs: ViewDocs): void {
  const tags = [docs.tag]
  app.get<{ Querystring: ListQuery }>(
    path,
    { schema: { summary: docs.listSummary, description: docs.listDescription, tags, querystring, response: { 200: pageSchemaOf(item), ...errors(400, 401, 429, 503) } } },
    async (request) => pageResponse(await reads.page(pageQueryOf<F>(request.query), forwardContext(request)), reads.view.listing),
  )
  app.get<{ Params: { id: string } }>(
    `${path}/:id`,
    {
      schema: {
        summary: docs.itemSummary,
        description: 'Answered by the instance holding the id (forwarded there). 503 with Retry-After while the application rebalances.',
        tags,
        params,
        response: { 200: item, ...errors(401, 404, 429, 502, 503) },
      },
    },
    async (request) => reads.known(request.params.id, forwardContext(request)),
  )
}

/** The internal pair: this instance's page (`path`), and an entry it owns (`path/:id`). */
export function addViewInternalRoutes<E, F extends TimeRange, T>(app: FastifyInstance, { path, reads, querystring, params, item }: ViewRoutes<E, F, T>): void {
  const tags = ['internal']
  const noun = reads.view.noun
  app.get<{ Querystring: ListQuery }>(
    path,
    { schema: { summary: `This instance's page of ${noun}`, tags, querystring, response: { 200: localPageSchemaOf(item), ...errors(400, 401, 503) } } },
    async (request) => reads.localPage(pageQueryOf<F>(request.query)),
  )
  app.get<{ Params: { id: string } }>(
    `${path}/:id`,
    { schema: { summary: `This instance's entry of one of its ${noun}`, tags, params, response: { 200: { type: 'object', additionalProperties: true }, ...errors(401, 404, 503) } } },
    async (request) => {
      const entry = await reads.ownedEntry(request.params.id)
      if (entry === undefined) throw new ApiError(404, 'not_found', `no entry '${request.params.id}' here`)
      return entry
    },
  )
}
