/**
 * The quick-start topology: requests per tenant per minute, from a topic of LLM request events keyed
 * by tenant, to a topic of counts. Run it with
 *   npx sentinel-streams run examples/tenant-request-counts.ts --application-id tenant-counts
 * Topic names come from the environment so the same file serves tests and demos.
 */
import { Serdes } from '../schemas/index.js'
import { StreamsBuilder, TimestampExtractors, TimeWindows } from '../topology/index.js'

interface LlmRequest {
  tenant_id: string
  timestamp: string
}

export const config = { applicationId: 'tenant-request-counts' }

export default () => {
  const input = process.env.INPUT_TOPIC ?? 'llm-requests'
  const output = process.env.OUTPUT_TOPIC ?? 'tenant-request-counts'
  const builder = new StreamsBuilder()
  builder
    .stream(input, { key: Serdes.string(), value: Serdes.json<LlmRequest>(), timestamp: TimestampExtractors.isoField<LlmRequest>('timestamp') })
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(60_000, { graceMs: 10_000 }))
    .count({ name: 'requests-per-tenant' })
    .toStream()
    .map((windowed, count): [string, string] => [`${windowed.key}@${new Date(windowed.window.start).toISOString()}`, String(count)])
    .to(output, { key: Serdes.string(), value: Serdes.string() })
  return builder.build()
}
