/**
 * Loads a user's topology file — TypeScript or JavaScript, no build step — through tsx.
 * The file's default export is a `Topology` (from `builder.build()`), or a function of the resolved
 * settings returning one (so a topology can read its thresholds from config); it may also export
 * `config`, defaults for the run that command-line flags override, and `services`, started beside
 * the running topology (an HTTP API, an alert dispatcher) in either mode.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import pino from 'pino'
import { Registry } from 'prom-client'
import type { Topology } from '../../topology/topology.js'
import type { StreamsConfig } from '../../runtime/config.js'
import type { TopologyBuildContext, TopologyFactory, TopologyServices } from '../../runtime/topology-file.js'
import { importTopologyFile } from './import-topology-file.js'

export type { RunningServices, TopologyBuildContext, TopologyFactory, TopologyServices, TopologyServicesContext } from '../../runtime/topology-file.js'


export interface LoadedTopology {
  readonly path: string
  readonly topology: Topology
  /** The file's own `config` export merged with the given settings. */
  readonly config: Partial<StreamsConfig> & Record<string, unknown>
  /** The file's `services` export, if any. */
  readonly services: TopologyServices | undefined
}

export class TopologyFileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TopologyFileError'
  }
}

export async function loadTopology(file: string, settings: Partial<StreamsConfig> = {}, context?: TopologyBuildContext): Promise<LoadedTopology> {
  const path = resolve(file)
  if (!existsSync(path)) throw new TopologyFileError(`topology file not found: ${path}`)
  const module = (await importTopologyFile(path)) as TopologyFileExports
  const config = { ...(module.config ?? {}), ...settings }
  if (module.services !== undefined && typeof module.services !== 'function') {
    throw new TopologyFileError(
      `the \`services\` export of ${path} is not a function (got ${describeValue(module.services)}). Export \`async function services({ runtime, config, logger, metrics, args }) { ...; return { close } }\`.`,
    )
  }
  const exported = module.default
  if (exported === undefined) {
    const named = Object.keys(module).filter((name) => name !== 'default')
    throw new TopologyFileError(
      `${path} has no default export${named.length > 0 ? ` (it exports ${named.join(', ')})` : ''}. Add \`export default builder.build()\` (a Topology), or \`export default (config) => builder.build()\`.`,
    )
  }
  const topology = typeof exported === 'function' ? await (exported as TopologyFactory)(config, context ?? { logger: pino({ level: 'silent' }), metrics: new Registry() }) : exported
  if (!isTopology(topology)) {
    throw new TopologyFileError(
      `the default export of ${path} is not a Topology (got ${describeValue(topology)}). Export \`builder.build()\`, not the builder or a stream.`,
    )
  }
  return { path, topology, config, services: module.services as TopologyServices | undefined }
}

interface TopologyFileExports {
  default?: unknown
  config?: Partial<StreamsConfig>
  services?: unknown
}

/**
 * Structural, not `instanceof`: the user's file may import the library from source while the CLI
 * runs from `dist/`, and those are two copies of the class.
 */
function isTopology(value: unknown): value is Topology {
  const candidate = value as Partial<Topology> | null
  return typeof candidate?.plan === 'function' && typeof candidate.describe === 'function' && Array.isArray(candidate.subtopologies)
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name
    if (name && name !== 'Object') return name
    const keys = Object.keys(value)
    return keys.length === 0 ? 'an empty object' : `an object with keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''}`
  }
  return typeof value
}
