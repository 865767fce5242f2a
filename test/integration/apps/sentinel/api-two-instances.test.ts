/**
 * The Sentinel API over two instances of the app on the real broker: each instance holds part of the
 * anomaly view, and either one answers for any anomaly (forwarding to the owner), lists all of them
 * (gathering from both), and takes an acknowledgement that the owner's view then shows.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pino from 'pino'
import { testKafka, uniqueTopic } from '../../../kafka.js'
import { type AppInstance, closeInstances, createSentinelTopics, eventually, response, startAppInstances } from './sentinel-fixtures.js'

const APPS = Array.from({ length: 8 }, (_, i) => `app-${i}`)
const API_KEY = 'two-instances-api-key-0123456789'

async function get(base: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

test('two instances: any anomaly is answered by either, listings gather both, an ack reaches the owner', { timeout: 180_000 }, async () => {
  const kafka = testKafka()
  const admin = kafka.admin()
  await admin.connect()
  const topics = await createSentinelTopics(admin, 'iq', 4)
  const applicationId = uniqueTopic('iq-sentinel')
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-iq-'))
  const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'silent' })
  let instances: AppInstance[] = []
  const producer = kafka.producer()
  try {
    instances = await startAppInstances(['a', 'b'], { applicationId, topics, dir, apiKey: API_KEY, logger })
    await eventually('both instances to own tasks', async () => (instances.every((i) => i.streams.tasks().length > 0) ? true : undefined))

    // Every app: three calls over $1 in a row → one cost-threshold anomaly per app.
    await producer.connect()
    let n = 0
    await producer.send({
      topic: topics.telemetry,
      messages: APPS.flatMap((app) => [0, 1, 2].map((s) => ({ key: app, value: JSON.stringify(response(app, s, 2, ++n)) }))),
    })

    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]]
    const listing = await eventually('all anomalies listed', async () => {
      const page = await get(a.base, '/api/v1/anomalies?limit=100')
      const items = page.body.items as { anomaly: { anomaly_id: string; application_id: string } }[] | undefined
      return page.status === 200 && items?.length === APPS.length && page.body.partial === false ? items : undefined
    })
    assert.deepEqual(listing.map((i) => i.anomaly.application_id).sort(), [...APPS].sort())
    const fromB = await get(b.base, '/api/v1/anomalies?limit=100')
    assert.deepEqual((fromB.body.items as { anomaly: { anomaly_id: string } }[]).map((i) => i.anomaly.anomaly_id).sort(), listing.map((i) => i.anomaly.anomaly_id).sort())

    // Each instance's own view holds only part: the split is real, and either answers for every id.
    const local = await Promise.all(instances.map(async (i) => (await get(i.base, '/internal/v1/anomalies?limit=100')).body.items as unknown[]))
    assert.ok(local.every((items) => items.length > 0 && items.length < APPS.length), `local views: ${local.map((l) => l.length).join(' + ')}`)
    for (const { anomaly } of listing) {
      for (const instance of instances) {
        const got = await get(instance.base, `/api/v1/anomalies/${anomaly.anomaly_id}`)
        assert.equal(got.status, 200, `${instance.base} answers for ${anomaly.anomaly_id}`)
        assert.equal((got.body.anomaly as { anomaly_id: string }).anomaly_id, anomaly.anomaly_id)
      }
    }

    // Acknowledge every anomaly through instance a; instance b then shows each acknowledged.
    for (const { anomaly } of listing) {
      const response = await fetch(`${a.base}/api/v1/anomalies/${anomaly.anomaly_id}/acknowledge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ by: 'oncall@example.com' }),
      })
      assert.equal(response.status, 202)
    }
    for (const { anomaly } of listing) {
      const acked = await eventually(`ack of ${anomaly.anomaly_id}`, async () => {
        const got = await get(b.base, `/api/v1/anomalies/${anomaly.anomaly_id}`)
        return got.body.status === 'acknowledged' ? got.body : undefined
      })
      assert.equal(acked.acknowledged_by, 'oncall@example.com')
    }
    assert.equal((await get(a.base, '/api/v1/anomalies/00000000-0000-5000-8000-000000000000')).status, 404)
    assert.equal((await fetch(`${a.base}/api/v1/anomalies`)).status, 401)
  } finally {
    await producer.disconnect()
    await closeInstances(instances)
    await admin.disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
})
