/**
 * Where a schema registry started by `npm run registry:start` (scripts/schema-registry.ts) announces
 * itself, so that tests and the CLI find it without being told. Nothing in the library starts one.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { localRunDir } from './local-broker.js'

export interface LocalRegistryState {
  pid: number
  /** The Confluent-compatible base URL, e.g. `http://127.0.0.1:41234/apis/ccompat/v7`. */
  url: string
  dataDir: string
  registry: string
  startedAt: string
  /** Started on demand by a test run: the last test file to release it stops it. */
  ephemeral: boolean
  /** Where the launcher keeps the JVM class archive this cold start writes on exit. */
  cdsArchive?: string
}

export const localRegistryStateFile = (): string => join(localRunDir(), 'schema-registry.json')

export function readLocalRegistry(): LocalRegistryState | undefined {
  try {
    return JSON.parse(readFileSync(localRegistryStateFile(), 'utf8')) as LocalRegistryState
  } catch {
    return undefined
  }
}

/** An explicit URL, else `SCHEMA_REGISTRY_URL`, else the local launcher's registry. */
export function resolveSchemaRegistryUrl(explicit?: string): string | undefined {
  const given = explicit ?? process.env.SCHEMA_REGISTRY_URL
  if (given !== undefined && given.trim().length > 0) return given.trim()
  return readLocalRegistry()?.url
}
