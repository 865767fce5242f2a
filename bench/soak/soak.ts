/**
 * The soak (issue 18, item 6): LLM-Sentinel on the local 3-broker cluster at a steady input rate for
 * a long time, with one instance restarted (SIGTERM, back on its state dir) every few minutes in
 * turn. Each minute: RSS and event-loop delay of each instance, commit time, consumer lag and the
 * achieved input rate, to a CSV and an SVG (bench/soak/README.md says what each column means).
 *
 *   SENTINEL_RUN_DIR=/tmp/run-me npm run soak -- --minutes 60
 *     [--rate 5000] [--instances 3] [--restart-every 10] [--sample-seconds 60]
 *     [--processing-guarantee at-least-once|exactly-once] [--brokers 3] [--out bench/soak/results]
 *
 * Starts a 3-node cluster (`--brokers 1`: one broker, for a cheap look) in SENTINEL_RUN_DIR (or reuses one of that size running there) and stops it
 * at the end if it started it. Topics and the application id are new for each run.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { DEFAULT_TOPICS } from '../../apps/sentinel/sentinel-config.js'
import { readLocalBroker } from '../../runtime/local-broker.js'
import { startBroker, stopBroker } from '../../scripts/kafka-broker.js'
import { isAlive } from '../../scripts/launcher/process.js'
import { createTopicsOnEveryBroker } from '../../test/chaos/cluster-topics.js'
import { SentinelFleet } from './sentinel-fleet.js'
import { SoakCsv } from './soak-csv.js'
import { soakSvg } from './soak-plot.js'
import { SoakSampler, type SoakSample } from './soak-sampler.js'
import { soakSummary } from './soak-summary.js'
import { TelemetryLoad } from './telemetry-load.js'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    rate: { type: 'string', default: '5000' },
    instances: { type: 'string', default: '3' },
    'restart-every': { type: 'string', default: '10' },
    'sample-seconds': { type: 'string', default: '60' },
    'processing-guarantee': { type: 'string' },
    partitions: { type: 'string', default: '6' },
    // 1 for a cheap single-broker look (a memory hunt); the soak proper is on 3.
    brokers: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/soak/results' },
  },
})
const number = (name: keyof typeof args, min: number): number => {
  const v = Number(args[name])
  if (!(v >= min)) {
    console.error(`--${name} must be a number >= ${min}, got ${String(args[name])}`)
    process.exit(2)
  }
  return v
}
if (!process.env.SENTINEL_RUN_DIR) {
  console.error('set SENTINEL_RUN_DIR to a directory of your own: the soak starts its cluster there')
  process.exit(2)
}
const MINUTES = number('minutes', 0.5)
const RATE = number('rate', 1)
const INSTANCES = number('instances', 1)
const RESTART_EVERY_MIN = number('restart-every', 0)
const SAMPLE_MS = number('sample-seconds', 5) * 1000
const PARTITIONS = number('partitions', 1)
const BROKERS = number('brokers', 1)
const guarantee = args['processing-guarantee']
if (guarantee !== undefined && guarantee !== 'at-least-once' && guarantee !== 'exactly-once') {
  console.error(`--processing-guarantee must be at-least-once or exactly-once, got ${guarantee}`)
  process.exit(2)
}

const log = (message: string): void => void process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const runId = `soak-${Date.now().toString(36)}`
const topics = Object.fromEntries(Object.entries(DEFAULT_TOPICS).map(([purpose, name]) => [purpose, `${runId}.${name}`])) as unknown as typeof DEFAULT_TOPICS
mkdirSync(args.out, { recursive: true })

const preexisting = readLocalBroker()
const ours = !(preexisting && isAlive(preexisting.pid) && (preexisting.nodes?.length ?? 1) === BROKERS)
const bootstrap = await startBroker({ brokers: BROKERS })
const kafka = new Kafka({ clientId: 'soak', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING })
const admin = kafka.admin()
await admin.connect()

const fleet = new SentinelFleet({
  applicationId: runId,
  settings: {
    ...(guarantee ? { processingGuarantee: guarantee } : {}),
    createMissingTopics: { partitions: PARTITIONS },
    sentinel: { topics },
  },
})
const load = new TelemetryLoad(kafka, topics.telemetry, RATE)
const samples: SoakSample[] = []
const restartsAt: number[] = []
const csv = new SoakCsv(join(args.out, 'soak.csv'), INSTANCES)
let loadStartedAt = 0
const write = (): void => {
  const title = `LLM-Sentinel soak, ${new Date(loadStartedAt || Date.now()).toISOString().slice(0, 16)}Z`
  const subtitle = `${INSTANCES} instances, ${BROKERS === 1 ? '1 broker' : `${BROKERS} brokers`}, ${PARTITIONS} partitions, target ${RATE} events/s, ${guarantee ?? 'at-least-once (app default)'}, one instance restarted every ${RESTART_EVERY_MIN} min`
  writeFileSync(join(args.out, 'soak.svg'), soakSvg(samples, { targetRate: RATE, restartsAt, title, subtitle }))
}

let sampler: SoakSampler | undefined
let stopping = false
const stopOnSignal = (): void => {
  log('signal: ending the soak early, writing what was sampled')
  stopping = true
}
process.on('SIGINT', stopOnSignal)
process.on('SIGTERM', stopOnSignal)

try {
  // The input and the detector-config topic (compacted, one partition, as the app's README asks);
  // the app creates the rest.
  await createTopicsOnEveryBroker(admin, bootstrap, [
    { topic: topics.telemetry, numPartitions: PARTITIONS },
    { topic: topics.detectorConfig, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ])
  log(`cluster ${bootstrap}; starting ${INSTANCES} instances of apps/sentinel/topology.ts (application ${runId})`)
  await fleet.start(INSTANCES)
  log(`instances serving metrics on ports ${fleet.slots.map((s) => s.metricsPort).join(', ')}; load ${RATE} events/s for ${MINUTES} min`)
  await load.start()
  loadStartedAt = Date.now()
  sampler = new SoakSampler(admin, runId, topics.telemetry, fleet, load)
  const endAt = loadStartedAt + MINUTES * 60_000

  // Restarts run beside the sampling: a restart takes tens of seconds, the minute goes on meanwhile.
  const restarts = (async () => {
    if (RESTART_EVERY_MIN <= 0) return
    for (let n = 0; ; n++) {
      const at = loadStartedAt + (n + 1) * RESTART_EVERY_MIN * 60_000
      while (Date.now() < at && !stopping) await sleep(Math.min(1_000, at - Date.now()))
      if (stopping || at >= endAt) return
      const slot = fleet.slots[n % fleet.slots.length]!
      if (slot.restarting) continue
      restartsAt.push((Date.now() - loadStartedAt) / 60_000)
      log(`restarting instance ${slot.index + 1} (SIGTERM, then back on its state dir)`)
      const { stoppedInMs } = await fleet.restart(slot).catch((e: unknown) => {
        log(`restart of instance ${slot.index + 1} failed: ${(e as Error).message}`)
        return { stoppedInMs: NaN }
      })
      log(`instance ${slot.index + 1} stopped in ${(stoppedInMs / 1000).toFixed(1)} s and is back`)
    }
  })()

  // An instance that exits on its own (a failed topology stops its process) is a finding: logged,
  // counted, and started again as an orchestrator would.
  const watcher = (async () => {
    while (!stopping) {
      for (const slot of fleet.exitedOnTheirOwn()) {
        const said = slot.instance.plainLines.slice(-3).join(' | ')
        log(`instance ${slot.index + 1} exited on its own (code ${slot.instance.process.exitCode})${said ? `, saying: ${said}` : ''}; starting it again`)
        await fleet.restart(slot, 'crashed').catch((e: unknown) => log(`instance ${slot.index + 1} could not be started again: ${(e as Error).message}`))
      }
      await sleep(2_000)
    }
  })()

  for (let n = 1; !stopping; n++) {
    const due = loadStartedAt + n * SAMPLE_MS
    while (Date.now() < due && !stopping) await sleep(Math.min(1_000, due - Date.now()))
    if (stopping) break
    const sample = await sampler.sample()
    samples.push(sample)
    csv.append(sample)
    write()
    const rss = sample.instances.map((i) => (i.rssMb === undefined ? '-' : i.rssMb.toFixed(0))).join('/')
    log(
      `min ${sample.minute.toFixed(1)}: ${sample.achievedRate.toFixed(0)} events/s, lag ${sample.inputLag ?? '?'} (all topics ${sample.totalLag ?? '?'}), ` +
        `commit p99 ${sample.commitP99Ms?.toFixed(0) ?? '-'} ms (mean ${sample.commitMeanMs?.toFixed(0) ?? '-'}), RSS ${rss} MiB, load ${loadavg()[0]!.toFixed(1)}`,
    )
    for (const { slot, lines } of fleet.newErrors()) {
      const distinct = [...new Set(lines.map((l) => `${l.msg}${l.err ? ` (${String((l.err as { message?: unknown }).message ?? '').slice(0, 200)})` : ''}`))]
      log(`instance ${slot.index + 1} logged ${lines.length} line(s) at error level: ${distinct.slice(0, 5).join(' | ')}`)
    }
    if (Date.now() >= endAt) break
  }
  stopping = true
  await Promise.all([restarts, watcher])
} finally {
  await load.stop().catch(() => undefined)
  await fleet.stopAll().catch(() => undefined)
  await admin.disconnect().catch(() => undefined)
  if (ours) await stopBroker()
}
write()
const summary = soakSummary(samples, {
  targetRate: RATE,
  minutes: MINUTES,
  instances: INSTANCES,
  brokers: BROKERS,
  restartEveryMin: RESTART_EVERY_MIN,
  guarantee: guarantee ?? 'at-least-once (the app default)',
  skipped: load.skipped,
  failedSends: load.failedSends,
  machine: `${cpus().length} cores, Node ${process.version}`,
  commits: sampler?.runCommits,
  command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
})
writeFileSync(join(args.out, 'summary.md'), summary)
console.log(summary)
process.exit(0)
