/**
 * `sentinel-streams/sentinel`: the LLM-Sentinel app, to embed it in your own process. Most users run
 * it instead (`npx sentinel-streams run apps/sentinel/topology.ts`, see apps/sentinel/README.md).
 */
export {
  loadSentinelApp,
  buildSentinelAppTopology,
  startSentinelServices,
  telemetrySerde,
  type SentinelApp,
  type SentinelRunConfig,
  type SentinelTopologyContext,
  type SentinelServicesContext,
  type SentinelServices,
} from './apps/sentinel/sentinel-app.js'
export type { SentinelSettings } from './apps/sentinel/sentinel-config.js'
export * from './schemas/telemetry/index.js'
