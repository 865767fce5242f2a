/**
 * `npm run bench:sentinel -- --sweep`: the whole LLM-Sentinel app at fixed offered loads, on Kafka
 * and standalone, measured with the seed's names (issue 14, item 4):
 *
 * - ingestion p50/p99: `POST /api/v1/telemetry/events` answered 202, from each request's due time
 *   (open loop, sweep-client.ts in a worker thread);
 * - detection p50/p99: a probe's request sent → its cost anomaly read from the anomalies topic by a
 *   consumer of this process (on Kafka that includes the consumer's fetch; standalone, the embedded
 *   log's delivery to the consumer). The replayed telemetry's event times are a fixed past day, so
 *   a probe's event time is taken as the moment its request is sent;
 * - alerting p50/p99: that anomaly → the first webhook delivery of the probe's alert at a local
 *   node:http receiver (apps/sentinel/demo/webhook-receiver.ts; every receiver the rules reach points
 *   at it, signed, through the real dispatcher);
 * - end to end: request sent → first delivery;
 * - sustained events/s: events the topology consumed from the telemetry topic, per second, over the
 *   load after its warm-up (sweep-report.ts: steadyRate);
 * - RSS of this process from /proc (peak over the load and at its end): the app, the client's worker
 *   and its prepared requests; the baseline before any app starts is printed beside it.
 *
 * Each load runs on a fresh app (fresh state; on Kafka fresh topics, app-backend.ts) for `--seconds`
 * or until the prepared events run out, timed once an untimed first request has been processed
 * through (the app's tasks ready); once the backlog (sent − processed) passes
 * `--max-backlog-seconds` of the offered load after the warm-up, the load is stopped and reported
 * "not sustained" with that backlog. After a load that kept up, up to `--drain-seconds` are given
 * for the last probes' anomalies and alerts; probes without one are counted, never dropped.
 *
 *   npm run bench:sentinel -- --sweep [--on kafka|standalone|both] [--loads 5000,15000,30000,60000]
 *     [--seconds 25] [--hours 36] [--seed 42] [--request-events 500] [--probe-every 5]
 *     [--warmup-seconds 3] [--max-backlog-seconds 3] [--drain-seconds 10] [--ingest-thread] [--no-write]
 *
 * Kafka: KAFKA_BROKERS, or the local broker if one runs, or one started here (scripts/kafka-broker.ts)
 * and stopped at the end. Results: the last section of bench/sentinel/RESULTS.md (replaced on each run).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import pino from 'pino'
import { Registry } from 'prom-client'
import { type AppBackend, kafkaBackend, standaloneBackend } from '../../apps/sentinel/demo/app-backend.js'
import { writeDemoReceivers } from '../../apps/sentinel/demo/demo-receivers.js'
import { startWebhookReceiver } from '../../apps/sentinel/demo/webhook-receiver.js'
import { buildSentinelAppTopology, loadSentinelApp, startSentinelServices } from '../../apps/sentinel/sentinel-app.js'
import { stopBroker } from '../../scripts/kafka-broker.js'
import { ownRssBytes } from '../soak/process-rss.js'
import { benchBrokers } from './bench-brokers.js'
import { consumedFrom } from '../runtime/runtime-counters.js'
import type { SweepClientCommand, SweepClientData, SweepClientMessage } from './sweep-client.js'
import {
  fallingBehind,
  type LoadResult,
  type LoadSample,
  percentiles,
  type ProbeTimes,
  RESULTS_HEADING,
  steadyRate,
  summarizeProbes,
  SWEEP_TABLE_HEADER,
  sweepRow,
  type SustainRule,
  withSweepSection,
} from './sweep-report.js'

type Mode = 'kafka' | 'standalone'

interface SweepOptions {
  readonly modes: readonly Mode[]
  readonly loads: readonly number[]
  readonly seconds: number
  readonly hours: number
  readonly seed: number
  readonly requestEvents: number
  readonly probeEvery: number
  readonly rule: SustainRule
  readonly drainSeconds: number
  readonly ingestThread: boolean
  readonly write: boolean
}

const SAMPLE_MS = 500
/** How long the app may take to process the untimed first request (on Kafka: group join, topic creation, restores of nothing). */
const READY_TIMEOUT_MS = 120_000
const MiB = 1024 * 1024
const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const log = (message: string): void => void process.stderr.write(`[sweep ${new Date().toISOString().slice(11, 19)}] ${message}\n`)

/** Options checked up front: a bad one fails naming the flag and what it takes. */
export function sweepOptions(argv: readonly string[]): SweepOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sweep: { type: 'boolean', default: true },
      on: { type: 'string', default: 'both' },
      loads: { type: 'string', default: '5000,15000,30000,60000' },
      seconds: { type: 'string', default: '25' },
      hours: { type: 'string', default: '36' },
      seed: { type: 'string', default: '42' },
      'request-events': { type: 'string', default: '500' },
      'probe-every': { type: 'string', default: '5' },
      'warmup-seconds': { type: 'string', default: '3' },
      'max-backlog-seconds': { type: 'string', default: '3' },
      'drain-seconds': { type: 'string', default: '10' },
      'ingest-thread': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
  })
  const positive = (flag: string, text: string, integer = false): number => {
    const n = Number(text)
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new Error(`--${flag}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`)
    return n
  }
  const on = values.on!
  if (on !== 'kafka' && on !== 'standalone' && on !== 'both') throw new Error(`--on: expected kafka, standalone or both, got ${JSON.stringify(on)}`)
  return {
    modes: on === 'both' ? ['standalone', 'kafka'] : [on],
    loads: values.loads!.split(',').map((l) => positive('loads', l.trim(), true)),
    seconds: positive('seconds', values.seconds!),
    hours: positive('hours', values.hours!),
    seed: positive('seed', values.seed!, true),
    requestEvents: positive('request-events', values['request-events']!, true),
    probeEvery: positive('probe-every', values['probe-every']!, true),
    rule: {
      warmupMs: positive('warmup-seconds', values['warmup-seconds']!) * 1000,
      maxBacklogSeconds: positive('max-backlog-seconds', values['max-backlog-seconds']!),
    },
    drainSeconds: Number(values['drain-seconds']),
    ingestThread: values['ingest-thread']!,
    write: !values['no-write'],
  }
}

/** The client worker: started once, its pool of requests generated before any load. */
class SweepClient {
  private readonly listeners = new Set<(m: SweepClientMessage) => void>()
  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: SweepClientMessage) => {
      for (const listener of this.listeners) listener(m)
    })
  }

  static async start(data: SweepClientData): Promise<{ client: SweepClient; events: number }> {
    const file = new URL('./sweep-client.ts', import.meta.url).href
    const worker = new Worker(
      `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(file)}) })`,
      {
        eval: true,
        workerData: { sweepClient: data },
      },
    )
    const client = new SweepClient(worker)
    const ready = await new Promise<SweepClientMessage & { kind: 'ready' }>((resolve, reject) => {
      client.listeners.add((m) => m.kind === 'ready' && resolve(m))
      worker.once('error', reject)
    })
    return { client, events: ready.events }
  }

  /** Runs one load; `onMessage` sees its probes and progress. Resolves with its 'done'. */
  run(command: SweepClientCommand & { kind: 'run' }, onMessage: (m: SweepClientMessage) => void): Promise<SweepClientMessage & { kind: 'done' }> {
    return new Promise((resolve, reject) => {
      const listener = (m: SweepClientMessage): void => {
        onMessage(m)
        if (m.kind === 'done') {
          this.listeners.delete(listener)
          this.worker.off('error', reject)
          resolve(m)
        }
      }
      this.listeners.add(listener)
      this.worker.once('error', reject)
      this.worker.postMessage(command)
    })
  }

  go(): void {
    this.worker.postMessage({ kind: 'go' } satisfies SweepClientCommand)
  }

  stop(): void {
    this.worker.postMessage({ kind: 'stop' } satisfies SweepClientCommand)
  }

  close(): Promise<number> {
    return this.worker.terminate()
  }
}

const rssMiB = (): number => ownRssBytes(process.pid) / MiB

async function runLoad(mode: Mode, offered: number, brokers: string | undefined, client: SweepClient, options: SweepOptions): Promise<LoadResult> {
  const backend: AppBackend = mode === 'kafka' ? kafkaBackend(brokers!) : standaloneBackend(`sentinel-sweep-${offered}`)
  const { applicationId, topics } = backend
  const configDir = mkdtempSync(join(tmpdir(), 'sentinel-sweep-config-'))
  const secret = randomBytes(32).toString('hex')
  const apiKey = randomBytes(24).toString('hex')
  const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'warn' }, pino.destination(2))
  const metrics = new Registry()
  const probes = new Map<string, { sentAt: number; anomalyAt?: number; deliveredAt?: number }>()
  const cleanups: (() => Promise<unknown> | void)[] = [() => backend.close(), () => rmSync(configDir, { recursive: true, force: true })]
  try {
    const receiver = await startWebhookReceiver({
      secret,
      onDelivery: (d) => {
        // The first delivery of a probe's alert (one alert reaches several receivers).
        const probe = d.alert?.application_id == null ? undefined : probes.get(d.alert.application_id)
        if (probe !== undefined && probe.deliveredAt === undefined) probe.deliveredAt = now()
      },
    })
    cleanups.unshift(() => receiver.close())
    // The shipped rules, each receiver they reach pointed at the local receiver; an empty environment.
    const receivers = writeDemoReceivers(configDir, loadSentinelApp({}, {}).rules.rules, receiver.url, secret)
    const app = loadSentinelApp(
      {
        applicationId,
        sentinel: {
          receivers: receivers.path,
          topics,
          // Replayed telemetry of a fixed past day: far behind the wall clock by design.
          eventTime: { maxBehind: 'off' },
          // The rate limit stays on the path, high enough not to refuse a benchmark.
          api: {
            host: '127.0.0.1',
            port: 0,
            apiKeys: [apiKey],
            bodyLimit: '4mb',
            rateLimit: { max: 1_000_000, window: '1m' },
            ingestThread: options.ingestThread,
          },
        },
      },
      {},
    )
    const runtime = await backend.open(buildSentinelAppTopology(app, { metrics, logger }), { logger, metrics })
    await runtime.start()
    await runtime.waitForState('running', 120_000)
    const services = await startSentinelServices(app, { runtime, logger, metrics })
    cleanups.unshift(() => services.close())
    const anomalies = await runtime.consume(topics.anomalies, { groupId: `${applicationId}-sweep-probes` }, async (records) => {
      const at = now()
      for (const record of records) {
        const probe = record.key === null ? undefined : probes.get(record.key.toString('utf8'))
        if (probe !== undefined && probe.anomalyAt === undefined) probe.anomalyAt = at
      }
    })
    cleanups.unshift(() => anomalies.stop())

    const samples: LoadSample[] = []
    let sent = 0
    let warmupEvents = 0
    let stoppedBehind = false
    let rssPeak = rssMiB()
    let startedAt = 0
    let sampling = false
    const sample = async (): Promise<void> => {
      while (sampling) {
        await sleep(SAMPLE_MS)
        const s = { at: performance.now() - startedAt, sent, processed: (await consumedFrom(metrics, topics.telemetry)) - warmupEvents }
        samples.push(s)
        rssPeak = Math.max(rssPeak, rssMiB())
        if (!stoppedBehind && fallingBehind(samples, offered, options.rule)) {
          stoppedBehind = true
          log(`${mode} ${offered}/s: backlog ${s.sent - s.processed} events after ${(s.at / 1000).toFixed(1)} s: stopping the load`)
          client.stop()
        }
      }
    }
    let sampler = Promise.resolve()
    const done = await client.run(
      {
        kind: 'run',
        address: services.apiAddress!,
        apiKey,
        rate: offered,
        seconds: options.seconds,
        probeEvery: options.probeEvery,
        probePrefix: `probe-${applicationId}`,
      },
      (m) => {
        if (m.kind === 'warmed') {
          // The untimed first request processed all the way (on Kafka: every topic of the app's group
          // read to its end): the tasks are assigned and initialised before the clock starts.
          warmupEvents = m.events
          void backend
            .idle(READY_TIMEOUT_MS)
            .catch((err: unknown) =>
              log(`${mode} ${offered}/s: the app had not processed the warm-up request in ${READY_TIMEOUT_MS / 1000} s (${String(err)}); timing anyway`),
            )
            .then(() => {
              startedAt = performance.now()
              sampling = true
              sampler = sample()
              client.go()
            })
        } else if (m.kind === 'probe') probes.set(m.key, { sentAt: m.at })
        else if (m.kind === 'progress') sent = m.sent
      },
    )
    const processedAtStop = (await consumedFrom(metrics, topics.telemetry)) - warmupEvents
    const backlogAtStop = done.sent - processedAtStop
    const loadSeconds = (done.ended - done.began) / 1000
    // Drain: up to --drain-seconds for the last probes' anomalies and alerts (a backlog would take
    // minutes: what is not in by then is reported not detected). Sampling goes on meanwhile: while a
    // backlog remains, the app processes at all it can, which is what a load it did not keep up with
    // tells of its capacity.
    const deadline = performance.now() + options.drainSeconds * 1000
    while (performance.now() < deadline && [...probes.values()].some((p) => p.deliveredAt === undefined)) await sleep(100)
    sampling = false
    await sampler
    log(`${mode} ${offered}/s samples (s: sent/processed): ${samples.map((s) => `${(s.at / 1000).toFixed(1)}: ${s.sent}/${s.processed}`).join(', ')}`)
    const rssEnd = rssMiB()
    if (done.failures > 0) log(`${mode} ${offered}/s: ${done.failures} requests failed, first: ${done.firstFailure}`)
    return {
      mode,
      offered,
      seconds: loadSeconds,
      stopped: stoppedBehind ? 'falling behind' : done.outOfEvents ? 'events' : 'time',
      acceptedRate: done.accepted / loadSeconds,
      // While offered, and after that while a backlog remained (not once caught up: idle time is no rate).
      sustainedRate: steadyRate(
        samples.filter((s) => s.at <= loadSeconds * 1000 || s.sent > s.processed),
        options.rule.warmupMs,
      ),
      backlogAtStop,
      ingestion: percentiles(done.latencies),
      probes: summarizeProbes(probes.values() as Iterable<ProbeTimes>),
      rssPeakMiB: Math.max(rssPeak, rssEnd),
      rssEndMiB: rssEnd,
      loadAverage: loadavg()[0]!,
    }
  } finally {
    for (const cleanup of cleanups) await cleanup()
  }
}

export async function loadSweep(argv: readonly string[]): Promise<void> {
  const options = sweepOptions(argv)
  const loadBefore = loadavg()[0]!
  const rssBefore = rssMiB()
  log(`generating ${options.hours} h of telemetry in the client thread`)
  const { client, events } = await SweepClient.start({ hours: options.hours, seed: options.seed, requestEvents: options.requestEvents })
  const baseline = rssMiB()
  log(`${events} events prepared; RSS ${rssBefore.toFixed(0)} MiB before, ${baseline.toFixed(0)} MiB with them; load average ${loadBefore.toFixed(1)}`)
  const results: LoadResult[] = []
  try {
    for (const mode of options.modes) {
      const kafka = mode === 'kafka' ? await benchBrokers() : undefined
      try {
        for (const offered of options.loads) {
          log(`${mode}: offering ${offered} events/s for up to ${options.seconds} s`)
          const result = await runLoad(mode, offered, kafka?.brokers, client, options)
          results.push(result)
          console.log(sweepRow(result))
        }
      } finally {
        if (kafka?.own) await stopBroker()
      }
    }
  } finally {
    await client.close()
  }
  const table = `${SWEEP_TABLE_HEADER}\n${results.map(sweepRow).join('\n')}`
  console.log(`\n${table}`)
  const section = `${RESULTS_HEADING}

Measured ${new Date().toISOString().slice(0, 16)}Z on a **shared machine**: ${cpus().length} cores used by several agents at once
(load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end, and per row in the table), Node
${process.version}. Compare rows with each other, not with a dedicated machine. ${events} generated events
(${options.hours} h of event time, seed ${options.seed}) in ${options.requestEvents}-event requests, every ${options.probeEvery}th with a probe; up to
${options.seconds} s per load, stopped once the backlog passes ${options.rule.maxBacklogSeconds} s of the offered load (after ${options.rule.warmupMs / 1000} s of warm-up);
API ingest thread ${options.ingestThread ? 'on' : 'off (the default)'}. RSS is this process's (app, client worker and its prepared requests:
${baseline.toFixed(0)} MiB before any app started).

${table}
`
  if (options.write) {
    const file = new URL('./RESULTS.md', import.meta.url)
    writeFileSync(file, withSweepSection(readFileSync(file, 'utf8'), section))
    log('wrote the load-sweep section of bench/sentinel/RESULTS.md')
  }
}
