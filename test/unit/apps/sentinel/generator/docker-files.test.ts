/**
 * docker/ cannot be run here (no compose plugin): these checks catch what `docker compose config`
 * would, plus that Prometheus scrapes Sentinel's metrics port and the dashboard queries metrics
 * the code registers.
 */
import assert from 'node:assert/strict'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'

const root = new URL('../../../../../', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8')

type Service = { image?: string; build?: { context: string; dockerfile: string }; ports?: string[]; environment?: Record<string, string>; volumes?: string[]; depends_on?: Record<string, unknown> | string[] }
const compose = parse(read('docker/compose.yml')) as { services: Record<string, Service>; volumes?: Record<string, unknown> }

/** Every `sentinel_*` metric name registered in the sources (prom-client `name: '...'`). */
function registeredMetrics(): Set<string> {
  const names = new Set<string>()
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) walk(path)
      else if (path.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/'(sentinel_[a-z_]+)'/g)) names.add(m[1]!)
    }
  }
  for (const dir of ['runtime', 'apps']) walk(new URL(dir, root).pathname)
  return names
}

test('compose: kafka, a schema registry, sentinel built from the Dockerfile, prometheus, grafana', () => {
  const s = compose.services
  assert.deepEqual(Object.keys(s).sort(), ['grafana', 'kafka', 'prometheus', 'schema-registry', 'sentinel'])
  assert.match(s.kafka!.image!, /^apache\/kafka:/)
  assert.equal(s.kafka!.environment!.KAFKA_PROCESS_ROLES, 'broker,controller')
  assert.match(s['schema-registry']!.image!, /cp-schema-registry|apicurio/)
  assert.ok(s['schema-registry']!.ports!.includes('8081:8081'))
  assert.deepEqual(s.sentinel!.build, { context: '..', dockerfile: 'docker/Dockerfile' })
  // Containers reach Kafka on its internal listener, which must be advertised under the service name.
  const internal = s.sentinel!.environment!.KAFKA_BROKERS!
  assert.ok(s.kafka!.environment!.KAFKA_ADVERTISED_LISTENERS!.includes(internal), `${internal} is advertised`)
  assert.equal(s['schema-registry']!.environment!.SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS, `PLAINTEXT://${internal}`)
  assert.equal(s.sentinel!.environment!.SCHEMA_REGISTRY_URL, 'http://schema-registry:8081')
  for (const [name, service] of Object.entries(s)) {
    const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {})
    for (const dep of deps) assert.ok(dep in s, `${name} depends on unknown service ${dep}`)
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0]!
      if (source.startsWith('./')) statSync(new URL(`docker/${source.slice(2)}`, root))
      else assert.ok(source in (compose.volumes ?? {}), `${name}: volume ${source} is declared`)
    }
  }
})

test('the Dockerfile: multi-stage, node:20-slim, production deps, non-root, the CLI running the Sentinel topology on the exposed metrics port', () => {
  const dockerfile = read('docker/Dockerfile')
  assert.equal(dockerfile.match(/^FROM /gm)?.length, 2)
  assert.match(dockerfile, /^FROM node:20-slim AS runtime$/m)
  assert.match(dockerfile, /npm ci --omit=dev/)
  // npm ci refuses to run without every workspace's manifest, and the app's packages are its workspace's.
  const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces
  for (const stage of dockerfile.split(/^FROM /m).slice(1)) {
    const install = stage.indexOf('RUN npm ci')
    for (const workspace of workspaces) {
      const copy = stage.indexOf(`COPY ${workspace}/package.json ${workspace}/`)
      assert.ok(copy >= 0 && copy < install, `stage ${stage.split('\n')[0]}: COPY ${workspace}/package.json before npm ci`)
    }
  }
  assert.match(dockerfile, /^USER node$/m)
  const cmd = JSON.parse(dockerfile.match(/^CMD (.*)$/m)![1]!) as string[]
  assert.deepEqual(cmd.slice(0, 4), ['node', 'dist/apps/cli/main.js', 'run', 'dist/apps/sentinel/topology.js'])
  const port = cmd[cmd.indexOf('--metrics-port') + 1]!
  assert.ok(dockerfile.match(/^EXPOSE (.*)$/m)![1]!.split(' ').includes(port), 'the metrics port is exposed')
  assert.ok(compose.services.sentinel!.ports!.includes(`${port}:${port}`))
  const prometheus = parse(read('docker/prometheus/prometheus.yml')) as { scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] }
  assert.deepEqual(prometheus.scrape_configs[0]!.static_configs[0]!.targets, [`sentinel:${port}`])
  assert.equal(prometheus.scrape_configs[0]!.metrics_path, '/metrics')
})

test('grafana: a provisioned Prometheus datasource and a dashboard over metrics the code registers', () => {
  const datasource = parse(read('docker/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; url: string }[] }
  assert.equal(datasource.datasources[0]!.url, 'http://prometheus:9090')
  const provider = parse(read('docker/grafana/provisioning/dashboards/sentinel.yml')) as { providers: { options: { path: string } }[] }
  assert.ok(compose.services.grafana!.volumes!.some((v) => v.endsWith(`:${provider.providers[0]!.options.path}:ro`)))
  const dashboard = JSON.parse(read('docker/grafana/dashboards/sentinel.json')) as { panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[] }
  const known = registeredMetrics()
  assert.ok(dashboard.panels.length >= 5)
  for (const panel of dashboard.panels) {
    assert.equal(panel.datasource.uid, datasource.datasources[0]!.uid)
    for (const target of panel.targets) {
      const used = target.expr.match(/sentinel_[a-z_]+/g) ?? []
      assert.ok(used.length > 0, `${panel.title} queries a sentinel metric`)
      for (const name of used) assert.ok(known.has(name), `${panel.title}: ${name} is not registered anywhere in runtime/ or apps/`)
    }
  }
})
