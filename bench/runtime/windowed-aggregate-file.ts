/**
 * Workload (a), the windowed aggregate, as a topology file for `sentinel-streams run`: topics from
 * INPUT_TOPIC and OUTPUT_TOPIC. For benches that run the CLI itself (threads.ts).
 */
import { windowedAggregateTopology } from './windowed-aggregate.js'

export default () => windowedAggregateTopology(process.env.INPUT_TOPIC!, process.env.OUTPUT_TOPIC!)
