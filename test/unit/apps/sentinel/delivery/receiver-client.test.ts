import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { buildDeliveryRequest, type DeliveryRequest } from '../../../../../apps/sentinel/delivery/delivery-request.js'
import { DeliveryAbortedError, ReceiverClient } from '../../../../../apps/sentinel/delivery/receiver-client.js'
import { verifyWebhookSignature } from '../../../../../apps/sentinel/delivery/webhook-signature.js'
import { type TestReceiver, fastDelivery, reply, sampleAlert, startReceiver } from './fixtures.js'

const servers: TestReceiver[] = []
after(() => Promise.all(servers.map((s) => s.close())))

async function receiver(respond: Parameters<typeof startReceiver>[0]): Promise<TestReceiver> {
  const server = await startReceiver(respond)
  servers.push(server)
  return server
}

function request(url: string): DeliveryRequest {
  return { url, headers: { 'Content-Type': 'application/json' }, body: '{"hello":"world"}', sign: null }
}

const never = new AbortController().signal

describe('ReceiverClient over HTTP', () => {
  test('retries a receiver that fails twice, then succeeds; every attempt freshly signed', async () => {
    const server = await receiver((_req, i, res) => (i < 2 ? reply(res, 503, 'busy') : reply(res, 200, 'ok')))
    const alert = sampleAlert()
    const delivery = buildDeliveryRequest({ name: 'hook', type: 'webhook', url: `${server.url}/alerts`, secret: 'k', headers: {}, delivery: fastDelivery() }, alert, null, null)
    const client = new ReceiverClient('hook', 'webhook', fastDelivery())
    const result = await client.deliver(delivery, never)
    assert.deepEqual({ ...result, durationMs: 0 }, { status: 'success', attempts: 3, lastError: null, httpStatus: 200, durationMs: 0 })
    assert.equal(server.requests.length, 3)
    for (const r of server.requests) {
      assert.equal(r.url, '/alerts')
      assert.deepEqual(JSON.parse(r.body), alert)
      assert.equal(verifyWebhookSignature(r.body, r.headers, 'k').ok, true)
    }
  })

  test('a 4xx other than 408/429 is not retried', async () => {
    const server = await receiver((_req, _i, res) => reply(res, 400, 'invalid routing key'))
    const client = new ReceiverClient('pd', 'pagerduty', fastDelivery())
    const result = await client.deliver(request(server.url), never)
    assert.equal(result.status, 'failed')
    assert.equal(result.attempts, 1)
    assert.equal(result.httpStatus, 400)
    assert.equal(result.lastError, 'HTTP 400: invalid routing key')
    assert.equal(server.requests.length, 1)
    assert.equal(client.breaker.state, 'closed', 'a refused request is not a sign of a dead receiver')
  })

  test('gives up after maxAttempts with the last error', async () => {
    const server = await receiver((_req, _i, res) => reply(res, 502, 'bad gateway'))
    const client = new ReceiverClient('hook', 'webhook', fastDelivery({ circuitBreaker: { failureThreshold: 100, successThreshold: 1, coolDownMs: 1000 } }))
    const result = await client.deliver(request(server.url), never)
    assert.deepEqual([result.status, result.attempts, result.httpStatus, result.lastError], ['failed', 4, 502, 'HTTP 502: bad gateway'])
    assert.equal(server.requests.length, 4)
  })

  test('honours Retry-After on 429, and gives up when it exceeds maxBackoff', async () => {
    const waits: number[] = []
    const sleep = async (ms: number): Promise<void> => void waits.push(ms)
    const settings = fastDelivery({ retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 5_000 } })
    const limited = await receiver((_req, i, res) => (i === 0 ? reply(res, 429, 'slow down', { 'Retry-After': '2' }) : reply(res, 200)))
    const result = await new ReceiverClient('slack', 'slack', settings, { sleep }).deliver(request(limited.url), never)
    assert.deepEqual([result.status, result.attempts], ['success', 2])
    assert.deepEqual(waits, [2_000])
    const tooLong = await receiver((_req, _i, res) => reply(res, 503, '', { 'Retry-After': '3600' }))
    const given = await new ReceiverClient('slack2', 'slack', settings, { sleep }).deliver(request(tooLong.url), never)
    assert.equal(given.status, 'failed')
    assert.equal(given.attempts, 1)
    assert.match(given.lastError ?? '', /Retry-After 3600s exceeds maxBackoff 5000ms/)
  })

  test('network errors and timeouts are retried and reported', async () => {
    const closed = await receiver(() => {})
    await closed.close()
    const refused = await new ReceiverClient('gone', 'webhook', fastDelivery({ retry: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 1 } })).deliver(request(closed.url), never)
    assert.deepEqual([refused.status, refused.attempts, refused.httpStatus], ['failed', 2, null])
    assert.match(refused.lastError ?? '', /ECONNREFUSED/)
    const hanging = await receiver(() => {})
    const slow = await new ReceiverClient('slow', 'webhook', fastDelivery({ timeoutMs: 250, retry: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 1 } })).deliver(request(hanging.url), never)
    assert.deepEqual([slow.status, slow.attempts, slow.lastError], ['failed', 2, 'timed out after 250ms'])
    // On a loaded machine the server may parse the second request after the client gave up on it.
    for (let i = 0; i < 50 && hanging.requests.length < 2; i++) await new Promise((r) => setTimeout(r, 20))
    assert.equal(hanging.requests.length, 2)
  })

  test('the circuit opens after N consecutive failures, refuses without calling, and half-opens after the cool-down', async () => {
    let t = 1_000_000
    let healthy = false
    const server = await receiver((_req, _i, res) => reply(res, healthy ? 200 : 500))
    const settings = fastDelivery({ retry: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 1 }, circuitBreaker: { failureThreshold: 3, successThreshold: 1, coolDownMs: 30_000 } })
    const client = new ReceiverClient('im', 'incident-manager', settings, { now: () => t })
    const first = await client.deliver(request(server.url), never)
    assert.deepEqual([first.status, first.attempts], ['failed', 2])
    const second = await client.deliver(request(server.url), never)
    assert.deepEqual([second.status, second.attempts, second.httpStatus], ['circuit_open', 1, 500])
    assert.match(second.lastError ?? '', /^circuit opened after: HTTP 500/)
    assert.equal(client.breaker.state, 'open')
    const third = await client.deliver(request(server.url), never)
    assert.deepEqual([third.status, third.attempts, third.httpStatus], ['circuit_open', 0, null])
    assert.equal(server.requests.length, 3, 'an open circuit does not call the receiver')
    t += 30_000
    assert.equal(client.breaker.state, 'half-open')
    healthy = true
    const probe = await client.deliver(request(server.url), never)
    assert.deepEqual([probe.status, probe.attempts], ['success', 1])
    assert.equal(client.breaker.state, 'closed')
  })

  test('a dead receiver does not delay a healthy one', async () => {
    const held: ServerResponse[] = []
    const dead = await receiver((_req, _i, res) => void held.push(res))
    const healthy = await receiver((_req, _i, res) => reply(res, 204))
    const deadClient = new ReceiverClient('dead', 'webhook', fastDelivery({ timeoutMs: 60_000 }))
    const healthyClient = new ReceiverClient('healthy', 'webhook', fastDelivery())
    const order: string[] = []
    const deadDelivery = deadClient.deliver(request(dead.url), never).then((r) => void order.push(`dead:${r.status}`))
    await new Promise<void>((resolve) => {
      const poll = (): void => void (dead.requests.length > 0 ? resolve() : setImmediate(poll))
      poll()
    })
    for (let i = 0; i < 5; i++) {
      const r = await healthyClient.deliver(request(healthy.url), never)
      order.push(`healthy:${r.status}`)
    }
    assert.equal(healthy.requests.length, 5)
    assert.deepEqual(order, Array(5).fill('healthy:success'), 'all healthy deliveries finished while the dead one hangs')
    for (const res of held.splice(0)) reply(res, 200)
    await deadDelivery
    assert.deepEqual(order.at(-1), 'dead:success')
  })

  test('at most `concurrency` deliveries of one receiver are in flight', async () => {
    let inFlight = 0
    let peak = 0
    const server = await receiver((_req, _i, res) => {
      peak = Math.max(peak, ++inFlight)
      setImmediate(() => {
        inFlight--
        reply(res, 200)
      })
    })
    const client = new ReceiverClient('slack', 'slack', fastDelivery({ concurrency: 2 }))
    const results = await Promise.all(Array.from({ length: 8 }, () => client.deliver(request(server.url), never)))
    assert.ok(results.every((r) => r.status === 'success'))
    assert.equal(server.requests.length, 8)
    assert.ok(peak <= 2, `peak ${peak}`)
  })

  test('aborting (dispatcher stop) ends a backoff wait with DeliveryAbortedError', async () => {
    const server = await receiver((_req, _i, res) => reply(res, 500))
    const stop = new AbortController()
    const client = new ReceiverClient('hook', 'webhook', fastDelivery({ retry: { maxAttempts: 5, initialBackoffMs: 60_000, maxBackoffMs: 60_000 } }), { random: () => 1 })
    const pending = client.deliver(request(server.url), stop.signal)
    await new Promise<void>((resolve) => {
      const poll = (): void => void (server.requests.length > 0 ? setTimeout(resolve, 5) : setImmediate(poll))
      poll()
    })
    stop.abort()
    await assert.rejects(pending, DeliveryAbortedError)
  })
})
