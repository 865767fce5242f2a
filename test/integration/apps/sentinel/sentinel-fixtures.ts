/** Shared setup of the Sentinel integration tests: a fresh set of the app's topics, and telemetry. */
import { createServer } from 'node:net'
import type { Admin } from 'kafkajs'
import { join } from 'node:path'
import type pino from 'pino'
import { Registry } from 'prom-client'
import { buildSentinelAppTopology, loadSentinelApp, startSentinelServices, type SentinelServices } from '../../../../apps/sentinel/sentinel-app.js'
import type { SentinelTopics } from '../../../../apps/sentinel/sentinel-config.js'
import { SentinelStreams } from '../../../../runtime/kafka/sentinel-streams.js'
import type { TelemetryEvent } from '../../../../schemas/telemetry/index.js'
import { createTopicsAndWait, kafkaBrokers, uniqueTopic } from '../../../kafka.js'

/**
 * The start of the hour before last: recent, because the app refuses telemetry far from the wall
 * clock (sentinel.eventTime), and on an hour so windows line up the same in every run.
 */
export const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000

/** Every topic of the app under unique names, created with `partitions` each. */
export async function createSentinelTopics(admin: Admin, prefix: string, partitions: number): Promise<SentinelTopics> {
  const topics: SentinelTopics = {
    telemetry: uniqueTopic(`${prefix}-telemetry`),
    anomalies: uniqueTopic(`${prefix}-anomalies`),
    alerts: uniqueTopic(`${prefix}-alerts`),
    deliveries: uniqueTopic(`${prefix}-deliveries`),
    acks: uniqueTopic(`${prefix}-acks`),
    feedback: uniqueTopic(`${prefix}-feedback`),
    silences: uniqueTopic(`${prefix}-silences`),
    aggregations: uniqueTopic(`${prefix}-aggregations`),
    notifications: uniqueTopic(`${prefix}-notifications`),
    commands: uniqueTopic(`${prefix}-commands`),
    silenceRules: uniqueTopic(`${prefix}-silence-rules`),
    detectorConfig: uniqueTopic(`${prefix}-detector-config`),
  }
  await createTopicsAndWait(admin, Object.values(topics).map((topic) => ({ topic, numPartitions: partitions })))
  return topics
}

/** An answered call of `app` at T0 + `second` costing `cost` dollars (event id from `n`). */
export function response(app: string, second: number, cost: number, n: number): TelemetryEvent {
  return {
    event_id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    timestamp: new Date(T0 + second * 1000).toISOString(),
    source: { service: 'llm-observatory', host: 'obs-1' },
    event_type: 'llm.response',
    application_id: app,
    data: { status: 'success', latency_ms: 700, model: 'gpt-4o', completion_tokens: 40, total_tokens: 100, cost },
  }
}

/** A JSON call to an instance's API with `apiKey`: its status and parsed body. */
export function apiCaller(apiKey: string) {
  return async (base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
}

/** A port free on 127.0.0.1 now (an instance's applicationServer). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Polls `probe` every 300 ms until it gives a value, or fails naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 300))
  }
}

export interface AppInstance {
  readonly streams: SentinelStreams
  readonly services: SentinelServices
  /** The instance's API, http://127.0.0.1:<port> (also its applicationServer). */
  readonly base: string
}

/**
 * Instances of the whole app (topology + API + dispatcher) on the broker, one per name, each with
 * its own state directory under `dir` and API key `apiKey`; started one after the other, then
 * awaited running together. Close them with `closeInstances`.
 */
export async function startAppInstances(
  names: readonly string[],
  options: {
    applicationId: string
    topics: SentinelTopics
    dir: string
    apiKey: string
    logger: pino.Logger
    /** A detectors file (watched by each instance). */
    detectors?: string
    /** An alert rules file (watched by each instance). */
    alertRules?: string
  },
): Promise<AppInstance[]> {
  const { applicationId, topics, dir, apiKey, logger } = options
  const instances: AppInstance[] = []
  try {
    for (const name of names) {
      const applicationServer = `127.0.0.1:${await freePort()}`
      const app = loadSentinelApp({ applicationId, applicationServer, sentinel: { topics, api: { host: '127.0.0.1', apiKeys: [apiKey] }, ...(options.detectors === undefined ? {} : { detectors: options.detectors }), ...(options.alertRules === undefined ? {} : { alertRules: options.alertRules }) } }, {})
      const metrics = new Registry()
      const streams = new SentinelStreams(buildSentinelAppTopology(app, { metrics, logger }), { applicationId, applicationServer, brokers: kafkaBrokers(), stateDir: join(dir, name), commitIntervalMs: 200 }, { logger, metrics })
      await streams.start()
      instances.push({ streams, services: await startSentinelServices(app, { runtime: streams, logger, metrics }), base: `http://${applicationServer}` })
    }
    await Promise.all(instances.map((i) => i.streams.waitForState('running')))
  } catch (err) {
    await closeInstances(instances)
    throw err
  }
  return instances
}

export async function closeInstances(instances: readonly AppInstance[]): Promise<void> {
  for (const instance of instances) await instance.services.close()
  await Promise.all(instances.map((i) => i.streams.close()))
}

/**
 * Resolves once group `groupId` committed past everything in the telemetry topic and in the app's
 * repartition topics by application (at-least-once commits after processing): detection has seen
 * every call sent so far. A partition nothing was written to has nothing to wait for.
 */
export async function telemetryProcessed(admin: Admin, groupId: string, telemetryTopic: string): Promise<void> {
  const byApplication = (await admin.listTopics()).filter((t) => t.startsWith(groupId) && t.includes('telemetry-by-application'))
  await eventually('the app processed the telemetry sent', async () => {
    for (const topic of [telemetryTopic, ...byApplication]) {
      const ends = await admin.fetchTopicOffsets(topic)
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
      const done = ends.every(
        (e) => Number(e.high) === Number(e.low) || Number(committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) >= Number(e.high),
      )
      if (!done) return undefined
    }
    return true
  })
}
