/**
 * `api.ingestThread`: the API's HTTP edge in a worker thread (ingest-edge.ts, ingest-worker.ts), so
 * that telemetry ingest does not share its event loop with the topology's hot path. The main
 * thread's API (sentinel-api.ts) is then built as always but not listening: the worker owns the port,
 * serves the telemetry ingest itself and forwards every other request here, where fastify's inject
 * runs it through the same hooks and handlers.
 *
 * What the main thread does per ingest request: one `runtime.send` of the batch's records (values
 * are views of the one buffer the worker transferred; no parse, no per-record await), the sample a
 * detector dry run reads (kept as bytes, decoded only when sampled), and the relayed metrics.
 */
import { type MessagePort, MessageChannel, Worker } from 'node:worker_threads'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import type { Serde } from '../../../schemas/serde.js'
import type { TelemetryEvent } from '../../../schemas/telemetry/index.js'
import type { ApiMetrics } from './api-metrics.js'
import type { IngestEdgeOptions } from './ingest-edge.js'
import { type EdgeMessage, type MainMessage, applyRelayedMetrics, decodeBatch } from './ingest-thread-protocol.js'
import type { IngestWorkerData } from './ingest-worker.js'
import type { RecentTelemetry } from './recent-telemetry.js'

/** What the main thread's API lends the ingest thread (sentinel-api.ts: ingestThreadTarget). */
export interface IngestThreadTarget {
  readonly api: FastifyInstance
  readonly runtime: Pick<StreamsRuntime, 'send'>
  readonly metrics: ApiMetrics
  readonly recentTelemetry: RecentTelemetry
  readonly telemetrySerde: Serde<TelemetryEvent>
  readonly edge: IngestEdgeOptions
}

/** Answers an edge's messages on `port`: writes its batches, runs its forwarded requests, applies its metrics. */
export function serveIngestEdge(port: MessagePort, target: IngestThreadTarget, onMessage: (message: EdgeMessage) => void = () => undefined): void {
  const reply = (message: MainMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer)
  const decode = (bytes: Buffer): TelemetryEvent => target.telemetrySerde.deserialize(bytes, target.edge.telemetryTopic)
  port.on('message', (message: EdgeMessage) => {
    switch (message.kind) {
      case 'batch': {
        const records = decodeBatch(message)
        target.runtime.send(message.topic, records).then(
          () => {
            target.recentTelemetry.rememberEncoded(
              records.map((r) => r.value as Buffer),
              decode,
            )
            reply({ kind: 'written', id: message.id })
          },
          (err: unknown) => reply({ kind: 'written', id: message.id, error: err instanceof Error ? err.message : String(err) }),
        )
        return
      }
      case 'forward':
        target.api
          .inject({
            method: message.method as 'GET',
            url: message.url,
            headers: message.headers,
            ...(message.body === null ? {} : { payload: Buffer.from(message.body) }),
            remoteAddress: message.remoteAddress,
          })
          .then(
            (res) => {
              const body = res.rawPayload
              const bytes = body.buffer.slice(body.byteOffset, body.byteOffset + body.length) as ArrayBuffer
              reply({ kind: 'response', id: message.id, statusCode: res.statusCode, headers: res.headers as Record<string, string | string[]>, body: bytes }, [
                bytes,
              ])
            },
            (err: unknown) => {
              target.api.log.error({ err }, 'a request forwarded by the ingest thread failed')
              const bytes = new TextEncoder().encode(JSON.stringify({ error: 'internal', message: 'internal error; see the server log' })).buffer as ArrayBuffer
              reply({ kind: 'response', id: message.id, statusCode: 500, headers: { 'content-type': 'application/json; charset=utf-8' }, body: bytes }, [bytes])
            },
          )
        return
      case 'sample':
        target.recentTelemetry.rememberEncoded(
          decodeBatch(message).map((r) => r.value as Buffer),
          decode,
        )
        return
      case 'metrics':
        applyRelayedMetrics(target.metrics, message)
        return
      default:
        onMessage(message)
    }
  })
}

export interface IngestThread {
  /** Where the worker listens (the API's address). */
  readonly address: string
  /** Stops the worker's server (in-flight requests finish first), then the worker. */
  close(): Promise<void>
}

// From dist, or from source under tsx: a worker does not inherit a loader registered through tsx's
// API (the test runner, `npx tsx`), so the source worker registers tsx before importing the entry.
const FROM_SOURCE = import.meta.url.endsWith('.ts')
const WORKER_URL = new URL(FROM_SOURCE ? './ingest-worker.ts' : './ingest-worker.js', import.meta.url)
const sourceWorker = (): string =>
  `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL.href)}) })`

/** Starts the ingest thread on host:port for the API `target.api` (ready, not listening). */
export async function startIngestThread(
  target: IngestThreadTarget,
  listen: { readonly host: string; readonly port: number },
  logger: FastifyBaseLogger | false,
): Promise<IngestThread> {
  const { port1, port2 } = new MessageChannel()
  const log =
    logger === false
      ? { level: 'silent', bindings: {} }
      : { level: logger.level, bindings: (logger as unknown as { bindings(): Record<string, unknown> }).bindings() }
  const data: IngestWorkerData = { port: port2, edge: target.edge, host: listen.host, listenPort: listen.port, log }
  const worker = FROM_SOURCE
    ? new Worker(sourceWorker(), { eval: true, workerData: data, transferList: [port2] })
    : new Worker(WORKER_URL, { workerData: data, transferList: [port2] })
  let closing = false
  let resolveClosed: () => void = () => undefined
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve))
  const listening = new Promise<string>((resolve, reject) => {
    serveIngestEdge(port1, target, (message) => {
      if (message.kind === 'listening') resolve(message.address)
      else if (message.kind === 'failed') reject(new Error(`the ingest thread could not listen on ${listen.host}:${listen.port}: ${message.message}`))
      else if (message.kind === 'closed') resolveClosed()
    })
    worker.once('error', reject)
  })
  if (target.edge.producer === null && target.edge.handoverWindowEvents === null)
    target.api.log.warn(
      'the ingest thread writes telemetry through the main thread, whose event loop then bounds its latency: the kafka settings hold functions (a token provider, a socket factory) that cannot be copied to a thread',
    )
  worker.on('error', (err) => target.api.log.error({ err }, 'the ingest thread failed'))
  worker.on('exit', (code) => {
    resolveClosed()
    if (!closing) target.api.log.error({ code }, 'the ingest thread stopped: telemetry is not accepted until a restart')
  })
  let address: string
  try {
    address = await listening
  } catch (err) {
    closing = true
    port1.close()
    await worker.terminate()
    throw err
  }
  return {
    address,
    async close() {
      if (closing) return
      closing = true
      port1.postMessage({ kind: 'close' } satisfies MainMessage)
      await closed
      port1.close()
      await worker.terminate()
    },
  }
}
