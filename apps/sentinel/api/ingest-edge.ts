/**
 * The ingest thread's HTTP server (started in a worker by ingest-thread.ts, `api.ingestThread`): it
 * owns the API's port so that accepting, parsing, authenticating, rate-limiting, validating,
 * deduplicating and serializing telemetry never waits for the topology's event loop, and the
 * topology's slices, GC and RocksDB callbacks never wait for a request.
 *
 * - `POST /api/v1/telemetry/events` is served here, by the same route and ingest as on the main
 *   thread (telemetry-routes.ts, telemetry-ingest.ts): same statuses and bodies. Its valid records
 *   go to the main thread as one batch message (ingest-thread-protocol.ts: one transferred buffer)
 *   and the request is answered 202 once the main thread's runtime has taken them (`send`: a full
 *   embedded log holds the request as before; a failed write is the same 503). On Kafka the thread
 *   writes them with its own idempotent producer instead (OwnWriter) and answers once the brokers
 *   have them, so no step of an ingest request runs on the main event loop.
 * - Every other request (the rest of /api/v1, /internal, OTLP/HTTP, /health, /metrics, 404s) is
 *   forwarded as it came (method, URL, headers, body, client address) to the main thread's API,
 *   which answers it with its own hooks, limits and handlers.
 *
 * What the ingest counts and how long its requests take are relayed to the main thread every
 * RELAY_INTERVAL_MS, so /metrics (on the main thread) shows them with the same names and labels.
 * Authentication and the rate limit apply here with the API's keys and limits; their buckets are
 * this thread's own (a client gets its limit here and again on the main thread's routes).
 */
import type { MessagePort } from 'node:worker_threads'
import rateLimit from '@fastify/rate-limit'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type pino from 'pino'
import type { ProducerConnection } from '../../../runtime/kafka/producer-connection.js'
import { type TopicWriter, topicWriterFor } from '../../../runtime/kafka/topic-writer.js'
import type { OutgoingRecord } from '../../../runtime/streams-runtime.js'
import { telemetryJsonSerde } from '../../../schemas/telemetry/index.js'
import type { EventTimeBounds } from '../event-time-bounds.js'
import { createApiServer, type RateLimitOptions, rateLimitSettings } from './api-server.js'
import { AuthFailureLimit } from './auth-failure-limit.js'
import { ApiKeys } from './bearer-auth.js'
import { type EdgeMessage, IngestMetricsRelay, type MainMessage, type SampleMessage, encodeBatch } from './ingest-thread-protocol.js'
import { RecentEventIds, type RecentEventIdsOptions } from './recent-event-ids.js'
import { TelemetryIngest } from './telemetry-ingest.js'
import { telemetryRoutes } from './telemetry-routes.js'

/** What the edge needs of the API's options: plain data, sent to the worker as workerData. */
export interface IngestEdgeOptions {
  readonly telemetryTopic: string
  readonly apiKeys: readonly string[]
  readonly bodyLimit: number
  readonly rateLimit: RateLimitOptions | false
  readonly authFailureLimit: RateLimitOptions
  readonly maxJsonDepth?: number
  readonly trustProxy?: boolean | string | string[]
  readonly eventTime: EventTimeBounds
  readonly dedup: RecentEventIdsOptions
  readonly maxBatchEvents: number
  /**
   * A number: answer 202 once the batch is handed to the main thread (standalone: the embedded log is
   * in this process's memory anyway), holding new requests while this many events are handed over but
   * not yet taken by the runtime (so a full log still holds senders). Null (Kafka): 202 once the
   * runtime has written the batch, as on the main thread.
   */
  readonly handoverWindowEvents: number | null
  /**
   * Kafka: the instance's connection, for the thread's own idempotent producer, so that a request's
   * write never waits for the main event loop either; the 202 comes once the brokers acknowledge it.
   * Null: the main thread's runtime writes each batch.
   */
  readonly producer: ProducerConnection | null
  /** How many of the newest written events the main thread keeps for detector dry runs (RecentTelemetry's capacity). */
  readonly sampleCapacity: number
}

export const RELAY_INTERVAL_MS = 250

/** Events handed to the main thread and not yet taken by its standalone runtime, past which requests wait (handoverWindowEvents). */
export const HANDOVER_WINDOW_EVENTS = 10_000

/** Headers that describe one hop's connection or framing, not the request: the forwarded copy gets its own. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'te', 'trailer'])

function endToEndHeaders(headers: Record<string, string | string[] | number | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !HOP_HEADERS.has(name)) out[name] = typeof value === 'number' ? String(value) : value
  return out
}

/** Writes with the thread's own producer; the newest written records go to the main thread's sample with each relay. */
class OwnWriter {
  private sample: OutgoingRecord[] = []
  private readonly writer: TopicWriter

  constructor(
    connection: ProducerConnection,
    logger: pino.Logger,
    private readonly sampleCapacity: number,
  ) {
    this.writer = topicWriterFor(connection, logger)
  }

  async send(topic: string, records: OutgoingRecord[]): Promise<void> {
    await this.writer.send(topic, records)
    if (this.sampleCapacity === 0) return
    for (const record of records) this.sample.push(record)
    if (this.sample.length > 2 * this.sampleCapacity) this.sample = this.sample.slice(-this.sampleCapacity)
  }

  /** The newest written records since the last take (at most the sample's capacity), as one message. */
  takeSample(topic: string): SampleMessage | null {
    if (this.sample.length === 0) return null
    const records = this.sample.length > this.sampleCapacity ? this.sample.slice(-this.sampleCapacity) : this.sample
    this.sample = []
    return { ...encodeBatch(0, topic, 'http', records), kind: 'sample' }
  }

  close(): Promise<void> {
    return this.writer.close()
  }
}

/** The main thread's side of the port, as the edge uses it: writes and forwarded requests, each awaited by id. */
class MainThread {
  private nextId = 0
  private readonly pending = new Map<number, (message: MainMessage) => void>()
  /** Handed-over events the runtime has not taken yet, and the requests waiting for room. */
  private handedOver = 0
  private readonly waitingForRoom: (() => void)[] = []

  constructor(
    readonly port: MessagePort,
    private readonly handoverWindowEvents: number | null,
    private readonly log: FastifyBaseLogger,
  ) {
    port.on('message', (message: MainMessage) => {
      if (message.kind === 'close') return
      const waiting = this.pending.get(message.id)
      this.pending.delete(message.id)
      waiting?.(message)
    })
  }

  /** One message per request (never per record). */
  async send(topic: string, records: OutgoingRecord[]): Promise<void> {
    const window = this.handoverWindowEvents
    if (window === null) {
      const message = encodeBatch(this.nextId++, topic, 'http', records)
      const answer = await this.ask(message, [message.bytes])
      if (answer.kind === 'written' && answer.error !== undefined) throw new Error(answer.error)
      return
    }
    // Backpressure: while the runtime holds its senders (a full log), its answers stop and so does the room here.
    while (this.handedOver > 0 && this.handedOver + records.length > window) await new Promise<void>((resolve) => this.waitingForRoom.push(resolve))
    const message = encodeBatch(this.nextId++, topic, 'http', records)
    this.handedOver += records.length
    this.pending.set(message.id, (answer) => {
      this.handedOver -= records.length
      for (const wake of this.waitingForRoom.splice(0)) wake()
      // Only when the runtime stops (the embedded log refuses sends then): the client had its 202.
      if (answer.kind === 'written' && answer.error !== undefined)
        this.log.error({ events: records.length, err: answer.error }, 'telemetry handed over was not written (the runtime is stopping)')
    })
    this.port.postMessage(message, [message.bytes])
  }

  ask(message: EdgeMessage & { readonly id: number }, transfer: ArrayBuffer[]): Promise<MainMessage> {
    return new Promise((resolve) => {
      this.pending.set(message.id, resolve)
      this.port.postMessage(message, transfer)
    })
  }

  get id(): number {
    return this.nextId++
  }
}

/** `kafkaLogger`: where the own producer's kafkajs logs go (pino, or silent), when `options.producer` is set. */
export function buildIngestEdge(options: IngestEdgeOptions, port: MessagePort, logger: FastifyBaseLogger | false, kafkaLogger: pino.Logger): FastifyInstance {
  const relay = new IngestMetricsRelay()
  const app = createApiServer({
    logger,
    bodyLimit: options.bodyLimit,
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    ...(options.maxJsonDepth === undefined ? {} : { maxJsonDepth: options.maxJsonDepth }),
    observe: (method, route, statusCode, seconds) => relay.request(method, route, statusCode, seconds),
  })
  const main = new MainThread(port, options.handoverWindowEvents, app.log)
  const own = options.producer === null ? null : new OwnWriter(options.producer, kafkaLogger, options.sampleCapacity)
  const flush = (): void => {
    const message = relay.take()
    if (message !== null) port.postMessage(message)
    const sample = own?.takeSample(options.telemetryTopic) ?? null
    if (sample !== null) port.postMessage(sample, [sample.bytes])
  }
  const timer = setInterval(flush, RELAY_INTERVAL_MS)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    flush()
    await own?.close()
  })

  const apiKeys = new ApiKeys(options.apiKeys)
  const now = Date.now
  const failures = apiKeys.enabled ? new AuthFailureLimit(options.authFailureLimit, now) : undefined
  const ingest = new TelemetryIngest(
    {
      runtime: own ?? main,
      telemetryTopic: options.telemetryTopic,
      // JSON only (the setting is refused with another input.format): what the main thread's serde reads.
      telemetrySerde: telemetryJsonSerde(),
      eventTime: options.eventTime,
      recentEventIds: new RecentEventIds(options.dedup),
      // The main thread keeps the sample: from the records it writes, or relayed by OwnWriter.
      recentTelemetry: { remember: () => undefined },
      metrics: relay,
      now,
    },
    app.log,
  )
  void app.register(
    async (api) => {
      if (options.rateLimit !== false) await api.register(rateLimit, rateLimitSettings(apiKeys, options.rateLimit))
      if (apiKeys.enabled) api.addHook('onRequest', apiKeys.hook(failures))
      await api.register(telemetryRoutes, { ctx: { maxBatchEvents: options.maxBatchEvents, ingest } })
    },
    { prefix: '/api/v1' },
  )
  void app.register(async (forwarded) => {
    // Any body, as bytes: the main thread's API parses it with its own parsers.
    forwarded.removeAllContentTypeParsers()
    forwarded.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
    forwarded.all('*', { config: { forwarded: true } }, async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : null
      const answer = await main.ask(
        {
          kind: 'forward',
          id: main.id,
          method: request.method,
          url: request.url,
          // The main thread logs the request under the id this thread gave it.
          headers: { ...endToEndHeaders(request.headers), 'x-request-id': request.id },
          body: body === null ? null : (body.buffer.slice(body.byteOffset, body.byteOffset + body.length) as ArrayBuffer),
          remoteAddress: request.socket.remoteAddress ?? '127.0.0.1',
        },
        [],
      )
      if (answer.kind !== 'response') throw new Error(`the main thread answered a forwarded request with '${answer.kind}'`)
      return reply.code(answer.statusCode).headers(endToEndHeaders(answer.headers)).send(Buffer.from(answer.body))
    })
  })
  return app
}
