/**
 * The failover bench's topology: a count per key (a key-value store with one row per distinct key),
 * from INPUT_TOPIC to OUTPUT_TOPIC. With distinct keys its store and changelog grow by one row per
 * input record, so the records loaded are the state a failover restores.
 */
import { Serdes } from '../../schemas/index.js'
import { StreamsBuilder } from '../../topology/index.js'

export default () => {
  const builder = new StreamsBuilder()
  builder
    .stream(process.env.INPUT_TOPIC!, { key: Serdes.string(), value: Serdes.string() })
    .groupByKey()
    .count({ name: 'counts' })
    .toStream()
    .mapValues((count) => String(count))
    .to(process.env.OUTPUT_TOPIC!, { key: Serdes.string(), value: Serdes.string() })
  return builder.build()
}
