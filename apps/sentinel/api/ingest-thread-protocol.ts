/**
 * What the ingest thread (ingest-edge.ts, in a worker) and the main thread (ingest-thread.ts) say to
 * each other over their MessagePort, and the two pieces both ends share: the batch's encoding (one
 * ArrayBuffer per batch, transferred, not copied) and the relay of the ingest's metrics (counts per
 * batch and label, applied on the main thread's registry, so /metrics shows them with the labels and
 * bounds it always had).
 */
import type { OutgoingRecord } from '../../../runtime/streams-runtime.js'
import { type ApiMetrics, INGEST_PROTOCOL_HEADER, type IngestProtocol, type IngestRejection, acceptedPairs } from './api-metrics.js'
import type { IngestMetrics } from './telemetry-ingest.js'

/** Records of one ingest request for the telemetry topic: keys, and the values back to back in `bytes` (value i ends at `ends[i]`). */
export interface BatchMessage {
  readonly kind: 'batch'
  readonly id: number
  readonly topic: string
  readonly protocol: IngestProtocol
  readonly keys: readonly string[]
  readonly ends: Uint32Array
  readonly bytes: ArrayBuffer
}

/** A request the edge does not serve itself, for the main thread's API (fastify inject). */
export interface ForwardMessage {
  readonly kind: 'forward'
  readonly id: number
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string | string[]>
  readonly body: ArrayBuffer | null
  readonly remoteAddress: string
}

export interface MetricsMessage {
  readonly kind: 'metrics'
  /** Per protocol: counts per `application\u0000event_type`, and their total. */
  readonly accepted: readonly (readonly [IngestProtocol, ReadonlyMap<string, number>, number])[]
  readonly rejected: readonly (readonly [IngestRejection, number])[]
  readonly duplicates: number
  /** Finished requests: method, route pattern, status code, seconds. */
  readonly requests: readonly (readonly [string, string, number, number])[]
}

/** The newest records the edge wrote itself (own producer), for the main thread's dry-run sample; sent with each relay. */
export type SampleMessage = Omit<BatchMessage, 'kind'> & { readonly kind: 'sample' }

export type EdgeMessage =
  | BatchMessage
  | SampleMessage
  | ForwardMessage
  | MetricsMessage
  | { readonly kind: 'listening'; readonly address: string }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'closed' }

export type MainMessage =
  | { readonly kind: 'written'; readonly id: number; readonly error?: string }
  | {
      readonly kind: 'response'
      readonly id: number
      readonly statusCode: number
      readonly headers: Record<string, string | string[]>
      readonly body: ArrayBuffer
    }
  | { readonly kind: 'close' }

/** One batch message for `records` (values already serialized): one copy of the values, into a buffer the port transfers. */
export function encodeBatch(id: number, topic: string, protocol: IngestProtocol, records: readonly OutgoingRecord[]): BatchMessage {
  let size = 0
  for (const r of records) size += Buffer.byteLength(r.value ?? '')
  const bytes = new ArrayBuffer(size)
  const view = Buffer.from(bytes)
  const ends = new Uint32Array(records.length)
  const keys: string[] = []
  let at = 0
  records.forEach((r, i) => {
    const value = r.value ?? ''
    at += typeof value === 'string' ? view.write(value, at) : value.copy(view, at)
    ends[i] = at
    keys.push(typeof r.key === 'string' ? r.key : (r.key?.toString('utf8') ?? ''))
  })
  return { kind: 'batch', id, topic, protocol, keys, ends, bytes }
}

/** The records of a batch message; each value is a view of the transferred buffer (no copy). */
export function decodeBatch(message: BatchMessage | SampleMessage): OutgoingRecord[] {
  // One headers object for the batch, as the ingest writes it.
  const headers = { [INGEST_PROTOCOL_HEADER]: message.protocol }
  const records: OutgoingRecord[] = []
  let start = 0
  for (let i = 0; i < message.keys.length; i++) {
    const end = message.ends[i]!
    records.push({ key: message.keys[i]!, value: Buffer.from(message.bytes, start, end - start), headers })
    start = end
  }
  return records
}

/** The ingest's metrics in the ingest thread: counted here, taken (and reset) by `take` for the main thread. */
export class IngestMetricsRelay implements IngestMetrics {
  private accepted = new Map<IngestProtocol, { pairs: Map<string, number>; total: number }>()
  private rejected = new Map<IngestRejection, number>()
  private duplicateCount = 0
  private requests: [string, string, number, number][] = []
  readonly duplicates = { inc: (n: number): void => void (this.duplicateCount += n) }

  eventsAccepted(events: readonly { application_id: string; event_type: string }[], protocol: IngestProtocol): void {
    const entry = this.accepted.get(protocol) ?? { pairs: new Map<string, number>(), total: 0 }
    acceptedPairs(events, entry.pairs)
    entry.total += events.length
    this.accepted.set(protocol, entry)
  }

  eventsRejected(reason: IngestRejection, n = 1): void {
    if (n > 0) this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + n)
  }

  request(method: string, route: string, statusCode: number, seconds: number): void {
    this.requests.push([method, route, statusCode, seconds])
  }

  /** What was counted since the last take; null when nothing was. */
  take(): MetricsMessage | null {
    if (this.accepted.size === 0 && this.rejected.size === 0 && this.duplicateCount === 0 && this.requests.length === 0) return null
    const message: MetricsMessage = {
      kind: 'metrics',
      accepted: [...this.accepted].map(([protocol, { pairs, total }]) => [protocol, pairs, total] as const),
      rejected: [...this.rejected],
      duplicates: this.duplicateCount,
      requests: this.requests,
    }
    this.accepted = new Map()
    this.rejected = new Map()
    this.duplicateCount = 0
    this.requests = []
    return message
  }
}

/** Applies a relay's counts to the main thread's API metrics. */
export function applyRelayedMetrics(metrics: ApiMetrics, message: MetricsMessage): void {
  for (const [protocol, pairs, total] of message.accepted) metrics.pairsAccepted(pairs, protocol, total)
  for (const [reason, n] of message.rejected) metrics.eventsRejected(reason, n)
  if (message.duplicates > 0) metrics.duplicates.inc(message.duplicates)
  for (const [method, route, statusCode, seconds] of message.requests)
    metrics.requestDuration.observe({ method, route, status_code: String(statusCode) }, seconds)
}
