import { Serdes } from '../schemas/index.js'
import { StreamsBuilder, Suppressed, TimestampExtractors, TimeWindows, type Topology } from '../topology/index.js'

export interface LlmRequest {
  tenant_id: string
  model: string
  timestamp: string // ISO-8601 event time
}

export interface BurstAlert {
  tenant_id: string
  window_start: string
  window_end: string
  requests: number
}

/** One alert per tenant and window when a tenant sends `threshold` or more requests in the window. */
export function burstAlerts(options: { threshold: number; windowMs: number; graceMs: number; inputTopic?: string; outputTopic?: string }): Topology {
  const builder = new StreamsBuilder()
  builder
    // The topic is keyed by tenant_id.
    .stream(options.inputTopic ?? 'llm-requests', {
      key: Serdes.string(),
      value: Serdes.json<LlmRequest>(),
      timestamp: TimestampExtractors.isoField<LlmRequest>('timestamp'),
    })
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(options.windowMs, { graceMs: options.graceMs }))
    .count({ name: 'requests-per-tenant' }) // store and changelog names derive from this name
    .suppress(Suppressed.untilWindowCloses({ name: 'final-counts' })) // one final count per window
    .toStream()
    .filter((_window, requests) => requests >= options.threshold)
    .map((window, requests): [string, BurstAlert] => [
      window.key,
      {
        tenant_id: window.key,
        window_start: new Date(window.window.start).toISOString(),
        window_end: new Date(window.window.end).toISOString(),
        requests,
      },
    ])
    .to(options.outputTopic ?? 'burst-alerts', { key: Serdes.string(), value: Serdes.json<BurstAlert>() })
  return builder.build()
}

// `npx sentinel-streams run examples/burst-alerts.ts`: 100 requests per tenant and minute.
export default burstAlerts({ threshold: 100, windowMs: 60_000, graceMs: 5_000 })
