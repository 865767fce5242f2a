/**
 * Detector versions on the real broker with two instances of the app: a change made through one
 * instance's API is the version in force on both (the config topic read as a global table), a
 * deletion stops the detector's anomalies on every instance without a restart, a refused definition
 * leaves the version alone, and a rollback through the other instance brings the detector back.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pino from 'pino'
import { testKafka, uniqueTopic } from '../../../kafka.js'
import {
  type AppInstance,
  apiCaller,
  closeInstances,
  createSentinelTopics,
  eventually,
  response,
  startAppInstances,
  telemetryProcessed,
} from './sentinel-fixtures.js'

const API_KEY = 'detector-versions-key-0123456789'

const call = apiCaller(API_KEY)

test('detector versions: one version in force on two instances, live delete and rollback', { timeout: 240_000 }, async () => {
  const kafka = testKafka()
  const admin = kafka.admin()
  await admin.connect()
  const topics = await createSentinelTopics(admin, 'dv', 2)
  const applicationId = uniqueTopic('dv-sentinel')
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-dv-'))
  const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'silent' })
  let instances: AppInstance[] = []
  const producer = kafka.producer()
  try {
    instances = await startAppInstances(['a', 'b'], { applicationId, topics, dir, apiKey: API_KEY, logger })
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]]
    const versionOn = async (base: string) => (await call(base, 'GET', '/api/v1/detectors/versions')).body.current_version
    const bothAt = (version: number) =>
      eventually(
        `both instances at version ${version}`,
        async () => ((await versionOn(a.base)) === version && (await versionOn(b.base)) === version ? true : undefined),
        30_000,
      )
    await bothAt(0)

    // Delete through a: both instances hold version 1.
    const deleted = await call(a.base, 'DELETE', '/api/v1/detectors/cost-threshold')
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body))
    assert.deepEqual([deleted.body.version, deleted.body.applied_live], [1, true])
    await bothAt(1)

    // A bad definition through b: refused with the field, the version stays 1 on both.
    const bad = await call(b.base, 'PUT', '/api/v1/detectors/token-rate-spike', {
      type: 'statistical',
      strategy: 'zscore',
      metric: 'total_tokens',
      window: 'soon',
      threshold: 4,
    })
    assert.equal(bad.status, 422)
    assert.deepEqual(
      (bad.body.details as { field: string }[]).map((d) => d.field),
      ['window'],
    )
    assert.equal(await versionOn(a.base), 1)

    // A streak of three calls over $1 while deleted: no cost-threshold anomaly on either instance.
    await producer.connect()
    let n = 0
    const streak = (first: number) => [0, 1, 2].map((s) => ({ key: 'app-dv', value: JSON.stringify(response('app-dv', first + s, 2, ++n)) }))
    await producer.send({ topic: topics.telemetry, messages: [...streak(0), { key: 'app-dv', value: JSON.stringify(response('app-dv', 3, 0.1, ++n)) }] })
    // Detection has seen the streak once the app's group committed past it, on the telemetry topic and
    // on the repartition topic by application that cost-threshold reads (at-least-once: committed
    // after processing). Only then is the rollback written, so the streak is judged under version 1.
    await telemetryProcessed(admin, applicationId, topics.telemetry)

    // Roll back through b to version 0 (the file): version 2, in force on both.
    const back = await call(b.base, 'POST', '/api/v1/detectors/rollback/0')
    assert.equal(back.status, 200, JSON.stringify(back.body))
    assert.deepEqual([back.body.version, back.body.op, back.body.from_version], [2, 'rollback', 0])
    await bothAt(2)

    // The same streak again: now the detector is back and flags it, once, on the second streak.
    await producer.send({ topic: topics.telemetry, messages: streak(10) })
    const anomalies = await eventually('the second streak flagged', async () => {
      const page = await call(a.base, 'GET', '/api/v1/anomalies?limit=100&detector_id=cost-threshold')
      const items = (page.body.items ?? []) as { anomaly: { timestamp: string; application_id: string } }[]
      return items.length > 0 ? items : undefined
    })
    // Give a late first-streak anomaly time to show up, had the deletion not held.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const all = (await call(b.base, 'GET', '/api/v1/anomalies?limit=100&detector_id=cost-threshold')).body.items as { anomaly: { timestamp: string } }[]
    assert.equal(all.length, 1, JSON.stringify(all))
    assert.ok(Date.parse(anomalies[0]!.anomaly.timestamp) >= Date.parse(JSON.parse(streak(10)[0]!.value).timestamp as string), anomalies[0]!.anomaly.timestamp)
  } finally {
    await producer.disconnect()
    await closeInstances(instances)
    await admin.disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
})
