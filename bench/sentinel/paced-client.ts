/**
 * The paced HTTP client of bench/sentinel/run.ts (`--client-thread`), in a worker thread: an open
 * loop sending one request every `intervalMs`, latency from each request's scheduled time. In its own
 * thread so that the client's timers and response callbacks do not wait for the app's main event loop
 * (which, with the API's ingest thread on, no longer serves the requests): what it measures is the
 * server's answer, not the client's queueing behind the topology. Times sent to the parent are
 * absolute (timeOrigin + now), comparable across threads.
 */
import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'

export interface PacedClientData {
  readonly address: string
  readonly apiKey: string
  readonly bodies: readonly string[]
  /** Per body: the probe's key when it carries one. */
  readonly probes: readonly (string | null)[]
  readonly intervalMs: number
}

export type PacedClientMessage =
  | { readonly kind: 'probe'; readonly key: string; readonly at: number }
  | { readonly kind: 'done'; readonly latencies: number[]; readonly began: number; readonly accepted: number }
  | { readonly kind: 'failed'; readonly message: string }

export function post(agent: Agent, address: URL, apiKey: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: address.hostname,
        port: address.port,
        method: 'POST',
        path: '/api/v1/telemetry/events',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${apiKey}` },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const absolute = (): number => performance.timeOrigin + performance.now()

async function run(data: PacedClientData): Promise<PacedClientMessage> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const address = new URL(data.address)
  const latencies: number[] = []
  const began = performance.now()
  const beganAt = absolute()
  try {
    await Promise.all(
      data.bodies.map(async (body, i) => {
        const due = began + i * data.intervalMs
        await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())))
        const probe = data.probes[i]
        if (probe !== null && probe !== undefined) parentPort!.postMessage({ kind: 'probe', key: probe, at: absolute() } satisfies PacedClientMessage)
        const { status, text } = await post(agent, address, data.apiKey, body)
        if (status !== 202) throw new Error(`POST /api/v1/telemetry/events answered ${status}: ${text.slice(0, 300)}`)
        latencies.push(performance.now() - due)
      }),
    )
    return { kind: 'done', latencies, began: beganAt, accepted: absolute() }
  } catch (err) {
    return { kind: 'failed', message: err instanceof Error ? err.message : String(err) }
  } finally {
    agent.destroy()
  }
}

if (parentPort !== null && (workerData as { pacedClient?: PacedClientData } | null)?.pacedClient !== undefined) {
  parentPort.postMessage(await run((workerData as { pacedClient: PacedClientData }).pacedClient))
}
