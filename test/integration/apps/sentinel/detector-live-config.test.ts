/**
 * Live detector configuration on the real broker with two instances of the app, none restarted: a
 * threshold changed through one instance's API, then by editing the watched detectors file, judges
 * the next calls on whichever instance holds their key; both instances report the same version,
 * applied; a rollback restores the earlier threshold. The version's detector actions (a receiver, a
 * shield action through its gate) reach the anomalies of both instances, and leave with the file edit.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pino from 'pino'
import { DEFAULT_DETECTORS_PATH } from '../../../../apps/sentinel/detectors-config.js'
import { testKafka, uniqueTopic } from '../../../kafka.js'
import { type AppInstance, apiCaller, closeInstances, createSentinelTopics, eventually, response, startAppInstances } from './sentinel-fixtures.js'

const API_KEY = 'detector-live-config-key-0123456'
const COST_RULE = (value: number) => ({
  type: 'rule',
  strategy: 'consecutive',
  groupBy: 'application',
  severity: 'critical',
  config: { metric: 'cost', condition: 'greater_than', value, consecutive: 3 },
  // slack-ml-platform: a receiver of the default file that no default rule sends cost anomalies to.
  actions: [{ alert: 'slack-ml-platform', severity: 'critical' }, { shield: 'rate_limit' }],
})

const call = apiCaller(API_KEY)

test('live detector configuration: API edit, file edit and rollback apply on two running instances', { timeout: 300_000 }, async () => {
  const kafka = testKafka()
  const admin = kafka.admin()
  await admin.connect()
  const topics = await createSentinelTopics(admin, 'lc', 2)
  const applicationId = uniqueTopic('lc-sentinel')
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-lc-'))
  const detectorsFile = join(dir, 'detectors.yaml')
  const original = readFileSync(DEFAULT_DETECTORS_PATH, 'utf8')
  writeFileSync(detectorsFile, original)
  const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'silent' })
  let instances: AppInstance[] = []
  const producer = kafka.producer()
  try {
    instances = await startAppInstances(['a', 'b'], { applicationId, topics, dir, apiKey: API_KEY, logger, detectors: detectorsFile })
    const [a, b] = instances as [AppInstance, AppInstance]
    /** Waits until both instances hold and apply one version, at least `version`; returns it. */
    const bothAt = (version: number) =>
      eventually(
        `both instances at version ${version} or later, applied`,
        async () => {
          const held = new Set<unknown>()
          for (const instance of [a, b]) {
            const v = (await call(instance.base, 'GET', '/api/v1/detectors/versions')).body
            if (typeof v.current_version !== 'number' || v.current_version < version || v.applied_version !== v.current_version) return undefined
            held.add(v.current_version)
          }
          return held.size === 1 ? ([...held][0] as number) : undefined
        },
        30_000,
      )
    await producer.connect()
    let n = 0
    let second = 0
    /** Three calls of `cost` for each of several applications (keys spread over both instances), then a cheap one; the thresholds of the anomalies they make. */
    const streaks = async (cost: number): Promise<number[]> => {
      const apps = ['lc-1', 'lc-2', 'lc-3', 'lc-4', 'lc-5', 'lc-6']
      const from = second
      second += 10
      const messages = apps.flatMap((app) => [0, 1, 2, 3].map((s) => ({ key: app, value: JSON.stringify(response(app, from + s, s === 3 ? 0.1 : cost, ++n)) })))
      await producer.send({ topic: topics.telemetry, messages })
      const items = await eventually(`anomalies of the streaks costing ${cost}`, async () => {
        const page = await call(a.base, 'GET', '/api/v1/anomalies?limit=100&detector_id=cost-threshold')
        const found = ((page.body.items ?? []) as { anomaly: { timestamp: string; metrics: { threshold: number } } }[]).filter(
          (i) => Date.parse(i.anomaly.timestamp) >= Date.parse(response('x', from, 0, 0).timestamp),
        )
        return found.length === apps.length ? found : undefined
      })
      return [...new Set(items.map((i) => i.anomaly.metrics.threshold))]
    }

    assert.deepEqual(await streaks(2), [1], 'as the file said at start')

    const edited = await call(a.base, 'PUT', '/api/v1/detectors/cost-threshold', COST_RULE(5))
    assert.equal(edited.status, 200, JSON.stringify(edited.body))
    assert.deepEqual([edited.body.version, edited.body.applied], [1, 'live'])
    assert.equal(await bothAt(1), 1)
    assert.deepEqual(await streaks(6), [5], 'the API edit judges the next calls on both instances')
    /** What the anomalies judged against `threshold` asked for: their alert targets, and whether each has one shield entry. */
    const asked = async (threshold: number) => {
      const page = await call(a.base, 'GET', '/api/v1/anomalies?limit=100&detector_id=cost-threshold')
      const items = (
        (page.body.items ?? []) as { anomaly: { metrics: { threshold: number }; actions_taken: { action: string; target: string | null }[] } }[]
      ).filter((i) => i.anomaly.metrics.threshold === threshold)
      return items.map((i) => [
        i.anomaly.actions_taken.filter((t) => t.action === 'alert').map((t) => t.target),
        i.anomaly.actions_taken.filter((t) => t.action.startsWith('shield_') || (t.action === 'log' && t.target?.startsWith('shield rate_limit withheld')))
          .length,
      ])
    }
    assert.deepEqual(
      await asked(5),
      Array.from({ length: 6 }, () => [['slack-ml-platform'], 1]),
      "the version's actions, on the anomalies of both instances",
    )
    const refused = await call(a.base, 'PUT', '/api/v1/detectors/cost-threshold', { ...COST_RULE(5), actions: [{ alert: 'high-cost-request' }] })
    assert.equal(refused.status, 422, JSON.stringify(refused.body))
    assert.match(JSON.stringify(refused.body), /actions\[0\]\.alert.*high-cost-request/)

    writeFileSync(detectorsFile, original.replace(/value: 1\.0\n(\s+)consecutive: 3/, 'value: 8.0\n$1consecutive: 3'))
    const fromFile = await bothAt(2)
    const listed = (await call(b.base, 'GET', '/api/v1/detectors/versions')).body.versions as { version: number; op: string }[]
    // Both instances watch the file: one publishes it and the other finds it in force, or, racing, both
    // publish the same definitions (a 409 for one, or two identical versions).
    assert.deepEqual(
      listed.filter((v) => v.version >= 2).map((v) => v.op),
      Array.from({ length: fromFile - 1 }, () => 'file'),
    )
    assert.deepEqual(await streaks(9), [8], 'the file edit judges the next calls')
    assert.deepEqual(
      await asked(8),
      Array.from({ length: 6 }, () => [[], 0]),
      'the file asks for no actions',
    )

    const back = await call(b.base, 'POST', '/api/v1/detectors/rollback/1')
    assert.equal(back.status, 200, JSON.stringify(back.body))
    assert.equal(await bothAt(fromFile + 1), fromFile + 1)
    assert.deepEqual(await streaks(6), [5], 'the rollback restores the API edit')
  } finally {
    await producer.disconnect()
    await closeInstances(instances)
    await admin.disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
})
