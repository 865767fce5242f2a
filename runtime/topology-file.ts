/**
 * The contract of a topology file that `sentinel-streams run` loads: its default export (a Topology
 * or a factory of one) and its optional `services` export. Library types, so that a topology file
 * imports them from the package; the CLI (apps/cli) implements the loading.
 */
import type pino from 'pino'
import type { Registry } from 'prom-client'
import type { Topology } from '../topology/topology.js'
import type { StreamsConfig } from './config.js'
import type { StreamsRuntime } from './streams-runtime.js'

/** What a topology factory gets besides the settings: where to log, and the run's metrics registry. */
export interface TopologyBuildContext {
  readonly logger: pino.Logger
  readonly metrics: Registry
}

export type TopologyFactory = (config: Partial<StreamsConfig> & Record<string, unknown>, context: TopologyBuildContext) => Topology | Promise<Topology>

/** What a topology file's `services` export gets: the running application and the run's settings. */
export interface TopologyServicesContext {
  /** The running topology (Kafka or standalone): state, interactive queries, send, consume. */
  readonly runtime: StreamsRuntime
  /** The run's settings: the file's `config` export overridden by flags (and `--config`), any extra keys kept. */
  readonly config: Readonly<Partial<StreamsConfig> & Record<string, unknown>>
  readonly logger: pino.Logger
  /** The run's Prometheus registry (served on `--metrics-port` when given): add the services' metrics here. */
  readonly metrics: Registry
  /** The command-line arguments after `--`, for the services' own options. */
  readonly args: readonly string[]
}

/** Started services; closed on shutdown before the runtime closes. */
export interface RunningServices {
  close(): Promise<void>
}

/**
 * A topology file's optional `services` export, started once `runtime.start()` resolved:
 *
 *   export const services: TopologyServices = async ({ runtime, logger }) => {
 *     const api = await startApi(runtime)
 *     return { close: () => api.close() }
 *   }
 */
export type TopologyServices = (context: TopologyServicesContext) => Promise<RunningServices>
