/**
 * What a detector version does to the running topology: its stores' names follow the detector's
 * shape (a threshold edit keeps them, a window edit renames them), and the rebuild check swaps the
 * topology only for a version the running one cannot take live, once per version.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import pino from 'pino'
import { CURRENT_KEY, checkDefinitions, detectorStateName } from '../../../../apps/sentinel/detector-versions.js'
import { DEFAULT_DETECTORS_PATH, loadDetectorsConfig } from '../../../../apps/sentinel/detectors-config.js'
import { RunningDetectors } from '../../../../apps/sentinel/running-detectors.js'
import { RunningRules } from '../../../../apps/sentinel/alerting/running-rules.js'
import { DEFAULT_ALERT_RULES_PATH, loadAlertRulesConfig } from '../../../../apps/sentinel/alerting/index.js'
import { TopologyRebuild } from '../../../../apps/sentinel/topology-rebuild.js'
import type { StreamsRuntime } from '../../../../runtime/streams-runtime.js'
import type { Topology } from '../../../../topology/index.js'

const defaults = loadDetectorsConfig(DEFAULT_DETECTORS_PATH)
const definitions = defaults.definitions as Record<string, unknown>[]
const withConfig = (id: string, change: Record<string, unknown>) =>
  definitions.map((d) => (d.id === id ? { ...d, config: { ...(d.config as Record<string, unknown>), ...change } } : d))
const stateName = (defs: Record<string, unknown>[], id: string) => detectorStateName(checkDefinitions(defs, 1).detectors.find((d) => d.id === id)!)

describe('detectorStateName', () => {
  test('a live parameter (threshold) keeps the name: the state carries over', () => {
    assert.equal(stateName(withConfig('token-rate-spike', { threshold: 6 }), 'token-rate-spike'), stateName(definitions, 'token-rate-spike'))
  })

  test('a window or a baseline size renames it: the detector starts fresh, and the old shape finds its old name again', () => {
    const before = stateName(definitions, 'token-rate-spike')
    const wider = stateName(withConfig('token-rate-spike', { window: '10m' }), 'token-rate-spike')
    assert.notEqual(wider, before)
    assert.notEqual(stateName(withConfig('token-rate-spike', { baselineWindows: 24 }), 'token-rate-spike'), before)
    assert.equal(stateName(withConfig('token-rate-spike', { window: '5m' }), 'token-rate-spike'), before)
    assert.match(wider, /^token-rate-spike-[0-9a-f]{8}$/)
  })
})

/** A runtime whose config table holds `current` (detectors) and `alert-rules/current`, recording the topologies it is asked to run. */
function fakeRuntime(withReplace = true) {
  const replaced: { version: number; detectors: string[]; rules: string[] }[] = []
  let current: unknown = undefined
  let currentRules: unknown = undefined
  const runtime = {
    keyValueStore: () => ({ get: async (key: string) => (key === CURRENT_KEY ? current : key === 'alert-rules/current' ? currentRules : undefined) }),
    ...(withReplace
      ? { replaceTopology: async (t: Topology) => void replaced.push(t as unknown as { version: number; detectors: string[]; rules: string[] }) }
      : {}),
  } as unknown as StreamsRuntime
  return { runtime, replaced, setCurrent: (value: unknown) => (current = value), setRules: (value: unknown) => (currentRules = value) }
}

const version = (n: number, defs: Record<string, unknown>[]) => ({ version: n, created_at: new Date(0).toISOString(), op: 'update', definitions: defs })

function rebuildOn(runtime: StreamsRuntime) {
  const running = new RunningDetectors(defaults)
  const rules = new RunningRules(loadAlertRulesConfig(DEFAULT_ALERT_RULES_PATH, { knownDetectorIds: defaults.detectors.map((d) => d.id) }))
  const rebuild = new TopologyRebuild({
    runtime,
    running,
    rules,
    build: (detectors, rules, v) =>
      ({ version: v, detectors: detectors.detectors.map((d) => d.id), rules: rules.rules.map((r) => r.id) }) as unknown as Topology,
    logger: pino({ level: 'silent' }),
    intervalMs: 60_000,
  })
  return { running, rules, rebuild }
}

describe('TopologyRebuild', () => {
  test('a live-only version changes nothing; a new detector rebuilds once, tagged with its version', async () => {
    const { runtime, replaced, setCurrent } = fakeRuntime()
    const { running, rebuild } = rebuildOn(runtime)
    setCurrent(version(1, withConfig('token-rate-spike', { threshold: 6 })))
    await rebuild.check()
    assert.equal(replaced.length, 0)
    assert.equal(running.version, 0)

    const added = [
      ...definitions,
      {
        id: 'cost-pair',
        type: 'rule',
        strategy: 'consecutive',
        groupBy: 'application',
        config: { metric: 'cost', condition: 'greater_than', value: 1.5, consecutive: 2 },
      },
    ]
    setCurrent(version(2, added))
    await rebuild.check()
    await rebuild.check()
    assert.equal(replaced.length, 1)
    assert.equal(replaced[0]!.version, 2)
    assert.ok(replaced[0]!.detectors.includes('cost-pair'))
    assert.equal(running.version, 2)
    assert.ok(running.detectors.some((d) => d.id === 'cost-pair'))
    await rebuild.close()
  })

  test('a version that does not parse, or a runtime that cannot rebuild (standalone): the running topology stays', async () => {
    const bad = fakeRuntime()
    const { running, rebuild } = rebuildOn(bad.runtime)
    bad.setCurrent(version(3, [{ id: 'x', strategy: 'no-such-strategy' }]))
    await rebuild.check()
    assert.deepEqual(bad.replaced, [])
    assert.equal(running.version, 0)

    const standalone = fakeRuntime(false)
    const other = rebuildOn(standalone.runtime)
    assert.equal(other.rebuild.supported, false)
    standalone.setCurrent(version(1, withConfig('token-rate-spike', { window: '10m' })))
    await other.rebuild.start()
    assert.equal(other.running.version, 0)
  })

  test('an alert rules version with a window longer than the window store keeps rebuilds with those rules; a shorter one applies live', async () => {
    const { runtime, replaced, setRules } = fakeRuntime()
    const { rules, rebuild } = rebuildOn(runtime)
    const ruleWith = (window: string) => ({
      alert_id: 'slow-burn',
      name: 'Slow burn',
      conditions: { trigger: 'anomaly', aggregation: { window, function: 'count', threshold: 3 } },
      actions: [{ type: 'notification', config: { receivers: ['slack-ml-platform'] } }],
    })
    const rulesVersion = (n: number, window: string) => ({
      version: n,
      created_at: new Date(0).toISOString(),
      op: 'update',
      definitions: [...(rules.config.document!.rules as Record<string, unknown>[]), ruleWith(window)],
      sections: null,
    })
    setRules(rulesVersion(1, '45m'))
    await rebuild.check()
    assert.equal(replaced.length, 0, 'within the window store: live')
    setRules(rulesVersion(2, '6h'))
    await rebuild.check()
    assert.equal(replaced.length, 1)
    assert.equal(replaced[0]!.version, 2, 'detectors version 0 + rules version 2')
    assert.ok(replaced[0]!.rules.includes('slow-burn'))
    assert.equal(rules.version, 2)
    assert.ok(rules.started.stores.windowCapacityMs >= 6 * 3_600_000, 'the rebuilt window store keeps 6h windows')
    await rebuild.close()
  })
})
