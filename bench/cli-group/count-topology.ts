/**
 * The topology of the benches that run a group of CLI instances (failover, rebalance): a count per
 * key (a key-value store with one row per distinct key), from INPUT_TOPIC to OUTPUT_TOPIC. With
 * distinct keys its store and changelog grow by one row per input record, so the records loaded are
 * the state a failover restores.
 *
 * With STAMP_INSTANCE set, each output value is `{"count":n,"instance":STAMP_INSTANCE,"processedAt":ms}`
 * instead of the bare count: which instance processed the record and when (wall clock, at
 * processing), so a bench can draw each instance's processing timeline from the output topic alone.
 */
import { Serdes } from '../../schemas/index.js'
import { StreamsBuilder } from '../../topology/index.js'

export default () => {
  const instance = process.env.STAMP_INSTANCE
  const builder = new StreamsBuilder()
  builder
    .stream(process.env.INPUT_TOPIC!, { key: Serdes.string(), value: Serdes.string() })
    .groupByKey()
    .count({ name: 'counts' })
    .toStream()
    .mapValues((count) => (instance === undefined ? String(count) : JSON.stringify({ count, instance, processedAt: Date.now() })))
    .to(process.env.OUTPUT_TOPIC!, { key: Serdes.string(), value: Serdes.string() })
  return builder.build()
}
