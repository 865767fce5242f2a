import type { FastifyBaseLogger } from 'fastify'
import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import { unavailable } from './errors.js'

/**
 * Writes one JSON record for a route (acknowledgement, feedback, silence); a failed write is a 503 to
 * retry. The cause stays in the log: a client error naming brokers' addresses would map the cluster.
 */
export async function sendJson(runtime: Pick<StreamsRuntime, 'send'>, log: FastifyBaseLogger, topic: string, key: string, value: unknown, timestamp?: number): Promise<void> {
  try {
    await runtime.send(topic, [{ key, value: JSON.stringify(value), ...(timestamp === undefined ? {} : { timestamp }) }])
  } catch (err) {
    log.error({ err, topic }, 'could not write to topic')
    throw unavailable(`the topic '${topic}' cannot be written right now; retry (the cause is in the server log)`)
  }
}
