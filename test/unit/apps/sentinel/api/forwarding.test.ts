/**
 * Two API instances on 127.0.0.1 ephemeral ports, each over its own DriverRuntime holding half of
 * the keys: any key is answered from either instance (forwarded to the one holding it, with the
 * API key passed through), listings gather both, and an instance that is gone makes key reads 503
 * and listings partial. A unit test of the API's forwarding; the multi-instance test on Kafka is
 * an integration test.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { ANOMALY_VIEW_STORE } from '../../../../../apps/sentinel/anomaly-view.js'
import type { HostInfo } from '../../../../../runtime/streams-runtime.js'
import { API_KEY, type Instance, MINUTE, T0, anomaly, feedLatencyWindows, startInstance, stopInstance } from './fixtures.js'

const auth = { authorization: `Bearer ${API_KEY}` }
const IDS = ['x-0', 'x-1', 'x-2', 'x-3', 'x-4', 'x-5']
/** Odd ids and app-b live on instance B, the rest on A. */
const onB = (store: string, key: string): boolean => (store === ANOMALY_VIEW_STORE ? Number(key.slice(2)) % 2 === 1 : key === 'app-b')

async function listen(instance: Instance): Promise<HostInfo> {
  await instance.api.listen({ host: '127.0.0.1', port: 0 })
  const address = instance.api.server.address() as AddressInfo
  return { host: '127.0.0.1', port: address.port }
}

async function get(host: HostInfo, path: string, headers: Record<string, string> = auth): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`http://${host.host}:${host.port}${path}`, { headers })
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> }
}

async function post(host: HostInfo, path: string, payload: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${host.host}:${host.port}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(payload) })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('two instances splitting the keys', () => {
  let a: Instance
  let b: Instance
  let hostA: HostInfo
  let hostB: HostInfo

  before(async () => {
    a = await startInstance({ apiKeys: [API_KEY], forwardTimeoutMs: 2000 })
    b = await startInstance({ apiKeys: [API_KEY], forwardTimeoutMs: 2000 })
    hostA = await listen(a)
    hostB = await listen(b)
    for (const [self, runtime] of [[hostA, a.runtime], [hostB, b.runtime]] as const) {
      runtime.hostInfo = self
      runtime.hosts = [hostA, hostB]
      runtime.route = (store, key) => {
        const owner = onB(store, key) ? hostB : hostA
        return owner === self ? 'local' : owner
      }
      runtime.deliverTo = (topic, key) => (key !== null && onB(ANOMALY_VIEW_STORE, key) ? b.runtime : a.runtime)
    }
    for (const [i, id] of IDS.entries()) {
      const owner = onB(ANOMALY_VIEW_STORE, id) ? b : a
      await owner.anomalies.pipe('chatbot', anomaly(id, T0 + i * MINUTE), { timestamp: T0 + i * MINUTE })
    }
    // After the anomalies' times: in the test topology they share a task (and its stream time) with the detectors.
    await feedLatencyWindows(a, 'app-a', [1000, 1010, 990, 1005], T0 + 60 * MINUTE)
    await feedLatencyWindows(b, 'app-b', [200, 210, 190, 205], T0 + 60 * MINUTE)
  })
  after(async () => {
    await stopInstance(a)
    await stopInstance(b)
  })

  test('every anomaly id is answered by either instance', async () => {
    for (const host of [hostA, hostB]) {
      for (const id of IDS) {
        const res = await get(host, `/api/v1/anomalies/${id}`)
        assert.equal(res.status, 200, `${id} via ${host.port}`)
        assert.equal((res.body.anomaly as { anomaly_id: string }).anomaly_id, id)
      }
      assert.equal((await get(host, '/api/v1/anomalies/x-99')).status, 404)
    }
  })

  test('a listing gathers both instances, newest first, and pages across them', async () => {
    for (const host of [hostA, hostB]) {
      const all = await get(host, '/api/v1/anomalies')
      assert.equal(all.status, 200)
      assert.equal(all.body.partial, false)
      assert.deepEqual((all.body.items as { anomaly: { anomaly_id: string } }[]).map((i) => i.anomaly.anomaly_id), [...IDS].reverse())
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = await get(hostA, `/api/v1/anomalies?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`)
      seen.push(...(page.body.items as { anomaly: { anomaly_id: string } }[]).map((i) => i.anomaly.anomaly_id))
      cursor = page.body.next_cursor as string | null
    } while (cursor !== null)
    assert.deepEqual(seen, [...IDS].reverse())
  })

  test('acknowledging through the instance that does not hold the id reaches the one that does', async () => {
    const res = await post(hostA, '/api/v1/anomalies/x-3/acknowledge', { by: 'alice' })
    assert.equal(res.status, 202)
    const shown = await get(hostA, '/api/v1/anomalies/x-3')
    assert.equal(shown.body.status, 'acknowledged')
    assert.equal(shown.body.acknowledged_by, 'alice')
  })

  test('/detect reads the baseline where its key lives', async () => {
    const viaA = await post(hostA, '/api/v1/detect', { detector_id: 'latency-z', key: 'app-b', value: 400 })
    const viaB = await post(hostB, '/api/v1/detect', { detector_id: 'latency-z', key: 'app-b', value: 400 })
    assert.equal(viaA.status, 200)
    assert.deepEqual(viaA.body, viaB.body)
    assert.equal(viaA.body.ready, true, JSON.stringify(viaA.body))
    assert.equal(viaA.body.anomalous, true)
    assert.ok(Math.abs(((viaA.body.baseline as { mean: number }).mean) - 200) < 10)
  })

  test('internal endpoints answer only for keys held here, and need the API key', async () => {
    const notHere = await get(hostA, '/internal/v1/anomalies/x-1')
    assert.equal(notHere.status, 503)
    assert.match(String(notHere.body.message), /does not hold key 'x-1'/)
    assert.equal((await get(hostB, '/internal/v1/anomalies/x-1')).status, 200)
    assert.equal((await get(hostB, '/internal/v1/anomalies/x-1', {})).status, 401)
  })

  test('an instance that is gone: its keys are 503 with Retry-After, listings are partial', async () => {
    const c = await startInstance({ apiKeys: [API_KEY], forwardTimeoutMs: 1000 })
    try {
      const hostC = await listen(c)
      // C believes odd ids live on a host where nothing listens any more.
      const closed = await startInstance()
      const deadHost = await listen(closed)
      await stopInstance(closed)
      c.runtime.hostInfo = hostC
      c.runtime.hosts = [hostC, deadHost]
      c.runtime.route = (store, key) => (onB(store, key) ? deadHost : 'local')
      await c.anomalies.pipe('chatbot', anomaly('x-0', T0), { timestamp: T0 })
      const read = await get(hostC, '/api/v1/anomalies/x-1')
      assert.equal(read.status, 503)
      assert.equal(read.headers.get('retry-after'), '5')
      assert.match(String(read.body.message), /did not answer/)
      const list = await get(hostC, '/api/v1/anomalies')
      assert.equal(list.status, 200)
      assert.equal(list.body.partial, true)
      assert.deepEqual(list.body.unavailable_hosts, [`127.0.0.1:${deadHost.port}`])
      assert.deepEqual((list.body.items as { anomaly: { anomaly_id: string } }[]).map((i) => i.anomaly.anomaly_id), ['x-0'])
    } finally {
      await stopInstance(c)
    }
  })
})
