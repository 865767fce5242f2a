/**
 * A small reproduction of the soak's memory growth, for heap snapshots (issue 18 item 6): one broker,
 * instance A for the whole run, telemetry at `--rate`, and a second instance B started and stopped
 * in turn every `--move-every` seconds, so A's tasks move out and back in as at the soak's restarts.
 * Prints A's pid and metrics port; take heap snapshots of A with `kill -USR2 <pid>` (the instances
 * run with `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir <--snapshots>`), and compare them with
 * `heap-snapshot-diff.ts`.
 *
 *   SENTINEL_RUN_DIR=/tmp/run-me npx tsx bench/soak/heap-hunt.ts --minutes 20 [--rate 300] [--move-every 120] [--snapshots /tmp/snaps]
 */
import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { DEFAULT_TOPICS } from '../../apps/sentinel/sentinel-config.js'
import { startBroker, stopBroker } from '../../scripts/kafka-broker.js'
import { createTopicsOnEveryBroker } from '../../test/chaos/cluster-topics.js'
import { SentinelFleet } from './sentinel-fleet.js'
import { TelemetryLoad } from './telemetry-load.js'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    rate: { type: 'string', default: '300' },
    'move-every': { type: 'string', default: '120' },
    snapshots: { type: 'string', default: '/tmp/heap-hunt' },
  },
})
const log = (m: string): void => void process.stderr.write(`[heap-hunt ${new Date().toISOString().slice(11, 19)}] ${m}\n`)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
mkdirSync(args.snapshots, { recursive: true })
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${args.snapshots}`.trim()

const runId = `hunt-${Date.now().toString(36)}`
const topics = Object.fromEntries(Object.entries(DEFAULT_TOPICS).map(([p, n]) => [p, `${runId}.${n}`])) as unknown as typeof DEFAULT_TOPICS
const bootstrap = await startBroker({ brokers: 1 })
const kafka = new Kafka({ clientId: 'heap-hunt', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING })
const admin = kafka.admin()
await admin.connect()
await createTopicsOnEveryBroker(admin, bootstrap, [
  { topic: topics.telemetry, numPartitions: 6 },
  { topic: topics.detectorConfig, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
])
const settings = { createMissingTopics: { partitions: 6 }, sentinel: { topics } }
const a = new SentinelFleet({ applicationId: runId, settings })
const b = new SentinelFleet({ applicationId: runId, settings })
let stopping = false
process.on('SIGINT', () => void (stopping = true))
process.on('SIGTERM', () => void (stopping = true))
const load = new TelemetryLoad(kafka, topics.telemetry, Number(args.rate))
try {
  await a.start(1)
  const slot = a.slots[0]!
  log(`A pid ${slot.instance.process.pid} metrics port ${slot.metricsPort}; snapshots in ${args.snapshots}`)
  await load.start()
  const endAt = Date.now() + Number(args.minutes) * 60_000
  let bRunning = false
  while (!stopping && Date.now() < endAt) {
    const next = Date.now() + Number(args['move-every']) * 1000
    while (!stopping && Date.now() < next) await sleep(1000)
    if (stopping || Date.now() >= endAt) break
    if (bRunning) {
      log('stopping B (its tasks move into A)')
      await b.stopAll()
      b.slots.length = 0
    } else {
      log('starting B (tasks move out of A)')
      await b.start(1)
    }
    bRunning = !bRunning
    log(`B ${bRunning ? 'running' : 'stopped'}`)
  }
} finally {
  await load.stop().catch(() => undefined)
  await b.stopAll().catch(() => undefined)
  await a.stopAll().catch(() => undefined)
  await admin.disconnect().catch(() => undefined)
  await stopBroker()
}
process.exit(0)
