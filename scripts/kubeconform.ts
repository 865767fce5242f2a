/**
 * Validates deploy/kubernetes/ with kubeconform against the schemas vendored beside the manifests
 * (deploy/kubernetes/schemas/, made by scripts/vendor-kubernetes-schemas.ts): kubeconform's default
 * schema location is on GitHub, which CI cannot reach. kubeconform itself comes from the Go module
 * proxy with `go install`, once, into the launchers' cache.
 *
 *   npx tsx scripts/kubeconform.ts [files...]     # default: every manifest in deploy/kubernetes/
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { cacheRoot } from './launcher/cache.js'
import { hasCommand } from './launcher/process.js'

export const KUBECONFORM_VERSION = 'v0.7.0'
export const MANIFESTS_DIR = fileURLToPath(new URL('../deploy/kubernetes/', import.meta.url))

/** The kubeconform binary, installed with `go install` on first use. */
export function kubeconformBinary(): string {
  const bin = join(cacheRoot(), `kubeconform-${KUBECONFORM_VERSION}`)
  const binary = join(bin, 'kubeconform')
  if (existsSync(binary)) return binary
  if (!hasCommand('go', 'version')) throw new Error(`Go is needed once to install kubeconform ${KUBECONFORM_VERSION} (go install from the Go module proxy)`)
  const install = spawnSync('go', ['install', `github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}`], {
    env: { ...process.env, GOBIN: bin },
    stdio: ['ignore', process.stderr, process.stderr],
  })
  if (install.status !== 0 || !existsSync(binary)) throw new Error(`go install of kubeconform ${KUBECONFORM_VERSION} failed (exit ${install.status})`)
  return binary
}

export const manifestFiles = (): string[] => readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith('.yaml')).map((f) => join(MANIFESTS_DIR, f))

/** kubeconform's verdict on `files`: strict (unknown fields are errors), offline, against the vendored schemas. */
export function kubeconform(files: readonly string[]): { status: number | null; output: string } {
  const result = spawnSync(
    kubeconformBinary(),
    ['-strict', '-summary', '-schema-location', join(MANIFESTS_DIR, 'schemas', '{{.ResourceKind}}{{.KindSuffix}}.json'), ...files],
    { encoding: 'utf8' },
  )
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const files = process.argv.slice(2)
  const { status, output } = kubeconform(files.length > 0 ? files : manifestFiles())
  process.stdout.write(output)
  process.exit(status ?? 1)
}
