/**
 * Unit tests of the alert routes (fastify `inject`, no network) over a DriverRuntime whose driver
 * runs the alert view: listing with filters and pagination, one alert with its deliveries,
 * silencing, and their bad inputs.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ALERT_VIEW_STORE } from '../../../../../apps/sentinel/alert-view.js'
import { type AlertInstance, alertEvent, delivery, startAlertInstance, stopAlertInstance } from './alert-fixtures.js'
import { MINUTE, T0, startInstance, stopInstance } from './fixtures.js'

const json = (body: string) => JSON.parse(body) as Record<string, unknown>
const WALL = T0 + 100 * 86_400_000

interface ListedBody {
  alert: { alert_id: string; severity: string; group: Record<string, string>; anomaly: { anomaly_id: string }; actions: { type: string; config: Record<string, unknown> }[] }
  status: string
  deliveries: { receiver: string; status: string }[]
  silenced_by: string | null
}

const ids = (body: Record<string, unknown>): string[] => (body.items as ListedBody[]).map((i) => i.alert.alert_id)

describe('/api/v1/alerts', () => {
  let it: AlertInstance
  /** a-0 .. a-5, a minute apart: a-0 critical billing, a-1 failed delivery, a-2 delivered, a-3 pending, a-4 other rule, a-5 silenced later. */
  before(async () => {
    it = await startAlertInstance()
    for (let i = 0; i < 6; i++) {
      const at = T0 + i * MINUTE
      const overrides = i === 0 ? { severity: 'critical' as const, application_id: 'billing', group: { application_id: 'billing' } } : i === 4 ? { rule_id: 'cost-rule' } : {}
      await it.alerts.pipe(`a-${i}`, alertEvent(`a-${i}`, at, overrides), { timestamp: at })
    }
    await it.deliveries.pipe('a-0', delivery('a-0', 'ops', 'success', WALL), { timestamp: WALL })
    await it.deliveries.pipe('a-1', delivery('a-1', 'ops', 'failed', WALL), { timestamp: WALL })
    await it.deliveries.pipe('a-2', delivery('a-2', 'ops', 'success', WALL), { timestamp: WALL })
    await it.deliveries.pipe('a-4', delivery('a-4', 'ops', 'success', WALL), { timestamp: WALL })
    await it.deliveries.pipe('a-5', delivery('a-5', 'ops', 'success', WALL), { timestamp: WALL })
    // Deliveries of an alert the view has not seen: kept, but not an alert yet.
    await it.deliveries.pipe('early', delivery('early', 'ops', 'success', WALL), { timestamp: WALL })
  })
  after(() => stopAlertInstance(it))

  test('lists alerts newest first with their delivery status; an entry without alert is not listed', async () => {
    const res = await it.api.inject({ method: 'GET', url: '/api/v1/alerts' })
    assert.equal(res.statusCode, 200)
    const body = json(res.body)
    assert.deepEqual(ids(body), ['a-5', 'a-4', 'a-3', 'a-2', 'a-1', 'a-0'])
    assert.equal(body.next_cursor, null)
    assert.equal(body.partial, false)
    const items = body.items as ListedBody[]
    assert.deepEqual(items.map((i) => i.status), ['delivered', 'delivered', 'pending', 'delivered', 'failed', 'delivered'])
    // The serializer keeps the free-form parts of the alert.
    assert.deepEqual(items[5]?.alert.group, { application_id: 'billing' })
    assert.deepEqual(items[0]?.alert.actions[0]?.config, { receivers: ['ops-webhook'] })
    assert.equal(items[0]?.alert.anomaly.anomaly_id, 'anomaly-of-a-5')
  })

  test('filters: severity, rule_id, application_id, status, time range', async () => {
    const list = async (query: string) => {
      const res = await it.api.inject({ method: 'GET', url: `/api/v1/alerts?${query}` })
      assert.equal(res.statusCode, 200, res.body)
      return ids(json(res.body))
    }
    assert.deepEqual(await list('severity=critical'), ['a-0'])
    assert.deepEqual(await list('rule_id=cost-rule'), ['a-4'])
    assert.deepEqual(await list('application_id=billing'), ['a-0'])
    assert.deepEqual(await list('status=failed'), ['a-1'])
    assert.deepEqual(await list('status=pending'), ['a-3'])
    assert.deepEqual(await list(`from=${new Date(T0 + 2 * MINUTE).toISOString()}&to=${new Date(T0 + 4 * MINUTE).toISOString()}`), ['a-3', 'a-2'])
    assert.deepEqual(await list('status=delivered&rule_id=latency-rule&severity=warning'), ['a-5', 'a-2'])
  })

  test('pages: the cursor of each page leads to the next, every alert once', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await it.api.inject({ method: 'GET', url: `/api/v1/alerts?limit=4${cursor === null ? '' : `&cursor=${cursor}`}` })
      const body = json(res.body)
      seen.push(...ids(body))
      cursor = body.next_cursor as string | null
      pages += 1
    } while (cursor !== null)
    assert.equal(pages, 2)
    assert.deepEqual(seen, ['a-5', 'a-4', 'a-3', 'a-2', 'a-1', 'a-0'])
  })

  test('bad listing queries are 400 naming the parameter', async () => {
    for (const [query, pattern] of [
      ['status=resolved', /status/],
      ['limit=0', /limit/],
      ['cursor=nonsense', /cursor/],
      ['colour=red', /colour|additional/],
      [`from=${new Date(T0 + MINUTE).toISOString()}&to=${new Date(T0).toISOString()}`, /'from'.*before 'to'/],
    ] as const) {
      const res = await it.api.inject({ method: 'GET', url: `/api/v1/alerts?${query}` })
      assert.equal(res.statusCode, 400, query)
      assert.match(json(res.body).message as string, pattern)
    }
  })

  test('one alert with its deliveries; unknown ids and entries without alert are 404', async () => {
    const res = await it.api.inject({ method: 'GET', url: '/api/v1/alerts/a-1' })
    assert.equal(res.statusCode, 200)
    const body = json(res.body) as unknown as ListedBody
    assert.equal(body.alert.alert_id, 'a-1')
    assert.equal(body.status, 'failed')
    assert.deepEqual(body.deliveries.map((d) => [d.receiver, d.status]), [['ops', 'failed']])
    for (const id of ['nope', 'early']) {
      const missing = await it.api.inject({ method: 'GET', url: `/api/v1/alerts/${id}` })
      assert.equal(missing.statusCode, 404)
      assert.match(json(missing.body).message as string, new RegExp(`no alert '${id}'`))
    }
  })

  test('DELETE silences: 202, a silence record keyed by alert_id, and the alert reads silenced; again keeps the first', async () => {
    const res = await it.api.inject({ method: 'DELETE', url: '/api/v1/alerts/a-5', payload: { by: 'alice', note: 'known issue' } })
    assert.equal(res.statusCode, 202, res.body)
    assert.equal(json(res.body).silenced_by, 'alice')
    const sent = it.runtime.sent.get('alert-silences') ?? []
    assert.deepEqual(sent.map((r) => r.key), ['a-5'])
    assert.deepEqual({ ...(JSON.parse(String(sent[0]?.value)) as Record<string, unknown>), at: 'x' }, { type: 'silence', alert_id: 'a-5', by: 'alice', note: 'known issue', at: 'x' })
    const shown = json((await it.api.inject({ method: 'GET', url: '/api/v1/alerts/a-5' })).body)
    assert.equal(shown.status, 'silenced')
    assert.equal(shown.silenced_by, 'alice')
    assert.equal(shown.silence_note, 'known issue')
    assert.deepEqual(ids(json((await it.api.inject({ method: 'GET', url: '/api/v1/alerts?status=silenced' })).body)), ['a-5'])

    const again = await it.api.inject({ method: 'DELETE', url: '/api/v1/alerts/a-5', payload: { by: 'bob' } })
    assert.equal(again.statusCode, 202)
    assert.equal(json(again.body).silenced_by, 'alice', 'the first silence stands')
    assert.equal((it.runtime.sent.get('alert-silences') ?? []).length, 1, 'nothing more is written')
  })

  test('DELETE without a body silences anonymously; bad bodies are 400; unknown ids 404; a failed write 503', async () => {
    const res = await it.api.inject({ method: 'DELETE', url: '/api/v1/alerts/a-3' })
    assert.equal(res.statusCode, 202, res.body)
    assert.equal(json(res.body).silenced_by, null)
    assert.equal(json((await it.api.inject({ method: 'GET', url: '/api/v1/alerts/a-3' })).body).status, 'silenced')

    const unknownField = await it.api.inject({ method: 'DELETE', url: '/api/v1/alerts/a-2', payload: { by: 'alice', until: 'tomorrow' } })
    assert.equal(unknownField.statusCode, 400)
    assert.match(json(unknownField.body).message as string, /additional/)
    const wrongType = await it.api.inject({ method: 'DELETE', url: '/api/v1/alerts/a-2', payload: { by: 42 } })
    assert.equal(wrongType.statusCode, 400)
    assert.equal((await it.api.inject({ method: 'DELETE', url: '/api/v1/alerts/early' })).statusCode, 404)

    it.runtime.failSends = new Error('broker down')
    try {
      const failed = await it.api.inject({ method: 'DELETE', url: '/api/v1/alerts/a-2' })
      assert.equal(failed.statusCode, 503)
      assert.match(json(failed.body).message as string, /alert-silences/)
    } finally {
      it.runtime.failSends = null
    }
    assert.equal(json((await it.api.inject({ method: 'GET', url: '/api/v1/alerts/a-2' })).body).status, 'delivered')
  })

  test('503 with Retry-After while the view is restoring', async () => {
    it.runtime.restoring.add(ALERT_VIEW_STORE)
    try {
      const res = await it.api.inject({ method: 'GET', url: '/api/v1/alerts/a-1' })
      assert.equal(res.statusCode, 503)
      assert.equal(res.headers['retry-after'], '5')
    } finally {
      it.runtime.restoring.delete(ALERT_VIEW_STORE)
    }
  })

  test('the OpenAPI document has the alert routes', async () => {
    const doc = json((await it.api.inject({ method: 'GET', url: '/openapi.json' })).body)
    const paths = doc.paths as Record<string, Record<string, unknown>>
    assert.deepEqual(Object.keys(paths['/api/v1/alerts/{id}'] ?? {}).sort(), ['delete', 'get'])
    assert.ok(paths['/api/v1/alerts']?.get)
  })
})

test('without the alerts option there are no alert routes', async () => {
  const it = await startInstance()
  try {
    for (const url of ['/api/v1/alerts', '/api/v1/alerts/a-1', '/internal/v1/alerts']) {
      const res = await it.api.inject({ method: 'GET', url })
      assert.equal(res.statusCode, 404, url)
      assert.match(json(res.body).message as string, /no route/)
    }
  } finally {
    await stopInstance(it)
  }
})
