/**
 * The load sweep's HTTP client (load-sweep.ts), in a worker thread so that its timers and response
 * callbacks never wait for the app's event loop. It generates its pool of request bodies once (the
 * synthetic generator's telemetry, serialized before any clock starts; each load's app is fresh, so
 * every load replays the same pool), then per `run` message offers `rate` events/s as an open loop:
 * request i is due at start + i × interval whatever the answers so far, and its ingestion latency is
 * taken from that due time, so a stalled server shows as latency and is not hidden by the client
 * sending less. Every `probeEvery`th request carries three $5 calls of an application of its own
 * (`<prefix>-<n>`): the cost-threshold detector's streak completes on the third, so the probe's
 * anomaly and alert can be told apart from the workload's. All times sent to the parent are
 * absolute (timeOrigin + now), comparable across threads.
 */
import { randomUUID } from 'node:crypto'
import { Agent } from 'node:http'
import { performance } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'
import { TelemetryGenerator } from '../../apps/sentinel/generator/index.js'
import type { TelemetryEvent } from '../../schemas/telemetry/index.js'
import { post } from './paced-client.js'

export interface SweepClientData {
  readonly hours: number
  readonly seed: number
  readonly requestEvents: number
}

export interface SweepRun {
  readonly kind: 'run'
  readonly address: string
  readonly apiKey: string
  readonly rate: number
  readonly seconds: number
  readonly probeEvery: number
  readonly probePrefix: string
}

/** `go`: start the timed load (after `warmed`); `stop`: send no more requests, report once the sent ones are answered. */
export type SweepClientCommand = SweepRun | { readonly kind: 'go' } | { readonly kind: 'stop' }

export type SweepClientMessage =
  | { readonly kind: 'ready'; readonly events: number; readonly requests: number }
  /** The untimed first request was answered 202: the app is reachable; the load waits for `go`. */
  | { readonly kind: 'warmed'; readonly events: number }
  | { readonly kind: 'probe'; readonly key: string; readonly at: number }
  /** Events sent (each request once it was due and sent) and answered 202 so far. */
  | { readonly kind: 'progress'; readonly accepted: number; readonly sent: number }
  | {
      readonly kind: 'done'
      /** Events sent. */
      readonly sent: number
      readonly began: number
      readonly ended: number
      /** Events answered 202. */
      readonly accepted: number
      readonly requests: number
      /** Requests answered other than 202, or failed; the first one's text. */
      readonly failures: number
      readonly firstFailure: string | null
      /** Ingestion latency per answered request, ms from its due time. */
      readonly latencies: number[]
      /** Whether the pool ran out before `seconds` were up. */
      readonly outOfEvents: boolean
    }

/** How often the client reports its accepted count. */
const PROGRESS_MS = 250
const PROBE_COST = 5

const absolute = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Pool {
  /** Request bodies, each a JSON array of `requestEvents` events. */
  readonly bodies: readonly string[]
  /** Per body: its events count and the last event's timestamp (where a probe is put: never late). */
  readonly sizes: readonly number[]
  readonly lastTimestamps: readonly string[]
  readonly costTemplate: TelemetryEvent
}

function buildPool(data: SweepClientData): Pool {
  const bodies: string[] = []
  const sizes: number[] = []
  const lastTimestamps: string[] = []
  let costTemplate: TelemetryEvent | undefined
  let batch: TelemetryEvent[] = []
  const flush = (): void => {
    bodies.push(JSON.stringify(batch))
    sizes.push(batch.length)
    lastTimestamps.push(batch[batch.length - 1]!.timestamp)
    batch = []
  }
  for (const event of new TelemetryGenerator({ hours: data.hours, seed: data.seed }).events()) {
    if (costTemplate === undefined && event.event_type === 'llm.response' && typeof (event.data as { cost?: unknown }).cost === 'number') costTemplate = event
    batch.push(event)
    if (batch.length === data.requestEvents) flush()
  }
  if (batch.length > 0) flush()
  if (costTemplate === undefined) throw new Error('the generated telemetry has no llm.response with a cost to model the probes on')
  return { bodies, sizes, lastTimestamps, costTemplate }
}

/** Body `i` with three $5 calls of application `app` appended, without parsing the body again. */
function probedBody(pool: Pool, i: number, app: string): string {
  const at = pool.lastTimestamps[i]!
  const template = pool.costTemplate
  const probe = (): string =>
    JSON.stringify({ ...template, event_id: randomUUID(), timestamp: at, application_id: app, data: { ...template.data, cost: PROBE_COST } })
  return `${pool.bodies[i]!.slice(0, -1)},${probe()},${probe()},${probe()}]`
}

let stopRequested = false
let go: (() => void) | undefined

async function run(pool: Pool, command: SweepRun, send: (m: SweepClientMessage) => void): Promise<void> {
  // Enough sockets for an open loop at 60K events/s with answers of tens of ms; each is one keep-alive connection.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  const address = new URL(command.address)
  // Body 0, untimed: the parent waits until the app has processed it (tasks ready) and says go.
  const warm = await post(agent, address, command.apiKey, pool.bodies[0]!)
  if (warm.status !== 202) throw new Error(`the warm-up request was answered ${warm.status}: ${warm.text.slice(0, 300)}`)
  await new Promise<void>((resolve) => {
    go = resolve
    send({ kind: 'warmed', events: pool.sizes[0]! })
  })
  const intervalMs = (pool.sizes[0]! * 1000) / command.rate
  const wanted = Math.ceil((command.rate * command.seconds) / pool.sizes[0]!)
  const count = Math.min(wanted, pool.bodies.length - 1)
  const latencies: number[] = []
  const inFlight = new Set<Promise<void>>()
  let accepted = 0
  let failures = 0
  let firstFailure: string | null = null
  let sent = 0
  let sentEvents = 0
  let probes = 0
  const began = performance.now()
  const beganAt = absolute()
  const progress = setInterval(() => send({ kind: 'progress', accepted, sent: sentEvents }), PROGRESS_MS)
  try {
    for (let j = 0; j < count && !stopRequested; j++) {
      const i = j + 1
      const due = began + j * intervalMs
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
      if (stopRequested) break
      let body = pool.bodies[i]!
      let events = pool.sizes[i]!
      if (i % command.probeEvery === command.probeEvery - 1) {
        const key = `${command.probePrefix}-${probes++}`
        body = probedBody(pool, i, key)
        events += 3
        send({ kind: 'probe', key, at: absolute() })
      }
      sent++
      sentEvents += events
      const request = post(agent, address, command.apiKey, body).then(
        ({ status, text }) => {
          if (status === 202) {
            accepted += events
            latencies.push(performance.now() - due)
          } else {
            failures++
            firstFailure ??= `answered ${status}: ${text.slice(0, 300)}`
          }
        },
        (err: unknown) => {
          failures++
          firstFailure ??= err instanceof Error ? err.message : String(err)
        },
      )
      const tracked: Promise<void> = request.finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
    }
    await Promise.all(inFlight)
  } finally {
    clearInterval(progress)
    agent.destroy()
  }
  send({ kind: 'progress', accepted, sent: sentEvents })
  send({
    kind: 'done',
    sent: sentEvents,
    began: beganAt,
    ended: absolute(),
    accepted,
    requests: sent,
    failures,
    firstFailure,
    latencies,
    outOfEvents: !stopRequested && wanted > count,
  })
}

const data = (workerData as { sweepClient?: SweepClientData } | null)?.sweepClient
if (parentPort !== null && data !== undefined) {
  const port = parentPort
  const send = (m: SweepClientMessage): void => port.postMessage(m)
  const pool = buildPool(data)
  let running: Promise<void> = Promise.resolve()
  port.on('message', (command: SweepClientCommand) => {
    if (command.kind === 'stop') stopRequested = true
    else if (command.kind === 'go') go?.()
    else {
      stopRequested = false
      running = running.then(() => run(pool, command, send))
    }
  })
  send({ kind: 'ready', events: pool.sizes.reduce((a, b) => a + b, 0), requests: pool.bodies.length })
}
