/**
 * deploy/kubernetes/ validated with kubeconform (strict, offline, vendored schemas), and held to the
 * CLI it runs: every flag the StatefulSet passes is one `sentinel-streams run` takes, and the probes
 * hit the port --health-port serves.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { parseAllDocuments } from 'yaml'
import { kubeconform, MANIFESTS_DIR, manifestFiles } from '../../../scripts/kubeconform.js'

const dir = mkdtempSync(join(tmpdir(), 'kubeconform-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('the manifests validate: StatefulSet, headless Service, PodDisruptionBudget, ConfigMap', { timeout: 600_000 }, () => {
  const { status, output } = kubeconform(manifestFiles())
  assert.equal(status, 0, output)
  assert.match(output, /4 resources found in 4 files - Valid: 4, Invalid: 0, Errors: 0, Skipped: 0/)
})

test('kubeconform refuses a broken manifest (a misspelt field, a string replica count)', { timeout: 600_000 }, () => {
  const broken = join(dir, 'statefulset.yaml')
  writeFileSync(broken, readFileSync(join(MANIFESTS_DIR, 'statefulset.yaml'), 'utf8').replace('replicas: 3', 'replicas: three').replace('serviceName:', 'servicName:'))
  const { status, output } = kubeconform([broken])
  assert.equal(status, 1, output)
  assert.match(output, /'\/spec\/replicas': got string, want null or integer/)
  assert.match(output, /additional properties 'servicName' not allowed/)
})

interface StatefulSet {
  spec: {
    serviceName: string
    template: {
      spec: {
        containers: {
          args: string[]
          ports: { name: string; containerPort: number }[]
          readinessProbe: { httpGet: { path: string } }
          livenessProbe: { httpGet: { path: string } }
        }[]
      }
    }
  }
}

test("the StatefulSet's flags are ones `run` takes, its probes use --health-port, and the Service is headless", () => {
  const load = <T>(file: string): T => parseAllDocuments(readFileSync(join(MANIFESTS_DIR, file), 'utf8'))[0]!.toJS() as T
  const statefulSet = load<StatefulSet>('statefulset.yaml')
  const container = statefulSet.spec.template.spec.containers[0]!
  const runOptions = readFileSync(new URL('../../../apps/cli/main.ts', import.meta.url), 'utf8')
  for (const arg of container.args.filter((a) => a.startsWith('--'))) {
    const flag = arg.slice(2).split('=')[0]
    assert.ok(runOptions.includes(`'${flag}': { type:`) || runOptions.includes(` ${flag}: { type:`), `run takes --${flag}`)
  }
  const healthPort = container.args.find((a) => a.startsWith('--health-port='))?.split('=')[1]
  const healthContainerPort = container.ports.find((p) => p.name === 'health')?.containerPort
  assert.equal(Number(healthPort), healthContainerPort)
  assert.equal(container.readinessProbe.httpGet.path, '/ready')
  assert.equal(container.livenessProbe.httpGet.path, '/health')
  const service = load<{ metadata: { name: string }; spec: { clusterIP: string } }>('service.yaml')
  assert.equal(service.spec.clusterIP, 'None')
  assert.equal(statefulSet.spec.serviceName, service.metadata.name)
})
