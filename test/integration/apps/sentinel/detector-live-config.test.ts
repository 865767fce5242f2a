/**
 * Live configuration on the real broker with two instances of the app, none restarted:
 * - detectors: a threshold changed through one instance's API, then by editing the watched
 *   detectors file, judges the next calls on whichever instance holds their key; both instances
 *   report the same version, applied; a rollback restores the earlier threshold; the version's
 *   detector actions (a receiver, a shield action through its gate) reach the anomalies of both
 *   instances, and leave with the file edit;
 * - alert rules: a rule changed by PUT /api/v1/config on one instance shapes the next alerts of
 *   both; both report the same alert rules version, applied; a rollback restores the earlier rule.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pino from 'pino'
import { parse } from 'yaml'
import { DEFAULT_ALERT_RULES_PATH } from '../../../../apps/sentinel/alerting/index.js'
import { DEFAULT_DETECTORS_PATH } from '../../../../apps/sentinel/detectors-config.js'
import type { SentinelTopics } from '../../../../apps/sentinel/sentinel-config.js'
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

/** Waits until both instances hold and apply one version of `path`'s configuration, at least `version`; returns it. */
const bothAt = (instances: readonly AppInstance[], path: string, version: number) =>
  eventually(
    `both instances at ${path} version ${version} or later, applied`,
    async () => {
      const held = new Set<unknown>()
      for (const instance of instances) {
        const v = (await call(instance.base, 'GET', path)).body
        if (typeof v.current_version !== 'number' || v.current_version < version || v.applied_version !== v.current_version) return undefined
        held.add(v.current_version)
      }
      return held.size === 1 ? ([...held][0] as number) : undefined
    },
    30_000,
  )

/** Two instances of the app on fresh topics, with copies of the default files (watched); `run` gets them, closed after. */
async function withTwoInstances(
  prefix: string,
  run: (it: {
    a: AppInstance
    b: AppInstance
    topics: SentinelTopics
    files: { detectors: string; alertRules: string }
    send: (messages: { key: string; value: string }[]) => Promise<void>
    /** Resolves once the app's group committed past everything in its telemetry and by-application topics. */
    processed: () => Promise<void>
  }) => Promise<void>,
  alertRules = readFileSync(DEFAULT_ALERT_RULES_PATH, 'utf8'),
): Promise<void> {
  const kafka = testKafka()
  const admin = kafka.admin()
  await admin.connect()
  const topics = await createSentinelTopics(admin, prefix, 2)
  const applicationId = uniqueTopic(`${prefix}-sentinel`)
  const dir = mkdtempSync(join(tmpdir(), `sentinel-${prefix}-`))
  const files = { detectors: join(dir, 'detectors.yaml'), alertRules: join(dir, 'alert-rules.yaml') }
  writeFileSync(files.detectors, readFileSync(DEFAULT_DETECTORS_PATH, 'utf8'))
  writeFileSync(files.alertRules, alertRules)
  const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'silent' })
  let instances: AppInstance[] = []
  const producer = kafka.producer()
  try {
    instances = await startAppInstances(['a', 'b'], {
      applicationId,
      topics,
      dir,
      apiKey: API_KEY,
      logger,
      detectors: files.detectors,
      alertRules: files.alertRules,
    })
    const [a, b] = instances as [AppInstance, AppInstance]
    await producer.connect()
    const processed = () => telemetryProcessed(admin, applicationId, topics.telemetry)
    await run({ a, b, topics, files, processed, send: async (messages) => void (await producer.send({ topic: topics.telemetry, messages })) })
  } finally {
    await producer.disconnect()
    await closeInstances(instances)
    await admin.disconnect()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Streaks of calls for several applications (keys spread over both instances): three of `cost`, then a cheap one, from `from` seconds after T0. */
function streakMessages(cost: number, from: number, next: () => number): { apps: string[]; messages: { key: string; value: string }[] } {
  const apps = ['lc-1', 'lc-2', 'lc-3', 'lc-4', 'lc-5', 'lc-6']
  return {
    apps,
    messages: apps.flatMap((app) => [0, 1, 2, 3].map((s) => ({ key: app, value: JSON.stringify(response(app, from + s, s === 3 ? 0.1 : cost, next())) }))),
  }
}

test('live detector configuration: API edit, file edit and rollback apply on two running instances', { timeout: 300_000 }, async () => {
  await withTwoInstances('lc', async ({ a, b, files, send }) => {
    const detectorsFile = files.detectors
    const original = readFileSync(DEFAULT_DETECTORS_PATH, 'utf8')
    const bothAtVersion = (version: number) => bothAt([a, b], '/api/v1/detectors/versions', version)
    let n = 0
    let second = 0
    /** Three calls of `cost` for each of several applications (keys spread over both instances), then a cheap one; the thresholds of the anomalies they make. */
    const streaks = async (cost: number): Promise<number[]> => {
      const from = second
      second += 10
      const { apps, messages } = streakMessages(cost, from, () => ++n)
      await send(messages)
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
    assert.equal(await bothAtVersion(1), 1)
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
    const fromFile = await bothAtVersion(2)
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
    assert.equal(await bothAtVersion(fromFile + 1), fromFile + 1)
    assert.deepEqual(await streaks(6), [5], 'the rollback restores the API edit')
  })
})

/** The default rules plus one alerting on every cost-threshold anomaly, its name the version's mark. */
const withCostRule = (document: Record<string, unknown>, name: string): Record<string, unknown> => ({
  ...document,
  rules: [
    ...(document.rules as Record<string, unknown>[]).filter((r) => r.alert_id !== 'lc-cost'),
    { alert_id: 'lc-cost', name, conditions: { trigger: 'anomaly', filters: { detector_ids: ['cost-threshold'] } }, actions: [{ type: 'webhook' }] },
  ],
})

test('live alert rules: a PUT /api/v1/config on one instance shapes the alerts of both; a rollback restores the rule', { timeout: 300_000 }, async () => {
  const defaults = parse(readFileSync(DEFAULT_ALERT_RULES_PATH, 'utf8')) as Record<string, unknown>
  await withTwoInstances(
    'lr',
    async ({ a, b, send }) => {
      const bothAtVersion = (version: number) => bothAt([a, b], '/api/v1/alert-rules/versions', version)
      let n = 0
      let second = 0
      /** Streaks that the cost detector flags; the names of the lc-cost rule on the alerts they make. */
      const alertNames = async (): Promise<string[]> => {
        const from = second
        second += 10
        const { apps, messages } = streakMessages(3, from, () => ++n)
        await send(messages)
        const since = Date.parse(response('x', from, 0, 0).timestamp)
        const found = await eventually(`lc-cost alerts of the streaks from second ${from}`, async () => {
          const page = await call(a.base, 'GET', '/api/v1/alerts?limit=100&rule_id=lc-cost')
          const items = ((page.body.items ?? []) as { alert: { rule_name: string; anomaly: { timestamp: string } } }[]).filter(
            (i) => Date.parse(i.alert.anomaly.timestamp) >= since,
          )
          return items.length >= apps.length ? items : undefined
        })
        return [...new Set(found.map((i) => i.alert.rule_name))]
      }

      assert.deepEqual(await alertNames(), ['cost v0'], 'as the rules file said at start')

      const put = await call(b.base, 'PUT', '/api/v1/config', { alert_rules: withCostRule(defaults, 'cost v1') })
      assert.equal(put.status, 200, JSON.stringify(put.body))
      const written = put.body.alert_rules as { version: number; applied: string; changes: unknown[] }
      assert.deepEqual([written.version, written.applied, written.changes], [1, 'live', [{ rule_id: 'lc-cost', field: 'name', applied: 'live' }]])
      assert.deepEqual(put.body.detectors, { unchanged: true })
      assert.equal(await bothAtVersion(1), 1)
      assert.deepEqual(await alertNames(), ['cost v1'], 'the PUT shapes the next alerts on both instances')

      const back = await call(a.base, 'POST', '/api/v1/alert-rules/rollback/0')
      assert.equal(back.status, 200, JSON.stringify(back.body))
      assert.equal(await bothAtVersion(2), 2)
      assert.deepEqual(await alertNames(), ['cost v0'], 'the rollback restores the rule')
    },
    JSON.stringify(withCostRule(defaults, 'cost v0')),
  )
})

test(
  'structural detector changes rebuild the topology on two running instances: new detectors start fresh, unchanged ones keep their state, a rollback restores',
  { timeout: 360_000 },
  async () => {
    await withTwoInstances('rb', async ({ a, b, files, send, processed }) => {
      const apps = ['rb-1', 'rb-2', 'rb-3', 'rb-4', 'rb-5', 'rb-6']
      let n = 0
      let second = 0
      /** One call of `cost` for every application, a second after the last. */
      const calls = async (cost: number) => {
        const at = second++
        await send(apps.map((app) => ({ key: app, value: JSON.stringify(response(app, at, cost, ++n)) })))
        return response('x', at, 0, 0).timestamp
      }
      const anomaliesOf = async (detector: string, since: string) => {
        const page = await call(a.base, 'GET', `/api/v1/anomalies?limit=200&detector_id=${detector}`)
        const items = (page.body.items ?? []) as { anomaly: { timestamp: string; application_id: string } }[]
        return items.filter((i) => Date.parse(i.anomaly.timestamp) >= Date.parse(since))
      }
      const everyApp = (detector: string, since: string) =>
        eventually(`${detector} anomalies for every application`, async () => {
          const found = new Set((await anomaliesOf(detector, since)).map((i) => i.anomaly.application_id))
          return apps.every((app) => found.has(app)) ? true : undefined
        })
      /** Both instances run their topology from one version, at least `version`; returns it. */
      const bothRebuiltAt = (version: number) =>
        eventually(
          `both instances run their topology from version ${version} or later`,
          async () => {
            const held = new Set<unknown>()
            for (const instance of [a, b]) {
              const v = (await call(instance.base, 'GET', '/api/v1/detectors/versions')).body
              if (typeof v.topology_version !== 'number' || v.topology_version < version) return undefined
              held.add(v.topology_version)
            }
            return held.size === 1 ? ([...held][0] as number) : undefined
          },
          60_000,
        )

      // Two of cost-threshold's three calls over $1, judged before the rebuild.
      const streakStart = await calls(2)
      await calls(2)
      await processed()

      // A new detector through a's API: every instance rebuilds its topology, without a restart.
      const pair = {
        id: 'cost-pair',
        type: 'rule',
        strategy: 'consecutive',
        groupBy: 'application',
        severity: 'warning',
        config: { metric: 'cost', condition: 'greater_than', value: 1.5, consecutive: 2 },
      }
      const created = await call(a.base, 'POST', '/api/v1/detectors', pair)
      assert.equal(created.status, 201, JSON.stringify(created.body))
      assert.deepEqual([created.body.version, created.body.applied, created.body.applied_live], [1, 'live-fresh', true])
      assert.deepEqual(created.body.starts_fresh, { 'cost-pair': ['(new detector)'] })
      assert.equal(await bothRebuiltAt(1), 1)

      // The streak's third and fourth calls: cost-threshold kept its two calls through the rebuild
      // (three in a row only with them), and the new detector judges the calls after it started.
      const afterRebuild = await calls(2)
      await calls(2)
      await calls(0.1)
      await everyApp('cost-threshold', streakStart)
      await everyApp('cost-pair', afterRebuild)

      // By file: the defaults plus a detector flagging two calls in a row over $5 (and without cost-pair, deleted live).
      const single =
        '\n  - id: cost-single\n    type: rule\n    strategy: consecutive\n    groupBy: application\n    severity: warning\n    config:\n      metric: cost\n      condition: greater_than\n      value: 5.0\n      consecutive: 2\n'
      writeFileSync(files.detectors, readFileSync(DEFAULT_DETECTORS_PATH, 'utf8').trimEnd() + '\n' + single)
      const byFile = await bothRebuiltAt(2)
      const expensive = await calls(6)
      await calls(6)
      await calls(0.1)
      await everyApp('cost-single', expensive)

      // Roll back to version 1 (defaults and cost-pair): cost-single stops at once, cost-pair runs again.
      const back = await call(b.base, 'POST', '/api/v1/detectors/rollback/1')
      assert.equal(back.status, 200, JSON.stringify(back.body))
      assert.equal(back.body.applied, 'live-fresh')
      assert.ok(typeof back.body.version === 'number' && back.body.version > byFile)
      await bothRebuiltAt(back.body.version)
      const afterRollback = await calls(6)
      await calls(6)
      await calls(0.1)
      await everyApp('cost-pair', afterRollback)
      await processed()
      // Give a late anomaly time to reach the view, had the rollback not held.
      await new Promise((resolve) => setTimeout(resolve, 3000))
      assert.deepEqual(await anomaliesOf('cost-single', afterRollback), [], 'no cost-single anomaly after the rollback')
    })
  },
)
