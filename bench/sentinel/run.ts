/**
 * LLM-Sentinel throughput, standalone (no Kafka): the whole app topology (detection → anomalies →
 * anomaly view + alert manager) on StandaloneStreams with RocksDB state, fed the synthetic generator's
 * telemetry. The events are generated and serialized before the clock starts; only the app is timed.
 *
 * 1. Topology: events sent into the embedded log in batches of `--batch` as fast as the runtime takes
 *    them (its backpressure holds the sender when the topology lags), timed until the topology is idle
 *    (everything processed, anomalies and alerts written). Median of `--runs` runs in this process,
 *    each on a fresh app and state directory.
 * 2. HTTP ingest: the same app with its REST API on 127.0.0.1; `POST /api/v1/telemetry/events`
 *    batches of 500 over real sockets (node:http, keep-alive), at concurrency 1 and 4, each on a fresh
 *    app: accepted events/s, per-request latency p50/p99/max, and events/s until the topology has
 *    processed them all.
 *
 * 3. Detection latency: in the HTTP runs, every 5th request also carries three calls of a new
 *    application costing $5 each: the third completes the cost-threshold detector's streak, which
 *    emits on that record. Timed from the request being sent to the anomaly's append to the
 *    anomalies topic (the embedded log's append listener, same process, same clock).
 *
 *   npx tsx bench/sentinel/run.ts [--hours 12] [--runs 3] [--batch 1000] [--seed 42] [--max-batch-records n]
 *     [--max-block-ms n] [--paced-rate events/s] [--paced-requests 300] [--no-write]
 *     [--ingest-thread] [--only-paced] [--client-thread]
 *
 * --ingest-thread: the API with `api.ingestThread: true` (the HTTP edge in a worker thread).
 * --only-paced: only the two paced HTTP runs at --paced-rate (no topology runs, no back-to-back
 * runs), printed, never written to RESULTS.md: for A/B rounds of the ingest latency.
 * --client-thread: the paced client in a worker thread (paced-client.ts), so its timers and
 * callbacks do not queue behind the app's main event loop.
 *
 * Results go to bench/sentinel/RESULTS.md.
 *
 * `--sweep`: the whole app at fixed offered loads on Kafka and standalone, with ingestion, detection,
 * alerting and end-to-end latency, sustained events/s and RSS: bench/sentinel/load-sweep.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { Worker } from 'node:worker_threads'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { Registry } from 'prom-client'
import { quantileSorted } from 'simple-statistics'
import { TelemetryGenerator } from '../../apps/sentinel/generator/index.js'
import { buildSentinelAppTopology, loadSentinelApp, startSentinelServices } from '../../apps/sentinel/sentinel-app.js'
import { StandaloneStreams } from '../../runtime/standalone/index.js'
import type { OutgoingRecord } from '../../runtime/streams-runtime.js'
import { type PacedClientData, type PacedClientMessage, post } from './paced-client.js'

// The load sweep (issue 14 item 4) is its own module with its own options.
if (process.argv.includes('--sweep')) {
  const { loadSweep } = await import('./load-sweep.js')
  await loadSweep(process.argv.slice(2))
  process.exit(0)
}

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '12' },
    runs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '42' },
    'max-batch-records': { type: 'string' },
    'max-block-ms': { type: 'string' },
    'paced-rate': { type: 'string' },
    'paced-requests': { type: 'string', default: '300' },
    'no-write': { type: 'boolean', default: false },
    'ingest-thread': { type: 'boolean', default: false },
    'only-paced': { type: 'boolean', default: false },
    'client-thread': { type: 'boolean', default: false },
  },
})
const hours = Number(values.hours)
const runs = Number(values.runs)
const batchSize = Number(values.batch)
const seed = Number(values.seed)
const HTTP_BATCH = 500
/** StandaloneStreams' records per task per round (its default when not given). */
const maxBatchRecords = values['max-batch-records'] === undefined ? undefined : Number(values['max-batch-records'])
const maxBlockMs = values['max-block-ms'] === undefined ? undefined : Number(values['max-block-ms'])
const silent = pino({ level: 'silent' })

const generator = new TelemetryGenerator({ hours, seed })
const events = [...generator.events()]
const records: OutgoingRecord[] = events.map((e) => ({ key: e.application_id, value: JSON.stringify(e), timestamp: Date.parse(e.timestamp) }))
/** Smaller requests for the last paced run, at the same offered events/s: the latency of a client that sends often. */
const SMALL_HTTP_BATCH = 50
interface RequestSet {
  readonly size: number
  readonly batches: readonly (typeof events)[]
  readonly bodies: readonly string[]
}
function requestSet(size: number): RequestSet {
  const batches: (typeof events)[] = []
  for (let i = 0; i < events.length; i += size) batches.push(events.slice(i, i + size))
  return { size, batches, bodies: batches.map((batch) => JSON.stringify(batch)) }
}
const large = requestSet(HTTP_BATCH)
const bodies = large.bodies
/** Every how many timed requests one carries a cost probe (see the module comment, 3.). */
const PROBE_EVERY = 5
const PROBE_COST = 5
const costTemplate = events.find((e) => e.event_type === 'llm.response' && typeof (e.data as { cost?: unknown }).cost === 'number')
if (!costTemplate) throw new Error('the generated telemetry has no llm.response with a cost to model the cost probes on')
/** The request body of batch `i` with three $5 calls of application `app` appended (at the batch's last timestamp, so never late). */
function probedBody(set: RequestSet, i: number, app: string): string {
  const batch = set.batches[i]!
  const at = batch[batch.length - 1]!.timestamp
  const probe = () => ({ ...costTemplate!, event_id: randomUUID(), timestamp: at, application_id: app, data: { ...costTemplate!.data, cost: PROBE_COST } })
  return JSON.stringify([...batch, probe(), probe(), probe()])
}
const loadBefore = loadavg()[0]!
console.log(`sentinel bench: ${events.length} events (${hours} h of generated telemetry, seed ${seed}), ${cpus().length} cores`)

interface Started {
  readonly runtime: StandaloneStreams
  readonly stateDir: string
  readonly telemetryTopic: string
  readonly anomaliesTopic: string
  readonly alertsTopic: string
}

async function startApp(applicationId: string, api: Record<string, unknown> | null): Promise<Started & { apiAddress: string | null; close(): Promise<void> }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-'))
  // The bench replays generated telemetry of a fixed day: event times far behind the wall clock.
  const app = loadSentinelApp({ applicationId, sentinel: { api: api ?? { enabled: false }, eventTime: { maxBehind: 'off' } } }, {})
  const metrics = new Registry()
  const runtime = new StandaloneStreams(buildSentinelAppTopology(app, { metrics, logger: silent }), { applicationId, stateDir, storeEngine: 'rocksdb', ...(maxBatchRecords === undefined ? {} : { maxBatchRecords }), ...(maxBlockMs === undefined ? {} : { maxBlockMs }) }, { logger: false, metrics })
  await runtime.start()
  await runtime.waitForState('running')
  const services = api === null ? null : await startSentinelServices(app, { runtime, logger: silent, metrics })
  return {
    runtime,
    stateDir,
    telemetryTopic: app.settings.topics.telemetry,
    anomaliesTopic: app.settings.topics.anomalies,
    alertsTopic: app.settings.topics.alerts,
    apiAddress: services?.apiAddress ?? null,
    async close() {
      await services?.close()
      await runtime.close()
      rmSync(stateDir, { recursive: true, force: true })
    },
  }
}

function topicSize(runtime: StandaloneStreams, topic: string): number {
  let n = 0
  for (let p = 0; p < (runtime.log.partitionCount(topic) ?? 0); p++) n += runtime.log.endOffset(topic, p)
  return n
}

interface TopologyRun {
  readonly eventsPerSecond: number
  readonly anomalies: number
  readonly alerts: number
}

async function topologyRun(i: number): Promise<TopologyRun> {
  const app = await startApp(`sentinel-bench-${i}`, null)
  try {
    const began = performance.now()
    for (let at = 0; at < records.length; at += batchSize) await app.runtime.send(app.telemetryTopic, records.slice(at, at + batchSize))
    await app.runtime.idle(300_000)
    const seconds = (performance.now() - began) / 1000
    const dead = topicSize(app.runtime, app.runtime.deadLetterTopic)
    if (dead > 0) throw new Error(`${dead} events went to the dead-letter topic`)
    return { eventsPerSecond: records.length / seconds, anomalies: topicSize(app.runtime, app.anomaliesTopic), alerts: topicSize(app.runtime, app.alertsTopic) }
  } finally {
    await app.close()
  }
}

interface HttpRun {
  readonly label: string
  readonly concurrency: number
  readonly requests: number
  readonly acceptedPerSecond: number
  readonly processedPerSecond: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** The event loop's delay p99 / max while requests were timed, ms: how long it was held by one turn. */
  readonly loopDelayP99: number
  readonly loopDelayMax: number
  /** Request sent → cost anomaly appended, ms, sorted; and probes whose anomaly never came. */
  readonly detection: readonly number[]
  readonly probesMissed: number
}

/** Requests sent before timing starts: sockets opened, routes and validators warm. Their events are processed too. */
const WARMUP_REQUESTS = 4

/**
 * `concurrency` closed-loop clients sending back to back, or (`paced`) an open loop sending one
 * request every `paced` ms whatever the answers, latency measured from each request's scheduled time
 * (so a stalled server is not hidden by requests not being sent).
 */
async function httpRun(concurrency: number, paced?: { readonly intervalMs: number; readonly requests: number }, set: RequestSet = large): Promise<HttpRun> {
  const bodies = set.bodies
  const apiKey = randomBytes(24).toString('hex')
  // The rate limit stays on (it is on the path) but high enough not to refuse a benchmark.
  const app = await startApp(`sentinel-bench-http-${concurrency}`, { host: '127.0.0.1', port: 0, apiKeys: [apiKey], bodyLimit: '4mb', rateLimit: { max: 1_000_000, window: '1m' }, ingestThread: values['ingest-thread'] })
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  try {
    const address = new URL(app.apiAddress!)
    const send = async (body: string): Promise<void> => {
      const { status, text } = await post(agent, address, apiKey, body)
      if (status !== 202) throw new Error(`POST /api/v1/telemetry/events answered ${status}: ${text.slice(0, 300)}`)
      const { rejected } = JSON.parse(text) as { rejected: number }
      if (rejected > 0) throw new Error(`${rejected} events rejected: ${text.slice(0, 300)}`)
    }
    for (const body of bodies.slice(0, WARMUP_REQUESTS)) await send(body)
    const timedCount = Math.min(bodies.length - WARMUP_REQUESTS, paced ? paced.requests : Number.POSITIVE_INFINITY)
    const probeSent = new Map<string, number>()
    const detection: number[] = []
    const timed = Array.from({ length: timedCount }, (_, j) => {
      const i = WARMUP_REQUESTS + j
      return j % PROBE_EVERY === PROBE_EVERY - 1 ? { body: probedBody(set, i, `probe-${j}`), probe: `probe-${j}` } : { body: bodies[i]!, probe: undefined }
    })
    const log = app.runtime.log
    const unsubscribe = log.subscribe([app.anomaliesTopic], (topic, partition) => {
      const [record] = log.read(topic, partition, log.endOffset(topic, partition) - 1, 1)
      const key = record?.key?.toString('utf8')
      const sentAt = key === undefined ? undefined : probeSent.get(key)
      if (sentAt === undefined) return
      detection.push(performance.now() - sentAt)
      probeSent.delete(key!)
    })
    const sendTimed = async ({ body, probe }: (typeof timed)[number]): Promise<void> => {
      if (probe !== undefined) probeSent.set(probe, performance.now())
      await send(body)
    }
    const latencies: number[] = []
    let next = 0
    const loopDelay = monitorEventLoopDelay({ resolution: 10 })
    loopDelay.enable()
    let began = performance.now()
    let clientAccepted: number | undefined
    if (paced && values['client-thread']) {
      const data: PacedClientData = { address: app.apiAddress!, apiKey, bodies: timed.map((t) => t.body), probes: timed.map((t) => t.probe ?? null), intervalMs: paced.intervalMs }
      // Absolute times from the client thread, made relative to this thread's clock.
      const offset = performance.timeOrigin
      const done = await new Promise<PacedClientMessage>((resolve, reject) => {
        const worker = new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(new URL('./paced-client.ts', import.meta.url).href)}) })`, { eval: true, workerData: { pacedClient: data } })
        worker.on('message', (message: PacedClientMessage) => {
          if (message.kind === 'probe') probeSent.set(message.key, message.at - offset)
          else resolve(message)
        })
        worker.on('error', reject)
      })
      if (done.kind === 'failed') throw new Error(done.message)
      if (done.kind === 'done') {
        latencies.push(...done.latencies)
        began = done.began - offset
        clientAccepted = done.accepted - offset
      }
    } else if (paced)
      await Promise.all(
        timed.map(async (body, i) => {
          const due = began + i * paced.intervalMs
          await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())))
          await sendTimed(body)
          latencies.push(performance.now() - due)
        }),
      )
    else
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < timed.length) {
            const body = timed[next++]!
            const t = performance.now()
            await sendTimed(body)
            latencies.push(performance.now() - t)
          }
        }),
      )
    const accepted = clientAccepted ?? performance.now()
    loopDelay.disable()
    await app.runtime.idle(300_000)
    const processed = performance.now()
    unsubscribe()
    const timedEvents = timed.reduce((n, { body }) => n + (JSON.parse(body) as unknown[]).length, 0)
    latencies.sort((a, b) => a - b)
    detection.sort((a, b) => a - b)
    return {
      label: `${set.size}-event batches, ${paced ? `paced: one request every ${paced.intervalMs.toFixed(0)} ms (${Math.round((set.size * 1000) / paced.intervalMs)} events/s offered)` : `concurrency ${concurrency}`}`,
      concurrency,
      requests: timed.length,
      acceptedPerSecond: timedEvents / ((accepted - began) / 1000),
      processedPerSecond: timedEvents / ((processed - began) / 1000),
      p50: quantileSorted(latencies, 0.5),
      p99: quantileSorted(latencies, 0.99),
      max: latencies[latencies.length - 1]!,
      loopDelayP99: loopDelay.percentile(99) / 1e6,
      loopDelayMax: loopDelay.max / 1e6,
      detection,
      probesMissed: probeSent.size,
    }
  } finally {
    agent.destroy()
    await app.close()
  }
}

function detectionText(run: HttpRun): string {
  const d = run.detection
  if (d.length === 0) return `no probe detected (${run.probesMissed} missed)`
  return `p50 ${quantileSorted([...d], 0.5).toFixed(1)} / p99 ${quantileSorted([...d], 0.99).toFixed(1)} / max ${d[d.length - 1]!.toFixed(1)} ms over ${d.length} probes${run.probesMissed > 0 ? `, ${run.probesMissed} missed` : ''}`
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

if (values['only-paced']) {
  if (values['paced-rate'] === undefined) throw new Error('--only-paced needs --paced-rate')
  const rate = Number(values['paced-rate'])
  const requests = Number(values['paced-requests'])
  const thread = values['ingest-thread'] ? 'on' : 'off'
  for (const set of [large, requestSet(SMALL_HTTP_BATCH)]) {
    const plan = { intervalMs: (set.size * 1000) / rate, requests: Math.min(set.bodies.length - WARMUP_REQUESTS, set === large ? requests : requests * 5) }
    const run = await httpRun(1, plan, set)
    console.log(
      `PACED thread=${thread} batch=${set.size} offered=${rate} requests=${run.requests} p50=${run.p50.toFixed(1)} p99=${run.p99.toFixed(1)} max=${run.max.toFixed(1)} accepted=${Math.round(run.acceptedPerSecond)} processed=${Math.round(run.processedPerSecond)} loopP99=${run.loopDelayP99.toFixed(0)} load=${loadavg()[0]!.toFixed(1)}`,
    )
  }
  process.exit(0)
}

const topology: TopologyRun[] = []
for (let i = 0; i < runs; i++) {
  const run = await topologyRun(i)
  topology.push(run)
  console.log(`  topology run ${i + 1}: ${Math.round(run.eventsPerSecond)} events/s (${run.anomalies} anomalies, ${run.alerts} alerts)`)
}
const http: HttpRun[] = []
const topologyMedian = median(topology.map((r) => r.eventsPerSecond))
// Paced at half of what the topology sustains (or --paced-rate, to compare builds at one offered
// load): the ingest latency of a deployment that keeps up.
const pacedRate = values['paced-rate'] === undefined ? topologyMedian / 2 : Number(values['paced-rate'])
const pacedPlan = { intervalMs: (HTTP_BATCH * 1000) / pacedRate, requests: Math.min(bodies.length - WARMUP_REQUESTS, Number(values['paced-requests'])) }
const small = requestSet(SMALL_HTTP_BATCH)
const smallPlan = { intervalMs: (SMALL_HTTP_BATCH * 1000) / pacedRate, requests: Math.min(small.bodies.length - WARMUP_REQUESTS, pacedPlan.requests * 5) }
for (const [concurrency, paced, set] of [[1, undefined, large], [4, undefined, large], [1, pacedPlan, large], [1, smallPlan, small]] as const) {
  const run = await httpRun(concurrency, paced, set)
  http.push(run)
  console.log(
    `  http ${run.label}: ${Math.round(run.acceptedPerSecond)} events/s accepted, p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms; event-loop delay p99 ${run.loopDelayP99.toFixed(0)} ms, max ${run.loopDelayMax.toFixed(0)} ms; detection ${detectionText(run)}`,
  )
}

const ms = (x: number): string => x.toFixed(1)
const table = [
  '| path | events/s | request latency p50 / p99 / max (ms) | detection latency p50 / p99 / max (ms) | notes |',
  '|---|---|---|---|---|',
  `| whole app topology, embedded log, RocksDB (median of ${runs}) | ${Math.round(topologyMedian)} | - | - | runs: ${topology.map((r) => Math.round(r.eventsPerSecond)).join(', ')}; batches of ${batchSize}; ${topology[0]?.anomalies ?? 0} anomalies, ${topology[0]?.alerts ?? 0} alerts per run |`,
  ...http.map(
    (r) =>
      `| HTTP ingest, ${r.label} | ${Math.round(r.acceptedPerSecond)} accepted (${Math.round(r.processedPerSecond)} processed) | ${ms(r.p50)} / ${ms(r.p99)} / ${ms(r.max)} | ${r.detection.length > 0 ? `${ms(quantileSorted([...r.detection], 0.5))} / ${ms(quantileSorted([...r.detection], 0.99))} / ${ms(r.detection[r.detection.length - 1]!)}` : '-'} | ${r.requests} timed requests, ${r.detection.length} probes${r.probesMissed > 0 ? ` (${r.probesMissed} missed)` : ''}; event-loop delay p99 ${r.loopDelayP99.toFixed(0)} ms, max ${r.loopDelayMax.toFixed(0)} ms |`,
  ),
].join('\n')
console.log(`\n${table}`)

const date = new Date().toISOString().slice(0, 10)
const load = `load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`
const closed = http.filter((r) => !r.label.includes('paced'))
const best = closed.reduce((a, b) => (b.acceptedPerSecond > a.acceptedPerSecond ? b : a))
const sequential = http[0]!
const paced = http[2]!
const pacedSmall = http[3]!
const meets = (x: number, target: number): string => (x < target ? 'meets' : 'misses')
const pct = (xs: readonly number[], q: number): number => (xs.length === 0 ? Number.NaN : quantileSorted([...xs], q))
const report = `# LLM-Sentinel standalone throughput and latency (bench/sentinel/run.ts)

Measured ${date} on the project machine: ${cpus().length} cores **shared with other work** (figures vary by
±30% between runs and more under load; ${load}), Node ${process.version}. ${events.length} generated telemetry events (${hours} h of event
time, seed ${seed}: requests, responses and errors of several applications, models and users),
generated and serialized before timing. The whole Sentinel topology (6 default detectors → anomalies
topic → anomaly view + alert manager with the default rules) on StandaloneStreams: embedded log,
RocksDB state, one partition per topic, metrics on, processing slices of ${maxBlockMs ?? 5} ms (\`maxBlockMs\`).
Reproduce: \`npm run bench -- sentinel\` (options in bench/sentinel/run.ts).

${table}

- **Topology**: events sent into the embedded log in batches, timed from the first send until the
  topology is idle (every event processed, anomalies and alerts written to their topics).
- **HTTP ingest**: \`POST /api/v1/telemetry/events\` through fastify over real sockets on 127.0.0.1
  (node:http agent, keep-alive), with bearer auth, the rate limiter, per-event validation and the
  write to the telemetry topic, the app's topology running meanwhile in the same process. The client
  runs in that process too, on the same 2 cores. "accepted": events/s answered 202; "processed":
  until the topology had processed them all. Back to back (concurrency 1 and 4) is saturation: the
  API accepts faster than the topology processes, the log buffers the difference (\`send\` waits
  once it holds more than half its retention), and detection latency there is queueing behind that
  backlog. The paced run (open loop, latency from each request's scheduled time) offers less than the
  topology sustains: the latency of an install that keeps up.
- **Detection latency**: every ${PROBE_EVERY}th request carries three $${PROBE_COST} calls of a new application; the
  third completes the cost-threshold streak (the detector emits on that record). Timed from the
  request being sent to the anomaly's append to the anomalies topic.

## Against seed 000's targets

- Standalone **15K events/s**: the whole app topology does **${Math.round(topologyMedian)} events/s** here,
  ${topologyMedian >= 15_000 ? 'which meets it' : `**${Math.round((topologyMedian / 15_000) * 100)}% of it: not met**`} on 2 shared cores (the seed does not say on what machine, nor
  whether its figure includes alerting; this one does, with state in RocksDB).
  HTTP ingest accepts ${Math.round(best.acceptedPerSecond)} events/s at best (${best.label}) while the topology runs
  beside it on the same event loop.
- Ingestion **p99 < 10 ms**: at a sustainable pace, **${meets(paced.p99, 10)}** with ${HTTP_BATCH}-event requests (p99 **${ms(paced.p99)} ms**,
  p50 ${ms(paced.p50)} ms) and **${meets(pacedSmall.p99, 10)}** with ${SMALL_HTTP_BATCH}-event requests (p99 **${ms(pacedSmall.p99)} ms**, p50 ${ms(pacedSmall.p50)} ms); back to
  back ${ms(sequential.p99)} ms. An event is ingested when its request is answered. A large request is mostly
  its own work (a ${Math.round(bodies[0]!.length / 1024)} KB body parsed, ${HTTP_BATCH} events validated once and
  serialized for the telemetry topic); the tail follows the event loop's delay (notes column): GC
  pauses, slices of topology work, and the OS running other processes on the 2 shared cores.
- Detection **p99 < 100 ms**: at a sustainable pace **${meets(pct(paced.detection, 0.99), 100)}** with ${HTTP_BATCH}-event requests: p99 **${ms(pct(paced.detection, 0.99))} ms**
  (p50 ${ms(pct(paced.detection, 0.5))} ms), and **${meets(pct(pacedSmall.detection, 0.99), 100)}** with ${SMALL_HTTP_BATCH}-event ones: p99 **${ms(pct(pacedSmall.detection, 0.99))} ms** (p50 ${ms(pct(pacedSmall.detection, 0.5))} ms),
  request sent to anomaly on the topic. At saturation it is the backlog's age instead (table): the
  log buffers up to half its retention (50 000 events) ahead of the topology.
`
if (values['no-write']) console.log('\n(--no-write: RESULTS.md left as it was)')
else {
  writeFileSync(new URL('./RESULTS.md', import.meta.url), report)
  console.log('\nwrote bench/sentinel/RESULTS.md')
}
