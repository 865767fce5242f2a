/**
 * Makes the few Kubernetes JSON schemas deploy/kubernetes/ is validated against, standalone (every
 * $ref inlined into the file's own $defs), from the schemas the PyPI package `kubernetes-validate`
 * ships (Apache-2.0), because kubeconform fetches its schemas from GitHub, which CI cannot reach.
 * Run once when the Kubernetes version or the kinds change:
 *
 *   pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv && unzip -q /tmp/kv/*.whl -d /tmp/kv
 *   npx tsx scripts/vendor-kubernetes-schemas.ts /tmp/kv/kubernetes_validate/kubernetes-json-schema/v1.33.0-local-strict
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The kinds the manifests use, by kubeconform's file name (`<kind>-<group>-<version>.json`). */
const KINDS = ['statefulset-apps-v1', 'service-v1', 'poddisruptionbudget-policy-v1', 'configmap-v1']
const OUT = 'deploy/kubernetes/schemas'
/** A kind's file refers to `/api/_definitions.json#/$defs/X`; the definitions to one another as `#/$defs/X`. */
const REFS = ['/api/_definitions.json#/$defs/', '#/$defs/']

const source = process.argv[2]
if (!source) throw new Error('usage: tsx scripts/vendor-kubernetes-schemas.ts <kubernetes-json-schema/vX.Y.Z-local-strict dir>')
const definitions = (JSON.parse(readFileSync(join(source, '_definitions.json'), 'utf8')) as { $defs: Record<string, unknown> }).$defs

/** Rewrites refs to local ones and collects the definitions they reach. */
function inline(node: unknown, needed: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => inline(n, needed))
  if (typeof node !== 'object' || node === null) return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    const prefix = key === '$ref' && typeof value === 'string' ? REFS.find((r) => value.startsWith(r)) : undefined
    if (prefix !== undefined) {
      const name = (value as string).slice(prefix.length)
      if (!needed.has(name)) {
        needed.add(name)
        if (!(name in definitions)) throw new Error(`no definition ${name}`)
      }
      out[key] = `#/$defs/${name}`
    } else {
      out[key] = inline(value, needed)
    }
  }
  return out
}

for (const kind of KINDS) {
  const needed = new Set<string>()
  const schema = inline(JSON.parse(readFileSync(join(source, `${kind}.json`), 'utf8')), needed) as Record<string, unknown>
  const defs: Record<string, unknown> = {}
  const done = new Set<string>()
  while (done.size < needed.size) {
    for (const name of [...needed]) {
      if (done.has(name)) continue
      done.add(name)
      defs[name] = inline(definitions[name], needed)
    }
  }
  writeFileSync(join(OUT, `${kind}.json`), `${JSON.stringify({ ...schema, $defs: defs })}\n`)
}
