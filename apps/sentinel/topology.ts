/**
 * LLM-Sentinel, the file to run: `sentinel-streams run apps/sentinel/topology.ts` (on Kafka with
 * --brokers or KAFKA_BROKERS, standalone without). The default export builds the topology from the
 * run's config (its `sentinel:` section: apps/sentinel/sentinel-config.ts); `services` starts the REST
 * API and the alert dispatcher beside it. The detection stage's builders are re-exported from here
 * for code that composes its own topology.
 */
import type { Topology } from '../../topology/index.js'
import { type SentinelRunConfig, type SentinelServices, type SentinelServicesContext, type SentinelTopologyContext, buildSentinelAppTopology, loadSentinelApp, startSentinelServices } from './sentinel-app.js'

export * from './detection.js'

/**
 * Run defaults (flags and --config override them). Sentinel owns its topics, so missing ones are
 * created at start with 4 partitions (at most 4 instances share the work); create them yourself
 * with more partitions to scale further.
 */
export const config = { applicationId: 'llm-sentinel', createMissingTopics: { partitions: 4 } }

/** `context` is what the CLI passes (its logger and the metrics registry it serves). */
export default function sentinelTopology(runConfig: SentinelRunConfig, context: SentinelTopologyContext = {}): Topology {
  return buildSentinelAppTopology(loadSentinelApp(runConfig), context)
}

export function services(context: SentinelServicesContext & { config: SentinelRunConfig }): Promise<SentinelServices> {
  return startSentinelServices(loadSentinelApp(context.config), context)
}
