/**
 * The HTTP port an orchestrator and a scraper talk to: Prometheus metrics on /metrics, liveness on
 * /health and readiness on /ready (runtime/readiness.ts), each when asked for. `--metrics-port` and
 * `--health-port` may name the same port; then one server answers all three.
 */
import Fastify from 'fastify'
import { collectDefaultMetrics, type Registry } from 'prom-client'
import type { Readiness } from '../../runtime/readiness.js'

export interface OperationsServer {
  close(): Promise<unknown>
}

export async function serveOperations(port: number, serve: { metrics?: Registry; readiness?: Readiness }): Promise<OperationsServer> {
  const server = Fastify()
  const { metrics, readiness } = serve
  if (metrics) {
    collectDefaultMetrics({ register: metrics })
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
