/**
 * Requests per tenant per minute, one final result per window (suppress): under exactly-once, a
 * read_committed consumer of the output must see each window's count exactly once.
 */
import { Serdes } from '../../../../schemas/index.js'
import { StreamsBuilder, Suppressed, TimestampExtractors, TimeWindows } from '../../../../topology/index.js'

interface LlmRequest {
  tenant_id: string
  timestamp: string
}

export default () => {
  const builder = new StreamsBuilder()
  builder
    .stream(process.env.INPUT_TOPIC!, { key: Serdes.string(), value: Serdes.json<LlmRequest>(), timestamp: TimestampExtractors.isoField<LlmRequest>('timestamp') })
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(60_000, { graceMs: 0 }))
    .count({ name: 'final-counts' })
    .suppress(Suppressed.untilWindowCloses({ name: 'final-counts-suppress' }))
    .toStream()
    .map((windowed, count): [string, string] => [`${windowed.key}@${new Date(windowed.window.start).toISOString()}`, String(count)])
    .to(process.env.OUTPUT_TOPIC!, { key: Serdes.string(), value: Serdes.string() })
  return builder.build()
}
