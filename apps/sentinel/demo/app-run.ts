/**
 * Runs the whole LLM-Sentinel app as `apps/sentinel/topology.ts` assembles it: the topology
 * (detection → anomalies → anomaly view + alert manager) on one StandaloneStreams with RocksDB state
 * in a temporary directory (or on Kafka with `brokers`: app-backend.ts), and beside it the services
 * (REST API on 127.0.0.1 at a free port, with an API key; the alert dispatcher). The dispatcher delivers to a local webhook receiver
 * started first, named by a receivers file written to a temporary directory, with an HMAC secret;
 * every delivery's signature is verified on receipt.
 *
 * The caller feeds telemetry (the generator's events) in batches, written to the telemetry topic or,
 * with `ingest: 'http'`, POSTed to the running API's /api/v1/telemetry/events as a producer would
 * (validation, event-time bounds, duplicate ids); progress is reported after each
 * `syncEvery` events once the app has processed them, so anomalies and alerts show as they happen.
 * At the end the running API is asked for the latest anomalies and the detectors, proving it served.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { Registry } from 'prom-client'
import type { IncomingRecord } from '../../../runtime/streams-runtime.js'
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import type { AnomalyEvent } from '../../../schemas/anomaly/anomaly-event.js'
import { SchemaNotReadyError } from '../../../schemas/registry/errors.js'
import type { Serde } from '../../../schemas/serde.js'
import type { TelemetryEvent } from '../../../schemas/telemetry/index.js'
import { DEFAULT_ALERT_RULES_PATH, loadAlertRulesConfig } from '../alerting/index.js'
import type { DeliveryRecord } from '../delivery/delivery-record.js'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../detectors-config.js'
import { buildSentinelAppTopology, loadSentinelApp, startSentinelServices } from '../sentinel-app.js'
import { sentinelTopicSerdes } from '../topic-serdes.js'
import { type AppBackend, kafkaBackend, standaloneBackend } from './app-backend.js'
import { writeDemoReceivers } from './demo-receivers.js'
import { type ReceivedDelivery, startWebhookReceiver } from './webhook-receiver.js'

export interface AppRunProgress {
  readonly events: number
  readonly eventTime: number
  readonly anomalies: number
  readonly alertsFired: number
  readonly alertsDelivered: number
  /** The last report, after the last event. */
  readonly final: boolean
}

export interface AppRunOptions {
  readonly events: Iterable<TelemetryEvent> | AsyncIterable<TelemetryEvent>
  /** Default: the shipped files. */
  readonly detectorsFile?: string
  readonly alertRulesFile?: string
  /** Standalone only (on Kafka every run gets its own id). */
  readonly applicationId?: string
  /** Run on Kafka (SentinelStreams, fresh topics) instead of standalone. */
  readonly brokers?: string
  /** How telemetry enters: written to the telemetry topic (default) or POSTed to the REST API's ingest route. */
  readonly ingest?: 'topic' | 'http'
  /** Events per send (default 500). */
  readonly batchSize?: number
  /** Wait for the app to process what was sent every this many events, then report progress (default 5000). */
  readonly syncEvery?: number
  readonly onStarted?: (info: { readonly apiAddress: string; readonly receiverUrl: string; readonly receivers: readonly string[] }) => void
  readonly onProgress?: (progress: AppRunProgress) => void
  readonly onAnomaly?: (anomaly: AnomalyEvent) => void
  readonly onAlert?: (alert: AlertEvent) => void
  readonly onDelivery?: (delivery: ReceivedDelivery) => void
  /** Log level of the app's pino logger, to stderr (default SENTINEL_LOG_LEVEL or `warn`). */
  readonly logLevel?: string
}

export interface ApiProbe {
  /** GET /api/v1/anomalies?limit=5: HTTP status, items returned, the first item's id. */
  readonly anomalies: { readonly status: number; readonly count: number; readonly firstId: string | null }
  /** GET /api/v1/detectors: HTTP status and detectors listed. */
  readonly detectors: { readonly status: number; readonly count: number }
}

export interface AlertCounters {
  /** sentinel_alerts_fired_total, summed. */
  readonly fired: number
  /** sentinel_alerts_suppressed_total by reason (throttled, schedule, maintenance, ...). */
  readonly suppressed: Readonly<Record<string, number>>
  /** sentinel_alerts_sent_total by status (success, failed, circuit_open, skipped). */
  readonly sent: Readonly<Record<string, number>>
}

export interface AppRunResult {
  readonly events: number
  /** Events the API refused (`ingest: 'http'`; always 0 on the topic). */
  readonly rejected: number
  readonly anomalies: AnomalyEvent[]
  /** The alerts topic as the dispatcher read it. */
  readonly alerts: AlertEvent[]
  /** What the local receiver got, each with its signature check. */
  readonly received: readonly ReceivedDelivery[]
  /** The deliveries topic: one record per (alert, receiver). */
  readonly deliveries: DeliveryRecord[]
  readonly receivers: readonly string[]
  readonly counters: AlertCounters
  readonly api: ApiProbe
  /** Telemetry rejected by the topology (its DLQ); null when not counted (Kafka). */
  readonly deadLetters: number | null
}

const WAIT_MS = 120_000

export async function runSentinelApp(options: AppRunOptions): Promise<AppRunResult> {
  const backend: AppBackend = options.brokers ? kafkaBackend(options.brokers) : standaloneBackend(options.applicationId ?? 'sentinel-demo')
  const { applicationId, topics } = backend
  const configDir = mkdtempSync(join(tmpdir(), 'sentinel-demo-config-'))
  const secret = randomBytes(32).toString('hex')
  const apiKey = randomBytes(24).toString('hex')
  const logger = pino({ level: options.logLevel ?? process.env.SENTINEL_LOG_LEVEL ?? 'warn' }, pino.destination(2))
  const metrics = new Registry()

  const cleanups: (() => Promise<void> | void)[] = [() => backend.close(), () => rmSync(configDir, { recursive: true, force: true })]
  try {
    const receiver = await startWebhookReceiver({ secret, ...(options.onDelivery ? { onDelivery: options.onDelivery } : {}) })
    cleanups.unshift(() => receiver.close())
    // The receivers file names every receiver the rules reach, so read the rules first.
    const detectorsFile = options.detectorsFile ?? DEFAULT_DETECTORS_PATH
    const rulesFile = options.alertRulesFile ?? DEFAULT_ALERT_RULES_PATH
    const detectors = loadDetectorsConfig(detectorsFile).detectors
    const rules = loadAlertRulesConfig(rulesFile, { knownDetectorIds: detectors.map((d) => d.id), knownDimensions: detectors.map((d) => d.groupBy) })
    const receivers = writeDemoReceivers(configDir, rules.rules, receiver.url, secret)
    const path = (file: string | URL): string => (file instanceof URL ? fileURLToPath(file) : file)

    // An empty environment: SENTINEL_* variables of the shell must not redirect the demo. The demo
    // replays six synthetic hours of a fixed day in a minute or two: its event times are far behind
    // the wall clock by design, so only the bound ahead stays on.
    const app = loadSentinelApp(
      {
        applicationId,
        sentinel: {
          detectors: path(detectorsFile),
          alertRules: path(rulesFile),
          receivers: receivers.path,
          topics,
          eventTime: { maxBehind: 'off' },
          api: { host: '127.0.0.1', port: 0, apiKeys: [apiKey] },
        },
      },
      {},
    )
    const runtime = await backend.open(buildSentinelAppTopology(app, { metrics, logger }), { logger, metrics })
    await runtime.start()
    await runtime.waitForState('running', 60_000)
    const services = await startSentinelServices(app, { runtime, logger, metrics })
    cleanups.unshift(() => services.close())
    const apiAddress = services.apiAddress ?? ''
    options.onStarted?.({ apiAddress, receiverUrl: receiver.url, receivers: receivers.receivers })

    const anomalies: AnomalyEvent[] = []
    const alerts: AlertEvent[] = []
    const deliveries: DeliveryRecord[] = []
    // The topics' formats as the app writes them (topic-serdes.ts decides for both).
    const serdes = sentinelTopicSerdes(app.settings)
    const reader =
      <T>(into: T[], serde: Serde<T>, each?: (value: T) => void) =>
      async (records: readonly IncomingRecord[]): Promise<void> => {
        for (const record of records) {
          if (record.value === null) continue
          let value: T
          try {
            value = serde.deserialize(record.value, record.topic)
          } catch (err) {
            // A registry schema id not cached yet: fetched once, then the record is read.
            if (!(err instanceof SchemaNotReadyError)) throw err
            await err.ready()
            value = serde.deserialize(record.value, record.topic)
          }
          into.push(value)
          each?.(value)
        }
      }
    // One group per topic: on Kafka, members of one group subscribing to different topics would
    // be handed each other's partitions.
    const group = (topic: string): string => `${applicationId}-demo-printer-${topic}`
    const readers = [
      await runtime.consume(topics.anomalies, { groupId: group(topics.anomalies) }, reader(anomalies, serdes.anomalies, options.onAnomaly)),
      await runtime.consume(topics.alerts, { groupId: group(topics.alerts) }, reader(alerts, serdes.alerts, options.onAlert)),
      await runtime.consume(topics.deliveries, { groupId: group(topics.deliveries) }, reader(deliveries, serdes.deliveries)),
    ]
    cleanups.unshift(async () => void (await Promise.all(readers.map((r) => r.stop()))))

    const size = options.batchSize ?? 500
    const syncEvery = options.syncEvery ?? 5000
    let batch: TelemetryEvent[] = []
    let events = 0
    let rejected = 0
    const write =
      options.ingest === 'http'
        ? async (sent: TelemetryEvent[]): Promise<void> => {
            const response = await fetch(`${apiAddress}/api/v1/telemetry/events`, {
              method: 'POST',
              headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
              body: JSON.stringify(sent),
            })
            const body = (await response.json()) as { accepted?: number; rejected?: number; message?: string }
            if (response.status !== 202) throw new Error(`POST /api/v1/telemetry/events answered ${response.status}: ${body.message ?? JSON.stringify(body)}`)
            rejected += body.rejected ?? 0
          }
        : async (sent: TelemetryEvent[]): Promise<void> =>
            void (await runtime.send(topics.telemetry, sent.map((e) => ({ key: e.application_id, value: JSON.stringify(e), timestamp: Date.parse(e.timestamp) }))))
    let synced = 0
    const delivered = (): number => receiver.deliveries.filter((d) => d.verification.ok).length
    const send = async (force: boolean): Promise<void> => {
      if (batch.length > 0) {
        await write(batch)
        events += batch.length
      }
      const last = batch[batch.length - 1]
      batch = []
      if (last === undefined || (!force && events - synced < syncEvery)) return
      synced = events
      await backend.idle(WAIT_MS)
      options.onProgress?.({ events, eventTime: Date.parse(last.timestamp), anomalies: anomalies.length, alertsFired: alerts.length, alertsDelivered: delivered(), final: force })
    }
    for await (const event of options.events) {
      batch.push(event)
      if (batch.length >= size) await send(false)
    }
    await send(true)
    await backend.idle(WAIT_MS)

    // Wait for the readers and the dispatcher (its main group and one lane per receiver) to reach
    // the ends of their topics: then every alert has been delivered (or recorded failed).
    const dispatcherGroups = [`${applicationId}-alert-dispatcher`, ...receivers.receivers.map((r) => `${applicationId}-alert-dispatcher.${r}`)]
    const caughtUp = async (): Promise<boolean> =>
      (await backend.consumed(topics.anomalies, [group(topics.anomalies)])) &&
      (await backend.consumed(topics.alerts, [group(topics.alerts), ...dispatcherGroups])) &&
      (await backend.consumed(topics.deliveries, [group(topics.deliveries)]))
    const deadline = Date.now() + 30_000
    while (!(await caughtUp()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, options.brokers ? 250 : 50))

    const api = await probeApi(apiAddress, apiKey)
    return {
      events,
      rejected,
      anomalies,
      alerts,
      received: receiver.deliveries,
      deliveries,
      receivers: receivers.receivers,
      counters: await alertCounters(metrics),
      api,
      deadLetters: await backend.deadLetters(),
    }
  } finally {
    for (const cleanup of cleanups) await cleanup()
  }
}

async function probeApi(address: string, apiKey: string): Promise<ApiProbe> {
  const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${address}${path}`, { headers: { authorization: `Bearer ${apiKey}` } })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  const listing = await get('/api/v1/anomalies?limit=5')
  const items = Array.isArray(listing.body.items) ? (listing.body.items as { anomaly_id?: string; anomaly?: { anomaly_id?: string } }[]) : []
  const first = items[0]
  const detectors = await get('/api/v1/detectors')
  const list = Array.isArray(detectors.body) ? detectors.body : Array.isArray(detectors.body.detectors) ? (detectors.body.detectors as unknown[]) : []
  return {
    anomalies: { status: listing.status, count: items.length, firstId: first?.anomaly_id ?? first?.anomaly?.anomaly_id ?? null },
    detectors: { status: detectors.status, count: list.length },
  }
}

async function sumBy(registry: Registry, name: string, label: string | null): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name)
  const out: Record<string, number> = {}
  if (!metric) return out
  for (const { labels, value } of (await metric.get()).values) {
    const key = label === null ? 'total' : String(labels[label] ?? '')
    out[key] = (out[key] ?? 0) + value
  }
  return out
}

async function alertCounters(registry: Registry): Promise<AlertCounters> {
  return {
    fired: (await sumBy(registry, 'sentinel_alerts_fired_total', null)).total ?? 0,
    suppressed: await sumBy(registry, 'sentinel_alerts_suppressed_total', 'reason'),
    sent: await sumBy(registry, 'sentinel_alerts_sent_total', 'status'),
  }
}
