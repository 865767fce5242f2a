/** Shared fixtures of the alert view and alert route tests: alerts, delivery records, and API instances over the view. */
import type { AddressInfo } from 'node:net'
import { Registry } from 'prom-client'
import { ALERT_VIEW_STORE, type AlertRecord, type AlertViewOptions, addAlertView } from '../../../../../apps/sentinel/alert-view.js'
import { buildSentinelApi, type SentinelApiOptions } from '../../../../../apps/sentinel/api/index.js'
import type { DeliveryRecord } from '../../../../../apps/sentinel/delivery/delivery-record.js'
import type { HostInfo } from '../../../../../runtime/streams-runtime.js'
import { TopologyTestDriver, type TestInputTopic } from '../../../../../runtime/testing/index.js'
import { alertEventSerde } from '../../../../../schemas/alert/alert-event-serde.js'
import type { AlertEvent } from '../../../../../schemas/alert/alert-event.js'
import { Serdes } from '../../../../../schemas/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'
import { DriverRuntime } from './driver-runtime.js'
import { T0, TOPICS, anomaly, detectors } from './fixtures.js'

export const ALERT_TOPICS = { alertsTopic: 'alerts', deliveriesTopic: 'alert-deliveries', silencesTopic: 'alert-silences' } as const

export function alertEvent(id: string, at: number, overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    alert_id: id,
    rule_id: 'latency-rule',
    rule_name: 'Latency spikes',
    timestamp: new Date(at).toISOString(),
    severity: 'warning',
    group: { application_id: 'chatbot' },
    title: `alert ${id}`,
    description: 'latency above baseline',
    application_id: 'chatbot',
    anomaly_ids: [`anomaly-of-${id}`],
    anomaly: anomaly(`anomaly-of-${id}`, at),
    aggregation: null,
    suppressed_count: 0,
    actions: [{ type: 'notification', config: { receivers: ['ops-webhook'] } }],
    ...overrides,
  }
}

export function delivery(alertId: string, receiver: string, status: DeliveryRecord['status'], at: number, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    alert_id: alertId,
    rule_id: 'latency-rule',
    receiver,
    type: 'webhook',
    action: 'notification',
    status,
    attempts: status === 'skipped' ? 0 : 1,
    last_error: status === 'success' ? null : 'HTTP 500',
    http_status: status === 'success' ? 200 : 500,
    duration_ms: 12,
    at: new Date(at).toISOString(),
    ...overrides,
  }
}

export interface AlertViewDriver {
  readonly driver: TopologyTestDriver
  readonly alerts: TestInputTopic<string, AlertEvent>
  readonly deliveries: TestInputTopic<string | null, DeliveryRecord>
  view(): Promise<Map<string, AlertRecord>>
}

/** A driver running only the alert view (its three topics with different partition counts). */
export async function alertViewDriver(options: AlertViewOptions = {}, partitions: Record<string, number> = { alerts: 3, 'alert-deliveries': 2, 'alert-silences': 1 }): Promise<AlertViewDriver> {
  const builder = new StreamsBuilder()
  addAlertView(builder, options)
  // The wall clock a year after the fixtures' alerts: view time is capped near the wall clock.
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'alert-view-test', partitions, errorPolicy: 'dlq', startWallClockMs: T0 + 365 * 86_400_000 })
  return {
    driver,
    alerts: driver.createInputTopic(options.alertsTopic ?? ALERT_TOPICS.alertsTopic, Serdes.string(), alertEventSerde()),
    deliveries: driver.createInputTopic(options.deliveriesTopic ?? ALERT_TOPICS.deliveriesTopic, Serdes.nullable(Serdes.string()), Serdes.json<DeliveryRecord>()),
    view: async () => new Map(await driver.readKeyValueStore<string, AlertRecord>(ALERT_VIEW_STORE)),
  }
}

export interface AlertInstance extends AlertViewDriver {
  readonly runtime: DriverRuntime
  readonly api: ReturnType<typeof buildSentinelApi>
}

/** The alert view on a driver, a DriverRuntime over it (silences reach the view) and an API with the alert routes. */
export async function startAlertInstance(api: Partial<SentinelApiOptions> = {}): Promise<AlertInstance> {
  const viewDriver = await alertViewDriver()
  const runtime = new DriverRuntime(viewDriver.driver, new Set(Object.values(ALERT_TOPICS)))
  const app = buildSentinelApi({ runtime, detectors: detectors(), ...TOPICS, alerts: { silencesTopic: ALERT_TOPICS.silencesTopic }, bodyLimit: 64 * 1024, rateLimit: false, metrics: new Registry(), logger: false, ...api })
  return { ...viewDriver, runtime, api: app }
}

export async function stopAlertInstance(instance: AlertInstance): Promise<void> {
  await instance.api.close()
  await instance.driver.close()
}

/**
 * Makes API instances (over DriverRuntimes) a cluster on 127.0.0.1 ephemeral ports: every key of
 * every store lives where `ownerOf` says (an index into `instances`), for reads and for what `send`
 * pipes into a view. Returns each instance's address.
 */
export async function cluster(instances: readonly { readonly api: AlertInstance['api']; readonly runtime: DriverRuntime }[], ownerOf: (key: string) => number): Promise<HostInfo[]> {
  const hosts: HostInfo[] = []
  for (const { api } of instances) {
    await api.listen({ host: '127.0.0.1', port: 0 })
    hosts.push({ host: '127.0.0.1', port: (api.server.address() as AddressInfo).port })
  }
  instances.forEach(({ runtime }, self) => {
    Object.assign(runtime, { hostInfo: hosts[self], hosts })
    runtime.route = (_store, key) => (ownerOf(key) === self ? 'local' : hosts[ownerOf(key)]!)
    runtime.deliverTo = (_topic, key) => instances[key === null ? 0 : ownerOf(key)]!.runtime
  })
  return hosts
}
