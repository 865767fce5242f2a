/**
 * The HTTP port an orchestrator and a scraper talk to: Prometheus metrics on /metrics, liveness on
 * /health and readiness on /ready (runtime/readiness.ts), each when asked for. `--metrics-port` and
 * `--health-port` may name the same port; then one server answers all three. Under `--threads` the
 * supervisor serves them for all its workers (thread-supervisor.ts), so the sources are interfaces:
 * one instance's registry and Readiness, or the workers' aggregate.
 */
import Fastify from 'fastify'
import type pino from 'pino'
import type { ReadinessReport } from '../../runtime/readiness.js'

/** A prom-client Registry, or the supervisor's aggregate of its workers' registries. */
export interface MetricsSource {
  readonly contentType: string
  metrics(): Promise<string>
}

/** runtime/readiness.ts' Readiness, or the supervisor's view over its workers. */
export interface ReadinessSource {
  report(): ReadinessReport
  alive(): boolean
}

export interface OperationsServer {
  close(): Promise<unknown>
}

export async function serveOperations(port: number, serve: { metrics?: MetricsSource; readiness?: ReadinessSource }): Promise<OperationsServer> {
  const server = Fastify()
  const { metrics, readiness } = serve
  if (metrics) {
    server.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()))
  }
  if (readiness) {
    server.get('/health', async (_request, reply) => {
      const { state } = readiness.report()
      return reply.code(readiness.alive() ? 200 : 503).send({ status: readiness.alive() ? 'alive' : 'failed', state })
    })
    server.get('/ready', async (_request, reply) => {
      const report = readiness.report()
      return reply.code(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not_ready', state: report.state, reason: report.reason })
    })
  }
  await server.listen({ port, host: '0.0.0.0' })
  return server
}

/**
 * The servers `--metrics-port` and `--health-port` ask for: one when they name the same port, two
 * otherwise, none without them. The close closes them all.
 */
export async function serveOperationsPorts(
  ports: { metricsPort: number | undefined; healthPort: number | undefined },
  sources: { metrics: MetricsSource; readiness: ReadinessSource },
  logger: pino.Logger,
): Promise<OperationsServer> {
  const { metricsPort, healthPort } = ports
  const servers: OperationsServer[] = []
  if (metricsPort !== undefined) {
    servers.push(await serveOperations(metricsPort, { metrics: sources.metrics, ...(healthPort === metricsPort ? { readiness: sources.readiness } : {}) }))
    logger.info({ port: metricsPort }, healthPort === metricsPort ? 'serving /metrics, /health and /ready' : 'serving Prometheus metrics on /metrics')
  }
  if (healthPort !== undefined && healthPort !== metricsPort) {
    servers.push(await serveOperations(healthPort, { readiness: sources.readiness }))
    logger.info({ port: healthPort }, 'serving /health and /ready')
  }
  return { close: () => Promise.all(servers.map((s) => s.close())) }
}
