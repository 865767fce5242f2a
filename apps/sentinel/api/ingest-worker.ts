/**
 * The ingest thread's entry (a worker_threads Worker started by ingest-thread.ts): builds the edge
 * (ingest-edge.ts) with its own pino logger at the main logger's level and bindings, listens on the
 * API's address, and closes when the main thread says so (in-flight requests finish first).
 */
// First, before kafkajs loads (the thread has its own module cache): the own producer's retries must not duplicate.
import '../../../runtime/kafka/kafkajs-replacements.js'
import { type MessagePort, workerData } from 'node:worker_threads'
import pino from 'pino'
import { buildIngestEdge, type IngestEdgeOptions } from './ingest-edge.js'
import type { EdgeMessage, MainMessage } from './ingest-thread-protocol.js'

export interface IngestWorkerData {
  readonly port: MessagePort
  readonly edge: IngestEdgeOptions
  readonly host: string
  readonly listenPort: number
  /** The main logger's level ('silent' for none) and bindings. */
  readonly log: { readonly level: string; readonly bindings: Record<string, unknown> }
}

const data = workerData as IngestWorkerData
const post = (message: EdgeMessage): void => data.port.postMessage(message)
const logger = pino({ level: data.log.level, base: { ...data.log.bindings, thread: 'ingest' } })
const app = buildIngestEdge(data.edge, data.port, data.log.level === 'silent' ? false : logger, logger.child({ component: 'kafka' }))
data.port.on('message', (message: MainMessage) => {
  if (message.kind !== 'close') return
  void app.close().then(
    () => post({ kind: 'closed' }),
    () => post({ kind: 'closed' }),
  )
})
app.listen({ host: data.host, port: data.listenPort }).then(
  (address) => post({ kind: 'listening', address }),
  (err: unknown) => post({ kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
)
