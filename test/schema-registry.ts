import { resolveSchemaRegistryUrl } from '../runtime/local-registry.js'
import { acquireSchemaRegistry, type SchemaRegistryLease } from '../scripts/schema-registry.js'

/** The registry integration tests talk to: `SCHEMA_REGISTRY_URL`, or the one `npm run registry:start` started. */
export function schemaRegistryUrl(): string {
  const url = resolveSchemaRegistryUrl()
  if (!url) {
    throw new Error(
      'no schema registry for the integration tests: start one with `npm run registry:start`, ' +
        'or set SCHEMA_REGISTRY_URL=http://host:port/apis/ccompat/v7, or use useSchemaRegistry() in the test file',
    )
  }
  return url
}

/**
 * For a test file's `before()`: the registry's URL, starting the local one if none is known. Call the
 * lease's `release()` in `after()`; a registry started this way is stopped by the last file to release it.
 */
export function useSchemaRegistry(): Promise<SchemaRegistryLease> {
  return acquireSchemaRegistry()
}
