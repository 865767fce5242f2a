/**
 * Two API instances on 127.0.0.1 ephemeral ports, each over its own alert view holding half of the
 * alert ids: any alert is answered (and silenced) through either instance, listings gather and page
 * across both, and internal endpoints answer only for ids held locally.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { HostInfo } from '../../../../../runtime/streams-runtime.js'
import { type AlertInstance, alertEvent, cluster, delivery, startAlertInstance, stopAlertInstance } from './alert-fixtures.js'
import { API_KEY, MINUTE, T0 } from './fixtures.js'

const auth = { authorization: `Bearer ${API_KEY}` }
const IDS = ['al-0', 'al-1', 'al-2', 'al-3', 'al-4']
/** Odd ids live on the second instance. */
const ownerOf = (id: string): number => Number(id.split('-')[1]) % 2

async function call(host: HostInfo, method: string, path: string, headers: Record<string, string> = auth): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${host.host}:${host.port}${path}`, { method, headers })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const listedIds = (body: Record<string, unknown>): string[] => (body.items as { alert: { alert_id: string } }[]).map((i) => i.alert.alert_id)

describe('alerts across two instances', () => {
  const instances: AlertInstance[] = []
  let hosts: HostInfo[] = []

  before(async () => {
    for (let i = 0; i < 2; i++) instances.push(await startAlertInstance({ apiKeys: [API_KEY], forwardTimeoutMs: 2000 }))
    hosts = await cluster(instances, ownerOf)
    for (const [i, id] of IDS.entries()) {
      const owner = instances[ownerOf(id)]!
      await owner.alerts.pipe(id, alertEvent(id, T0 + i * MINUTE), { timestamp: T0 + i * MINUTE })
      await owner.deliveries.pipe(id, delivery(id, 'ops', i === 3 ? 'failed' : 'success', T0 + i * MINUTE + 1000), { timestamp: T0 + i * MINUTE + 1000 })
    }
  })
  after(async () => {
    for (const instance of instances) await stopAlertInstance(instance)
  })

  test('every alert id is answered by either instance, with its deliveries', async () => {
    for (const host of hosts) {
      for (const id of IDS) {
        const res = await call(host, 'GET', `/api/v1/alerts/${id}`)
        assert.equal(res.status, 200, `${id} via ${host.port}`)
        assert.equal((res.body.alert as { alert_id: string }).alert_id, id)
        assert.equal((res.body.deliveries as unknown[]).length, 1)
      }
      assert.equal((await call(host, 'GET', '/api/v1/alerts/al-99')).status, 404)
    }
  })

  test('a listing gathers both instances and pages across them; filters apply on both', async () => {
    for (const host of hosts) {
      const all = await call(host, 'GET', '/api/v1/alerts')
      assert.equal(all.status, 200)
      assert.equal(all.body.partial, false)
      assert.deepEqual(listedIds(all.body), [...IDS].reverse())
      assert.deepEqual(listedIds((await call(host, 'GET', '/api/v1/alerts?status=failed')).body), ['al-3'])
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = await call(hosts[1]!, 'GET', `/api/v1/alerts?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)
      seen.push(...listedIds(page.body))
      cursor = page.body.next_cursor as string | null
    } while (cursor !== null)
    assert.deepEqual(seen, [...IDS].reverse())
  })

  test('silencing through the instance that does not hold the id reaches the one that does', async () => {
    const res = await call(hosts[0]!, 'DELETE', '/api/v1/alerts/al-1')
    assert.equal(res.status, 202)
    assert.equal(instances.flatMap((i) => i.runtime.sent.get('alert-silences') ?? []).length, 1)
    for (const host of hosts) assert.equal((await call(host, 'GET', '/api/v1/alerts/al-1')).body.status, 'silenced')
    assert.equal((await call(hosts[1]!, 'GET', '/api/v1/alerts/al-0')).body.status, 'delivered')
  })

  test('internal endpoints answer only for ids held here, and need the API key', async () => {
    const notHere = await call(hosts[0]!, 'GET', '/internal/v1/alerts/al-1')
    assert.equal(notHere.status, 503)
    assert.match(String(notHere.body.message), /does not hold key 'al-1'/)
    assert.equal((await call(hosts[1]!, 'GET', '/internal/v1/alerts/al-1')).status, 200)
    assert.equal((await call(hosts[1]!, 'GET', '/internal/v1/alerts/al-1', {})).status, 401)
    const local = await call(hosts[0]!, 'GET', '/internal/v1/alerts?limit=10')
    assert.deepEqual(listedIds(local.body), ['al-4', 'al-2', 'al-0'])
    assert.equal(local.body.has_more, false)
  })
})
