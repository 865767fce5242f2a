/**
 * The HTTP ingest path alone, small enough to profile and to A/B two builds: the whole Sentinel app
 * (topology on StandaloneStreams with RocksDB, REST API on 127.0.0.1) takes `requests` POSTs of
 * `batch` generated events, paced at `rate` events/s (open loop, latency from each request's
 * scheduled time) or back to back when `rate` is 0. Reports request p50/p99/max, the event loop's
 * delay, and events per CPU-second of the whole process (user + system, every thread) until the
 * topology has processed them all: steadier than wall time on a shared machine.
 *
 *   npx tsx bench/sentinel/ingest-cpu.ts [rate=0] [requests=150] [batch=500] [hours=12]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/sentinel/ingest-cpu.ts 0 150
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { Agent } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import pino from 'pino'
import { Registry } from 'prom-client'
import { quantileSorted } from 'simple-statistics'
import { TelemetryGenerator } from '../../apps/sentinel/generator/index.js'
import { buildSentinelAppTopology, loadSentinelApp, startSentinelServices } from '../../apps/sentinel/sentinel-app.js'
import { StandaloneStreams } from '../../runtime/standalone/index.js'
import { post as postEvents } from './paced-client.js'

const rate = Number(process.argv[2] ?? 0)
const requests = Number(process.argv[3] ?? 150)
const batch = Number(process.argv[4] ?? 500)
const hours = Number(process.argv[5] ?? 12)
const WARMUP = 4
const events = [...new TelemetryGenerator({ hours, seed: 42 }).events()]
const bodies: string[] = []
for (let i = 0; i + batch <= events.length && bodies.length < requests + WARMUP; i += batch) bodies.push(JSON.stringify(events.slice(i, i + batch)))
if (bodies.length < requests + WARMUP) throw new Error(`${hours} h of telemetry make ${bodies.length} requests of ${batch}; ask for fewer or more hours`)

const silent = pino({ level: 'silent' })
const apiKey = randomBytes(24).toString('hex')
const applicationId = 'sentinel-ingest-cpu'
const stateDir = mkdtempSync(join(tmpdir(), 'sentinel-ingest-'))
const app = loadSentinelApp(
  {
    applicationId,
    sentinel: {
      api: { host: '127.0.0.1', port: 0, apiKeys: [apiKey], bodyLimit: '4mb', rateLimit: { max: 1_000_000, window: '1m' } },
      eventTime: { maxBehind: 'off' },
    },
  },
  {},
)
const metrics = new Registry()
const runtime = new StandaloneStreams(
  buildSentinelAppTopology(app, { metrics, logger: silent }),
  { applicationId, stateDir, storeEngine: 'rocksdb' },
  { logger: false, metrics },
)
await runtime.start()
await runtime.waitForState('running')
const services = await startSentinelServices(app, { runtime, logger: silent, metrics })
const address = new URL(services.apiAddress!)
const agent = new Agent({ keepAlive: true, maxSockets: 1 })

async function post(body: string): Promise<void> {
  const answer = await postEvents(agent, address, apiKey, body)
  if (answer.status !== 202) throw new Error(`answered ${answer.status}: ${answer.text.slice(0, 300)}`)
}

try {
  for (const body of bodies.slice(0, WARMUP)) await post(body)
  await runtime.idle(300_000)
  const timed = bodies.slice(WARMUP, WARMUP + requests)
  const latencies: number[] = []
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  const cpu = process.cpuUsage()
  const began = performance.now()
  if (rate > 0) {
    const intervalMs = (batch * 1000) / rate
    await Promise.all(
      timed.map(async (body, i) => {
        const due = began + i * intervalMs
        await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())))
        await post(body)
        latencies.push(performance.now() - due)
      }),
    )
  } else {
    for (const body of timed) {
      const t = performance.now()
      await post(body)
      latencies.push(performance.now() - t)
    }
  }
  const accepted = performance.now()
  loopDelay.disable()
  await runtime.idle(300_000)
  const processed = performance.now()
  const used = process.cpuUsage(cpu)
  latencies.sort((a, b) => a - b)
  const n = timed.length * batch
  console.log(
    `${rate > 0 ? `paced ${rate}/s` : 'back to back'}, ${timed.length} × ${batch}: accepted ${Math.round(n / ((accepted - began) / 1000))}/s, processed ${Math.round(n / ((processed - began) / 1000))}/s, ` +
      `${Math.round(n / ((used.user + used.system) / 1e6))} events/cpu-s; request p50 ${quantileSorted(latencies, 0.5).toFixed(1)} p99 ${quantileSorted(latencies, 0.99).toFixed(1)} max ${latencies[latencies.length - 1]!.toFixed(1)} ms; ` +
      `loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} max ${(loopDelay.max / 1e6).toFixed(0)} ms; load ${loadavg()[0]!.toFixed(1)}`,
  )
} finally {
  agent.destroy()
  await services.close()
  await runtime.close()
  rmSync(stateDir, { recursive: true, force: true })
}
