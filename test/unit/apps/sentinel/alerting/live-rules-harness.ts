/**
 * A rules stage (and optionally its lifecycle) on a TopologyTestDriver with live rules: anomalies
 * in, versions written to the config topic mid-run as the API writes them, alerts and
 * notifications out.
 */
import { parseAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { rulesFileVersion } from '../../../../../apps/sentinel/alerting/alert-rule-versions.js'
import type { AlertCommand, AlertNotification } from '../../../../../apps/sentinel/alerting/alert-notification.js'
import { addAlerting } from '../../../../../apps/sentinel/alerting/alert-topology.js'
import { alertCommandSerde, notificationSerde } from '../../../../../apps/sentinel/alerting/lifecycle-topology.js'
import { configTable } from '../../../../../apps/sentinel/live-detector-settings.js'
import { TopologyTestDriver } from '../../../../../runtime/testing/topology-test-driver.js'
import type { AlertEvent } from '../../../../../schemas/alert/alert-event.js'
import { type AnomalyEvent, createAnomalyEvent } from '../../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../../schemas/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'

export const T0 = Date.UTC(2026, 6, 1, 12) // 12:00 UTC: aligned to every window size used here
export const MIN = 60_000
const CONFIG_TOPIC = 'sentinel-config'
let n = 0

function anomaly(at: number, over: Partial<AnomalyEvent> = {}): AnomalyEvent {
  n += 1
  return createAnomalyEvent({
    anomaly_id: anomalyId('latency-spike', 'live', n),
    timestamp: new Date(at).toISOString(),
    detector_id: 'latency-spike',
    severity: 'warning',
    score: 0.7,
    application_id: 'chatbot',
    title: 'Latency spike',
    description: 'Mean latency above its baseline.',
    ...over,
  })
}

/** `lifecycle`: also the alert lifecycle (notifications on `notes`, commands on `commands`), its wall clock from T0, ticking every second. */
export async function liveRulesHarness(startYaml: string, knownDimensions: readonly string[] = [], lifecycle = false) {
  const builder = new StreamsBuilder()
  const anomalies = builder.stream('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  addAlerting(builder, anomalies, {
    rules: parseAlertRulesConfig(startYaml, { knownDimensions }),
    live: { table: configTable(builder, CONFIG_TOPIC) },
    alertSerde: Serdes.json<AlertEvent>(),
    ...(lifecycle ? { lifecycle: { notificationsTopic: 'notes', commandsTopic: 'commands', tickMs: 1000 } } : {}),
  })
  const driver = await TopologyTestDriver.create(builder.build(), { applicationId: 'live-rule-state', startWallClockMs: T0 })
  const input = driver.createInputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
  const config = driver.createInputTopic(CONFIG_TOPIC, Serdes.string(), Serdes.json<unknown>())
  const output = driver.createOutputTopic('alerts', Serdes.string(), Serdes.json<AlertEvent>())
  const notes = lifecycle ? driver.createOutputTopic('notes', Serdes.string(), notificationSerde()) : null
  const commands = lifecycle ? driver.createInputTopic('commands', Serdes.string(), alertCommandSerde()) : null
  let version = 0
  return {
    driver,
    /** Pipes anomalies at these offsets from T0 (minutes); returns the alerts they made. */
    async at(minutes: readonly number[], over: Partial<AnomalyEvent> = {}): Promise<AlertEvent[]> {
      for (const m of minutes) {
        const a = anomaly(T0 + m * MIN, over)
        await input.pipe('chatbot', a, { timestamp: T0 + m * MIN })
      }
      return output.readValues()
    },
    /** Makes `yaml` the version in force, as the API writes it (`alert-rules/current`). */
    async publish(yaml: string): Promise<void> {
      version += 1
      const content = rulesFileVersion(parseAlertRulesConfig(yaml, { knownDimensions }).document ?? {})
      const record = { version, created_at: new Date(T0).toISOString(), op: 'config', rule_id: null, from_version: null, ...content }
      await config.pipe(`alert-rules/v${String(version).padStart(10, '0')}`, record)
      await config.pipe('alert-rules/current', record)
    },
    /** The notifications so far (with `lifecycle`). */
    notes: (): AlertNotification[] => notes?.readValues() ?? [],
    /** Sends an API command, keyed by the notification group as the API keys it. */
    command: (groupKey: string, value: AlertCommand): Promise<void> => commands!.pipe(groupKey, value),
  }
}
