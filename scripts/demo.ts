/**
 * `npm run demo`: the library doing its job on a real Kafka broker, start to finish.
 *
 * Starts the local broker if none is given, creates the topics, runs examples/burst-alerts.ts (one
 * alert per tenant and minute with too many LLM requests) as a SentinelStreams application, feeds it
 * synthetic request telemetry — six tenants with ordinary traffic over an hour of event time, and
 * two injected request bursts — shows alerts as they arrive, and ends with a summary: each incident
 * detected or not, and any false alarms. Exit code 0 only if every incident was found and nothing else.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import kafkajs from 'kafkajs'
import { burstAlerts, type BurstAlert, type LlmRequest } from '../examples/burst-alerts.js'
import { SentinelStreams } from '../runtime/kafka/sentinel-streams.js'
import { readLocalBroker } from '../runtime/local-broker.js'
import { startBroker, stopBroker } from './kafka-broker.js'
import { isAlive } from './launcher/process.js'

const { Kafka, logLevel } = kafkajs
const THRESHOLD = 40
const START = Date.parse('2026-06-01T09:00:00Z')
const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark']
const INCIDENTS = [
  { tenant: 'acme', minute: 17, requests: 90, what: 'runaway agent loop' },
  { tenant: 'hooli', minute: 41, requests: 70, what: 'scripted prompt flood' },
]

/** A small deterministic PRNG, so every run of the demo sees the same traffic. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function traffic(): { key: string; value: string }[] {
  const random = mulberry32(42)
  const events: { at: number; tenant: string }[] = []
  for (let minute = 0; minute < 60; minute++) {
    for (const tenant of TENANTS) {
      const requests = 5 + Math.floor(random() * 20) // ordinary: 5-24 a minute
      for (let i = 0; i < requests; i++) events.push({ at: START + minute * 60_000 + Math.floor(random() * 60_000), tenant })
    }
    for (const incident of INCIDENTS.filter((x) => x.minute === minute)) {
      for (let i = 0; i < incident.requests; i++) events.push({ at: START + minute * 60_000 + Math.floor(random() * 60_000), tenant: incident.tenant })
    }
  }
  // A last request per tenant two minutes later closes every window (stream time passes end + grace).
  for (const tenant of TENANTS) events.push({ at: START + 62 * 60_000, tenant })
  events.sort((a, b) => a.at - b.at)
  return events.map(({ at, tenant }) => {
    const request: LlmRequest = { tenant_id: tenant, model: 'gpt-4o', timestamp: new Date(at).toISOString() }
    return { key: tenant, value: JSON.stringify(request) }
  })
}

const preexisting = readLocalBroker()
const ownBroker = !process.env.KAFKA_BROKERS && !(preexisting && isAlive(preexisting.pid))
const brokers = await startBroker()
const stateDir = mkdtempSync(join(tmpdir(), 'sentinel-demo-'))
const kafka = new Kafka({ clientId: 'demo', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
const admin = kafka.admin()
let exitCode: number
try {
  await admin.connect()
  // Fresh topics per run, so a broker kept running between demos shows only this run's alerts.
  const run = randomBytes(3).toString('hex')
  const [inputTopic, outputTopic] = [`llm-requests-${run}`, `burst-alerts-${run}`]
  await admin.createTopics({ topics: [{ topic: inputTopic, numPartitions: 3 }, { topic: outputTopic, numPartitions: 1 }], waitForLeaders: true })
  const applicationId = `burst-alerts-demo-${run}`
  const topology = burstAlerts({ threshold: THRESHOLD, windowMs: 60_000, graceMs: 5_000, inputTopic, outputTopic })
  const streams = new SentinelStreams(topology, { applicationId, brokers, stateDir, commitIntervalMs: 200 }, { logger: false })
  streams.onStateChange((state) => console.log(`[app] ${state}`))
  await streams.start()
  await streams.waitForState('running')

  const alerts: BurstAlert[] = []
  const consumer = kafka.consumer({ groupId: `${applicationId}-viewer` })
  await consumer.connect()
  await consumer.subscribe({ topic: outputTopic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      const alert = JSON.parse(String(message.value)) as BurstAlert
      alerts.push(alert)
      console.log(`[alert] ${alert.tenant_id}: ${alert.requests} requests in ${alert.window_start.slice(11, 16)}-${alert.window_end.slice(11, 16)} (threshold ${THRESHOLD})`)
    },
  })

  const events = traffic()
  const producer = kafka.producer()
  await producer.connect()
  console.log(`[feed] ${events.length} requests from ${TENANTS.length} tenants over 60 minutes of event time, ${INCIDENTS.length} injected bursts`)
  for (let i = 0; i < events.length; i += 500) {
    await producer.send({ topic: inputTopic, messages: events.slice(i, i + 500) })
    process.stdout.write(`\r[feed] ${Math.min(i + 500, events.length)}/${events.length} sent`)
  }
  process.stdout.write('\n')
  await producer.disconnect()

  const deadline = Date.now() + 30_000
  while (alerts.length < INCIDENTS.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  await new Promise((r) => setTimeout(r, 1_000)) // room for any false alarm to show
  await consumer.disconnect()
  await streams.close()

  const rows = INCIDENTS.map((incident) => {
    const window = new Date(START + incident.minute * 60_000).toISOString()
    const found = alerts.find((a) => a.tenant_id === incident.tenant && a.window_start === window)
    return { incident: `${incident.tenant} ${incident.what}`, window: window.slice(11, 16), detected: found ? `yes (${found.requests} requests)` : 'NO' }
  })
  const falseAlarms = alerts.filter((a) => !INCIDENTS.some((x) => x.tenant === a.tenant_id && new Date(START + x.minute * 60_000).toISOString() === a.window_start))
  console.log('\nSummary')
  console.table(rows)
  console.log(`false alarms: ${falseAlarms.length}`)
  exitCode = rows.every((r) => r.detected !== 'NO') && falseAlarms.length === 0 ? 0 : 1
} finally {
  await admin.disconnect().catch(() => undefined)
  rmSync(stateDir, { recursive: true, force: true })
  if (ownBroker) await stopBroker()
}
process.exit(exitCode)
