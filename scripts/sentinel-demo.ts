/**
 * The LLM-Sentinel demo: the whole app in standalone mode (one process, embedded log, RocksDB state
 * in a temporary directory): detection, the anomaly view, the alert manager, the REST API on
 * 127.0.0.1 and the alert dispatcher, delivering to a local webhook receiver that verifies every
 * HMAC signature. The synthetic telemetry generator feeds it hours of realistic traffic (compressed:
 * seconds of wall clock) with five labelled incidents. Shows progress, every anomaly and every
 * delivered alert as they happen, asks the running API for what it holds, and ends with the summary:
 * each incident detected or not, time to detect, the false alarms, and the alerts fired, delivered
 * and held back. Exit 0 only if every incident is detected and every delivery's signature verified.
 *
 *   npx tsx scripts/sentinel-demo.ts [--hours 6] [--seed 42] [--detectors file.yaml] [--alert-rules file.yaml] [--driver | --brokers host:port] [--quiet]
 *
 * --brokers runs the same whole app on Kafka as a SentinelStreams application, on topics of its own
 * (deleted at the end). --driver runs the detection topology only, on the TopologyTestDriver (no
 * RocksDB, no log, no API, no alerts).
 */
import { parseArgs } from 'node:util'
import { DEFAULT_DETECTORS_PATH, DetectorsConfigError, loadDetectorsConfig } from '../apps/sentinel/detectors-config.js'
import { runOnTestDriver } from '../apps/sentinel/demo/driver-run.js'
import { anomalyEntity, formatScore, scoreIncidents } from '../apps/sentinel/demo/incident-score.js'
import { runSentinelApp } from '../apps/sentinel/demo/app-run.js'
import { formatAlertSummary, summarizeAlerts } from '../apps/sentinel/demo/alert-summary.js'
import { TelemetryGenerator } from '../apps/sentinel/generator/telemetry-generator.js'
import type { AnomalyEvent } from '../schemas/anomaly/anomaly-event.js'

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '6' },
    seed: { type: 'string', default: '42' },
    detectors: { type: 'string' },
    'alert-rules': { type: 'string' },
    driver: { type: 'boolean', default: false },
    brokers: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  console.log('usage: tsx scripts/sentinel-demo.ts [--hours 6] [--seed 42] [--detectors file.yaml] [--alert-rules file.yaml] [--driver | --brokers host:port] [--quiet]')
  process.exit(0)
}

const hours = Number(values.hours)
const seed = Number(values.seed)
if (!Number.isFinite(hours) || !Number.isInteger(seed)) {
  console.error(`--hours must be a number and --seed an integer (got ${values.hours}, ${values.seed})`)
  process.exit(2)
}

let detectors
try {
  detectors = loadDetectorsConfig(values.detectors ?? DEFAULT_DETECTORS_PATH)
} catch (err) {
  console.error(err instanceof DetectorsConfigError ? err.message : String(err))
  process.exit(2)
}

let generator: TelemetryGenerator
try {
  generator = new TelemetryGenerator({ hours, seed })
} catch (err) {
  console.error((err as Error).message)
  process.exit(2)
}

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19)
if (values.driver && values.brokers) {
  console.error('give --driver or --brokers, not both')
  process.exit(2)
}
const mode = values.brokers ? `the whole app on Kafka at ${values.brokers} (SentinelStreams, REST API, alert dispatcher)` : values.driver ? 'TopologyTestDriver (detection only)' : 'standalone: the whole app (embedded log, RocksDB state, REST API, alert dispatcher)'
console.log(`LLM-Sentinel demo: ${hours} h of synthetic telemetry from ${clock(generator.start)} UTC, seed ${seed}, ${detectors.detectors.length} detectors, ${mode}`)
console.log('incidents injected (the detectors do not see these labels):')
for (const incident of generator.incidents) console.log(`  ${incident.id.padEnd(24)} ${clock(incident.start)}  ${incident.description}`)
console.log('')

const started = Date.now()
let nextProgress = 0
const onProgress = ({ events, eventTime, anomalies }: { events: number; eventTime: number; anomalies: number }): void => {
  if (values.quiet || events < nextProgress) return
  nextProgress = events + 5000
  console.log(`[progress] ${String(events).padStart(6)} events fed · event time ${clock(eventTime)} · ${anomalies} anomalies · ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
const onAnomaly = (a: AnomalyEvent): void => {
  if (values.quiet) return
  const entity = anomalyEntity(a)
  console.log(`[anomaly]  ${clock(Date.parse(a.timestamp))} ${a.detector_id.padEnd(25)} ${(entity ? `${entity.type}:${entity.id}` : '-').padEnd(34)} ${a.severity.padEnd(8)} ${a.title ?? ''}`)
}

const brokers = values.brokers
const input = (): Parameters<typeof runOnTestDriver>[0] => ({ detectors, events: generator.events(), onProgress, onAnomaly })
let appResult: Awaited<ReturnType<typeof runSentinelApp>> | undefined
let result: { events: number; anomalies: AnomalyEvent[] }
if (values.driver) result = await runOnTestDriver(input())
else {
  try {
    appResult = await runSentinelApp({
      events: generator.events(),
      ...(brokers ? { brokers } : {}),
      ...(values.detectors ? { detectorsFile: values.detectors } : {}),
      ...(values['alert-rules'] ? { alertRulesFile: values['alert-rules'] } : {}),
      onStarted: ({ apiAddress, receiverUrl, receivers }) => {
        console.log(`[app]      REST API at ${apiAddress} (bearer key); alert dispatcher → local webhook receiver ${receiverUrl} standing in for ${receivers.join(', ')} (HMAC-signed)`)
      },
      onProgress: ({ events, eventTime, anomalies, alertsFired, alertsDelivered, final }) => {
        if (values.quiet || (events < nextProgress && !final)) return
        nextProgress = events + 5000
        console.log(`[progress] ${String(events).padStart(6)} events fed · event time ${clock(eventTime)} · ${anomalies} anomalies · ${alertsFired} alerts fired, ${alertsDelivered} delivered · ${((Date.now() - started) / 1000).toFixed(1)} s`)
      },
      onAnomaly,
      onDelivery: (d) => {
        if (values.quiet) return
        const a = d.alert
        const what = a ? `${a.rule_id.padEnd(22)} ${a.severity.padEnd(8)} ${a.title}${a.suppressed_count > 0 ? ` (+${a.suppressed_count} held back)` : ''}` : '(unreadable body)'
        console.log(`[alert]    → ${d.receiver.padEnd(17)} ${d.verification.ok ? 'signature ok ' : `BAD SIGNATURE (${d.verification.reason})`} ${what}`)
      },
    })
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err))
    process.exit(2)
  }
  result = appResult
}
const seconds = (Date.now() - started) / 1000
const score = scoreIncidents(generator.incidents, result.anomalies)
console.log('')
if (appResult) {
  const { anomalies, detectors: listed } = appResult.api
  console.log(`[api]      GET /api/v1/anomalies?limit=5 → ${anomalies.status}, ${anomalies.count} items, first ${anomalies.firstId ?? '-'}; GET /api/v1/detectors → ${listed.status}, ${listed.count} detectors`)
  if (appResult.deadLetters !== null && appResult.deadLetters > 0) console.log(`[app]      ${appResult.deadLetters} telemetry events were rejected by the topology (dead-letter topic)`)
  console.log('')
}
console.log(`${result.events} events (${hours} h of event time) in ${seconds.toFixed(1)} s, ${Math.round(result.events / seconds)} events/s`)
console.log('')
console.log(formatScore(score))
let alertsOk = true
if (appResult) {
  const alerts = summarizeAlerts(appResult)
  alertsOk = alerts.ok && appResult.api.anomalies.status === 200 && appResult.api.detectors.status === 200 && !appResult.deadLetters
  console.log('')
  console.log(formatAlertSummary(alerts))
}
process.exitCode = score.allDetected && alertsOk ? 0 : 1
