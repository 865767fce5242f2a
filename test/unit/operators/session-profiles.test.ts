import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { Profile } from '../../../operators/detectors/session-profile.js'
import { sessionProfiles } from '../../../operators/dsl/session-profiles.js'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../schemas/index.js'
import { engines } from '../../../state/index.js'
import { SessionWindows, StreamsBuilder } from '../../../topology/index.js'
import { gaussian, mulberry32 } from '../detectors/prng.js'

interface Call {
  tokens: number
  cost: number
  model: string
  error: boolean
}

const MINUTE = 60_000
const T0 = Date.UTC(2026, 0, 1)
const callSerde = Serdes.json<Call>()
const anomalySerde = Serdes.avro<AnomalyEvent>(anomalyEventSchema)

async function harness(stateDir?: string) {
  const builder = new StreamsBuilder()
  // 'clock' records only move stream time (which the source sets before the filter).
  const calls = builder.stream('calls', { key: Serdes.string(), value: callSerde }).filter((user) => user !== 'clock')
  sessionProfiles(calls, {
    id: 'user-sessions',
    sessions: SessionWindows.withGap(5 * MINUTE, { graceMs: 10 * MINUTE }),
    record: (c) => ({ tokens: c.tokens, cost: c.cost, model: c.model, error: c.error }),
    features: ['requests', 'tokens', 'error_ratio'],
    threshold: 4,
    minSessions: 5,
    minPopulationSessions: 10,
    minRelativeStd: 0.05,
    entityType: 'user',
  }).to('anomalies', { key: Serdes.string(), value: anomalySerde })
  const driver = await TopologyTestDriver.create(builder.build(), stateDir === undefined ? {} : { engine: engines.rocksdb(), stateDir })
  const input = driver.createInputTopic('calls', Serdes.string(), callSerde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), anomalySerde)
  const noise = gaussian(mulberry32(5))
  return {
    driver,
    output,
    /** `requests` calls one minute apart from `atMinute`, ~`tokens` tokens each. */
    async session(user: string, atMinute: number, requests: number, tokens = 1000, errors = 0) {
      for (let i = 0; i < requests; i++) {
        const call: Call = { tokens: Math.round(tokens * (1 + 0.05 * noise())), cost: 0.01, model: 'gpt-4o', error: i < errors }
        await input.pipe(user, call, { timestamp: T0 + (atMinute + i) * MINUTE })
      }
    },
    /** Moves stream time far enough for every session so far to close. */
    async closeAll(atMinute: number) {
      await input.pipe('clock', { tokens: 0, cost: 0, model: 'none', error: false }, { timestamp: T0 + atMinute * MINUTE })
    },
  }
}

describe('sessionProfiles', () => {
  test('records within the gap form one session; a record bridging two sessions merges them', async () => {
    const h = await harness()
    await h.session('m', 0, 3) // minutes 0..2
    await h.session('m', 9, 2) // minutes 9, 10: more than the gap after minute 2, a second session
    await h.session('m', 5.5, 1) // 3.5 min after the first, 3.5 min before the second: one session
    await h.closeAll(60)
    const profiles = await h.driver.readKeyValueStore<string, Profile>('user-sessions-profiles')
    const m = profiles.find(([k]) => k === 'm')?.[1]
    assert.equal(m?.sessions, 1)
    assert.equal(m?.features.requests?.mean, 6)
    await h.driver.close()
  })

  test('a newcomer is judged against the population; a veteran against its own profile, naming the deviating feature', async () => {
    const h = await harness()
    // Ten users, one 10-request session each: the population has 10 sessions.
    for (let u = 0; u < 10; u++) await h.session(`u${u}`, u, 10)
    // u0: five more normal sessions (its own profile is then the reference).
    for (let s = 1; s <= 5; s++) await h.session('u0', s * 30, 10)
    await h.closeAll(400)
    assert.ok(h.output.isEmpty(), JSON.stringify(h.output.readValues().map((a) => a.title)))

    await h.session('newbie', 500, 60) // six times the population's requests
    await h.session('u0', 600, 10, 20_000) // u0's usual request count, 20x its tokens
    await h.closeAll(800)
    const [newbie, veteran, ...rest] = h.output.readValues()
    assert.equal(rest.length, 0)
    assert.equal(newbie?.anomaly_id, anomalyId('user-sessions', 'newbie', T0 + 500 * MINUTE))
    assert.match(newbie?.description ?? '', /population's profile/)
    // Six times the requests, so six times the tokens: both deviate, both are named.
    assert.match(newbie?.title ?? '', /^unusual session: (requests, tokens|tokens, requests)$/)
    assert.match(newbie?.description ?? '', /requests 60 \(mean 10, z=/)
    assert.equal(newbie?.detector_type, 'behavioral')
    assert.deepEqual({ ...newbie?.affected_entity }, { type: 'user', id: 'newbie', name: null })
    assert.equal(veteran?.anomaly_id, anomalyId('user-sessions', 'u0', T0 + 600 * MINUTE))
    assert.match(veteran?.description ?? '', /u0's own profile/)
    assert.equal(veteran?.title, 'unusual session: tokens')
    assert.deepEqual([veteran?.context?.window_start, veteran?.context?.window_end], [new Date(T0 + 600 * MINUTE).toISOString(), new Date(T0 + 609 * MINUTE).toISOString()])
    await h.driver.close()
  })

  test('the population profile survives a restart (its store is read back when the task starts)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'session-profiles-'))
    try {
      const before = await harness(stateDir)
      for (let u = 0; u < 10; u++) await before.session(`u${u}`, u, 10)
      await before.closeAll(100)
      await before.driver.close()
      const after = await harness(stateDir)
      await after.session('newbie', 500, 60)
      await after.closeAll(800)
      assert.deepEqual(after.output.readValues().map((a) => a.anomaly_id), [anomalyId('user-sessions', 'newbie', T0 + 500 * MINUTE)])
      await after.driver.close()
      // Without the first run's state there is no population to compare with: nothing.
      const fresh = await harness()
      await fresh.session('newbie', 500, 60)
      await fresh.closeAll(800)
      assert.ok(fresh.output.isEmpty())
      await fresh.driver.close()
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
})
