/**
 * The last telemetry events this API instance wrote, the sample `POST /detectors/:id/test` runs a
 * definition on when the request brings no events of its own.
 *
 * Per instance and in memory on purpose: a dry run must not read the telemetry topic (a consumer
 * group per request, or a seek under a running topology, costs the brokers more than the answer is
 * worth), and an operator trying a definition wants "what it would have said about the last few
 * minutes", which a bounded buffer of the newest events answers. Events that reach the topic by
 * other producers are not in it; post them in the request instead.
 */
import type { TelemetryEvent } from '../../../schemas/telemetry/index.js'

export const DEFAULT_RECENT_TELEMETRY = 10_000

export class RecentTelemetry {
  /** An event, or (from the ingest thread) its bytes, decoded only when a dry run asks. */
  private readonly ring: (TelemetryEvent | Buffer | undefined)[]
  private next = 0
  private count = 0
  private decode: ((bytes: Buffer) => TelemetryEvent) | undefined

  constructor(readonly capacity: number = DEFAULT_RECENT_TELEMETRY) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 0)) throw new Error(`RecentTelemetry: capacity must be a non-negative integer, got ${capacity}`)
    this.ring = new Array<TelemetryEvent | Buffer | undefined>(capacity)
  }

  /** Called once the events are written (never before: a failed batch was not telemetry). */
  remember(events: readonly (TelemetryEvent | Buffer)[]): void {
    if (this.capacity === 0) return
    for (const event of events) {
      this.ring[this.next] = event
      this.next = (this.next + 1) % this.capacity
      this.count = Math.min(this.count + 1, this.capacity)
    }
  }

  /**
   * Events written by the ingest thread, as the bytes it wrote: decoding them here would put a
   * JSON.parse per event back on the main thread's hot path; a dry run decodes the few it samples.
   */
  rememberEncoded(values: readonly Buffer[], decode: (bytes: Buffer) => TelemetryEvent): void {
    this.decode = decode
    this.remember(values)
  }

  /** Oldest first, at most `limit` (the newest ones). */
  latest(limit: number): TelemetryEvent[] {
    const n = Math.min(limit, this.count)
    const out: TelemetryEvent[] = []
    for (let i = n; i > 0; i--) {
      const at = (this.next - i + this.capacity) % this.capacity
      const entry = this.ring[at]!
      if (!Buffer.isBuffer(entry)) out.push(entry)
      else {
        // Decoded once: the next dry run reads the event.
        const event = this.decode!(entry)
        this.ring[at] = event
        out.push(event)
      }
    }
    return out
  }
}
