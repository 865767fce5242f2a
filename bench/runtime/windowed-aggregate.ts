/**
 * Workload (a) of the runtime benchmarks: per model and minute (tumbling, 5 s grace) the request
 * count and latency sum, with RocksDB state and a changelog, written as "model@windowStart" -> mean
 * latency. bench/peers/java runs the same topology on Kafka Streams.
 */
import { Serdes } from '../../schemas/index.js'
import { StreamsBuilder, TimestampExtractors, TimeWindows, type Topology } from '../../topology/index.js'
import type { BenchEvent } from './input.js'

interface LatencyAggregate {
  requests: number
  latencySum: number
}

export function windowedAggregateTopology(input: string, output: string): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream(input, { key: Serdes.string(), value: Serdes.json<BenchEvent>(), timestamp: TimestampExtractors.isoField<BenchEvent>('timestamp') })
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(60_000, { graceMs: 5_000 }))
    .aggregate<LatencyAggregate>(
      () => ({ requests: 0, latencySum: 0 }),
      (_model, event, agg) => ({ requests: agg.requests + 1, latencySum: agg.latencySum + event.latency_ms }),
      { name: 'latency-per-model', value: Serdes.json<LatencyAggregate>() },
    )
    .toStream()
    .map((windowed, agg): [string, string] => [`${windowed.key}@${windowed.window.start}`, String(agg.latencySum / agg.requests)])
    .to(output, { key: Serdes.string(), value: Serdes.string() })
  return builder.build()
}
