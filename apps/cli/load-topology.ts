/**
 * Loads a user's topology file — TypeScript or JavaScript, no build step — through tsx.
 * The file's default export is a `Topology` (from `builder.build()`), or a function of the resolved
 * settings returning one (so a topology can read its thresholds from config); it may also export
 * `config`, defaults for the run that command-line flags override.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { tsImport } from 'tsx/esm/api'
import type { Topology } from '../../topology/topology.js'
import type { StreamsConfig } from '../../runtime/config.js'

export type TopologyFactory = (config: Partial<StreamsConfig>) => Topology | Promise<Topology>

export interface LoadedTopology {
  readonly path: string
  readonly topology: Topology
  /** The file's own `config` export, if any. */
  readonly config: Partial<StreamsConfig>
}

export class TopologyFileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TopologyFileError'
  }
}

export async function loadTopology(file: string, settings: Partial<StreamsConfig> = {}): Promise<LoadedTopology> {
  const path = resolve(file)
  if (!existsSync(path)) throw new TopologyFileError(`topology file not found: ${path}`)
  const module = (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown; config?: Partial<StreamsConfig> }
  const config = { ...(module.config ?? {}), ...settings }
  const exported = module.default
  if (exported === undefined) {
    throw new TopologyFileError(
      `${path} has no default export. Add \`export default builder.build()\` (a Topology), or \`export default (config) => builder.build()\`.`,
    )
  }
  const topology = typeof exported === 'function' ? await (exported as TopologyFactory)(config) : exported
  if (!isTopology(topology)) {
    throw new TopologyFileError(
      `the default export of ${path} is not a Topology (got ${describeValue(topology)}). Export \`builder.build()\`, not the builder or a stream.`,
    )
  }
  return { path, topology, config }
}

/**
 * Structural, not `instanceof`: the user's file may import the library from source while the CLI
 * runs from `dist/`, and those are two copies of the class.
 */
function isTopology(value: unknown): value is Topology {
  const candidate = value as Partial<Topology> | null
  return typeof candidate?.plan === 'function' && typeof candidate.describe === 'function' && Array.isArray(candidate.subTopologies)
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return value.constructor?.name ?? 'an object'
  return typeof value
}
