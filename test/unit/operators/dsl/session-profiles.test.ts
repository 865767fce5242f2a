import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { Profile } from '../../../../operators/detectors/session-profile.js'
import { type EarlySessionVerdicts, sessionProfiles } from '../../../../operators/dsl/session-profiles.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { anomalyId } from '../../../../schemas/anomaly/anomaly-id.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { SessionWindows, StreamsBuilder } from '../../../../topology/index.js'
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

interface HarnessOptions {
  stateDir?: string
  early?: EarlySessionVerdicts
  /** The driver's forwarding cache (0: off); with it, each pipe call is one commit interval. */
  cache?: number
  /** Re-key the input (to the same key): the operator then sees a stream whose key changed. */
  rekey?: boolean
  /** As Sentinel's user-behaviour-anomaly: requests_per_minute only, threshold 8, no std floor. */
  ratesOnly?: boolean
}

async function harness({ stateDir, early, cache, rekey, ratesOnly }: HarnessOptions = {}) {
  const builder = new StreamsBuilder()
  // 'clock' records only move stream time (which the source sets before the filter).
  const filtered = builder.stream('calls', { key: Serdes.string(), value: callSerde }).filter((user) => user !== 'clock')
  const calls = rekey === true ? filtered.selectKey((user) => user) : filtered
  sessionProfiles(calls, {
    id: 'user-sessions',
    sessions: SessionWindows.withGap(5 * MINUTE, { graceMs: 10 * MINUTE }),
    record: (c) => ({ tokens: c.tokens, cost: c.cost, model: c.model, error: c.error }),
    ...(ratesOnly === true
      ? { features: ['requests_per_minute'] as const, threshold: 8, minSessions: 5 }
      : { features: ['requests', 'tokens', 'error_ratio'] as const, threshold: 4, minSessions: 5, minPopulationSessions: 10, minRelativeStd: 0.05 }),
    entityType: 'user',
    ...(early === undefined ? {} : { early }),
  }).to('anomalies', { key: Serdes.string(), value: anomalySerde })
  const driver = await TopologyTestDriver.create(builder.build(), {
    ...(stateDir === undefined ? {} : { engine: engines.rocksdb(), stateDir }),
    ...(cache === undefined ? {} : { forwardingCacheMaxEntries: cache }),
  })
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
    /** The same as `session`, piped as one batch (one poll; one commit interval with the cache on). */
    async sessionBatch(user: string, atMinute: number, requests: number, tokens = 1000) {
      const calls = Array.from({ length: requests }, (_, i) => ({
        key: user,
        value: { tokens: Math.round(tokens * (1 + 0.05 * noise())), cost: 0.01, model: 'gpt-4o', error: false },
        timestamp: T0 + (atMinute + i) * MINUTE,
      }))
      await input.pipeRecords(calls)
    },
    /** `requests` calls `spacingMs` apart from `atMinute`. */
    async burst(user: string, atMinute: number, requests: number, spacingMs: number) {
      for (let i = 0; i < requests; i++) await input.pipe(user, { tokens: 1000, cost: 0.01, model: 'gpt-4o', error: false }, { timestamp: T0 + atMinute * MINUTE + i * spacingMs })
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
      const before = await harness({ stateDir })
      for (let u = 0; u < 10; u++) await before.session(`u${u}`, u, 10)
      await before.closeAll(100)
      await before.driver.close()
      const after = await harness({ stateDir })
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

  test('a population of identical one-call sessions grades no later session critical; a real burst still is', async () => {
    const h = await harness({ ratesOnly: true })
    // Ten one-call sessions: every rate is 1 a minute, a reference with no spread at all.
    for (let u = 0; u < 10; u++) await h.session(`single${u}`, u, 1)
    await h.closeAll(100)
    // Forty ordinary sessions of 1-4 calls, 10-50 s apart: rates from 1 to about 4 a minute.
    const random = mulberry32(21)
    for (let u = 0; u < 40; u++) {
      const calls = 1 + Math.floor(random() * 4)
      await h.burst(`user${u}`, 200 + 10 * u, calls, 10_000 + Math.floor(random() * 40_000))
    }
    await h.closeAll(700)
    const ordinary = h.output.readValues()
    assert.deepEqual(ordinary.filter((a) => a.severity === 'critical').map((a) => a.description), [])
    assert.ok(ordinary.length <= 1, JSON.stringify(ordinary.map((a) => a.description)))
    // 60 calls 2 s apart: 30 a minute against a population that now has a measured spread.
    await h.burst('burster', 800, 60, 2000)
    await h.closeAll(900)
    const [burst, ...rest] = h.output.readValues()
    assert.equal(rest.length, 0)
    assert.equal(burst?.anomaly_id, anomalyId('user-sessions', 'burster', T0 + 800 * MINUTE))
    assert.equal(burst?.severity, 'critical')
    assert.ok((burst?.score ?? 0) >= 0.75)
    await h.driver.close()
  })

  test('a reference still without spread never concludes critical, even with a configured floor', async () => {
    const h = await harness()
    // Ten identical 10-request sessions: the requests std is the 5% floor, not measured.
    for (let u = 0; u < 10; u++) await h.session(`u${u}`, u, 10, 1000, 0)
    await h.closeAll(100)
    h.output.readValues()
    await h.session('newbie', 500, 60) // z = 100 against the floor: unusual, but not proven
    await h.closeAll(800)
    const [newbie, ...rest] = h.output.readValues()
    assert.equal(rest.length, 0)
    assert.match(newbie?.title ?? '', /requests/)
    assert.equal(newbie?.severity, 'warning')
    assert.ok((newbie?.score ?? 1) < 0.75)
    await h.driver.close()
  })

  describe('early verdicts (sessions judged while open)', () => {
    /** Ten users with one 10-request session each: a population of 10 sessions (requests mean 10, std floor 0.5). */
    async function withPopulation(options: HarnessOptions) {
      const h = await harness(options)
      for (let u = 0; u < 10; u++) await h.session(`u${u}`, u, 10)
      await h.closeAll(100)
      assert.ok(h.output.isEmpty())
      return h
    }

    test('a burst is reported at the first record that takes it past the threshold, once, and not again when it closes', async () => {
      const h = await withPopulation({ early: { minRecords: 5, minDurationMs: 0 } })
      await h.session('newbie', 500, 60) // records at minutes 500..559
      const [early, ...more] = h.output.readRecords()
      assert.equal(more.length, 0)
      // requests: mean 10, std 0.5 (5% of the mean): z = 4 at 12 requests, the record of minute 511.
      assert.equal(early?.timestamp, T0 + 511 * MINUTE)
      assert.equal(early?.value.timestamp, new Date(T0 + 511 * MINUTE).toISOString())
      assert.equal(early?.value.anomaly_id, anomalyId('user-sessions', 'newbie', T0 + 500 * MINUTE))
      assert.match(early?.value.title ?? '', /^unusual session in progress \(12 requests in 11m00s\): /)
      assert.match(early?.value.description ?? '', /requests 12 \(mean 10, z=4\.00\)/)
      assert.deepEqual([early?.value.context?.window_start, early?.value.context?.window_end], [new Date(T0 + 500 * MINUTE).toISOString(), new Date(T0 + 511 * MINUTE).toISOString()])
      // The open session is not learned: the profile learns closed sessions only.
      const open = await h.driver.readKeyValueStore<string, Profile>('user-sessions-profiles')
      assert.equal(open.find(([k]) => k === 'newbie'), undefined)
      assert.deepEqual(await h.driver.readKeyValueStore('user-sessions-early'), [['newbie', [{ start: T0 + 500 * MINUTE, end: T0 + 511 * MINUTE }]]])

      await h.closeAll(800)
      assert.ok(h.output.isEmpty(), 'the session was reported while open: not again at its close')
      const closed = await h.driver.readKeyValueStore<string, Profile>('user-sessions-profiles')
      assert.equal(closed.find(([k]) => k === 'newbie')?.[1].sessions, 1)
      assert.deepEqual(await h.driver.readKeyValueStore('user-sessions-early'), [], 'forgotten once the session closed')

      // A later session of the same entity is a new session: it can be reported again.
      await h.session('newbie', 900, 60)
      assert.deepEqual(h.output.readValues().map((a) => a.anomaly_id), [anomalyId('user-sessions', 'newbie', T0 + 900 * MINUTE)])
      await h.driver.close()
    })

    test('minRecords and minDurationMs hold the verdict back until both are met', async () => {
      const byRecords = await withPopulation({ early: { minRecords: 20, minDurationMs: 0 } })
      await byRecords.session('newbie', 500, 60)
      assert.deepEqual(byRecords.output.readRecords().map((r) => r.timestamp), [T0 + 519 * MINUTE])
      await byRecords.driver.close()
      const byDuration = await withPopulation({ early: { minRecords: 2, minDurationMs: 15 * MINUTE } })
      await byDuration.session('newbie', 500, 60)
      assert.deepEqual(byDuration.output.readRecords().map((r) => r.timestamp), [T0 + 515 * MINUTE])
      await byDuration.driver.close()
    })

    test('maxDurationMs: a session past it is not judged open (only at its close); within it, as before', async () => {
      // z reaches 4 at the 12th request, 11 minutes into the session (records a minute apart).
      const within = await withPopulation({ early: { minRecords: 5, minDurationMs: 0, maxDurationMs: 11 * MINUTE } })
      await within.session('newbie', 500, 60)
      assert.deepEqual(within.output.readRecords().map((r) => r.timestamp), [T0 + 511 * MINUTE])
      await within.driver.close()
      const past = await withPopulation({ early: { minRecords: 5, minDurationMs: 0, maxDurationMs: 10 * MINUTE } })
      await past.session('newbie', 500, 60) // a long steady session: too old by the time it looks unusual
      assert.ok(past.output.isEmpty(), JSON.stringify(past.output.readValues().map((a) => a.title)))
      assert.deepEqual(await past.driver.readKeyValueStore('user-sessions-early'), [])
      await past.closeAll(800)
      const closed = past.output.readValues()
      assert.equal(closed.length, 1)
      assert.match(closed[0]?.title ?? '', /^unusual session: /)
      await past.driver.close()
    })

    test('maxDurationMs below minDurationMs is refused', async () => {
      await assert.rejects(async () => harness({ early: { minRecords: 5, minDurationMs: 2 * MINUTE, maxDurationMs: MINUTE } }), /early\.maxDurationMs/)
    })

    test('a session short of the means is judged only when it closes; a normal one never', async () => {
      const h = await withPopulation({ early: { minRecords: 2, minDurationMs: 0 } })
      await h.session('u1', 200, 10) // normal: at every step of it, below or at the means
      await h.session('small', 300, 3) // 3 requests against a mean of 10: low, but it could still grow
      assert.ok(h.output.isEmpty(), JSON.stringify(h.output.readValues().map((a) => a.title)))
      await h.closeAll(400)
      const [small, ...rest] = h.output.readValues()
      assert.equal(rest.length, 0)
      assert.equal(small?.anomaly_id, anomalyId('user-sessions', 'small', T0 + 300 * MINUTE))
      assert.match(small?.title ?? '', /^unusual session: (requests, tokens|tokens, requests)$/)
      await h.driver.close()
    })

    test('batching and the forwarding cache do not change what is emitted (byte for byte)', async () => {
      const run = async (options: HarnessOptions, batched: boolean) => {
        const h = await withPopulation(options)
        if (batched) await h.sessionBatch('newbie', 500, 60, 3000)
        else await h.session('newbie', 500, 60, 3000)
        await h.closeAll(800)
        const out = h.driver.records('anomalies').map((r) => [r.timestamp, r.key?.toString('hex'), r.value?.toString('hex')])
        await h.driver.close()
        return out
      }
      const early = { minRecords: 5, minDurationMs: 2 * MINUTE }
      const perRecord = await run({ early }, false)
      assert.equal(perRecord.length, 1)
      assert.deepEqual(await run({ early, cache: 10_000 }, true), perRecord)
    })

    test('a restart remembers the early report: a later record and the close emit nothing more', async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'session-profiles-early-'))
      try {
        const early = { minRecords: 5, minDurationMs: 0 }
        const before = await withPopulation({ stateDir, early })
        await before.session('newbie', 500, 20) // reported at minute 511, still open at 519
        assert.equal(before.output.readValues().length, 1)
        await before.driver.close()
        const after = await harness({ stateDir, early })
        await after.session('newbie', 520, 40)
        await after.closeAll(800)
        assert.ok(after.output.isEmpty(), JSON.stringify(after.output.readValues().map((a) => a.title)))
        const profiles = await after.driver.readKeyValueStore<string, Profile>('user-sessions-profiles')
        assert.equal(profiles.find(([k]) => k === 'newbie')?.[1].sessions, 1, 'the whole session, across the restart, is learned once it closes')
        await after.driver.close()
      } finally {
        rmSync(stateDir, { recursive: true, force: true })
      }
    })

    test('a re-keyed stream is repartitioned before the sessions, so the records still find theirs', async () => {
      const h = await withPopulation({ early: { minRecords: 5, minDurationMs: 0 }, rekey: true })
      await h.session('newbie', 500, 60)
      assert.deepEqual(h.output.readRecords().map((r) => r.timestamp), [T0 + 511 * MINUTE])
      await h.driver.close()
    })

    test('early options are validated', () => {
      const builder = new StreamsBuilder()
      const calls = builder.stream('calls', { key: Serdes.string(), value: callSerde })
      const options = { id: 'x', sessions: SessionWindows.withGap(MINUTE), record: (c: Call) => ({ ...c }), threshold: 4, minSessions: 5 }
      assert.throws(() => sessionProfiles(calls, { ...options, early: { minRecords: 1, minDurationMs: 0 } }), /'early.minRecords' must be an integer >= 2/)
      assert.throws(() => sessionProfiles(calls, { ...options, early: { minRecords: 5, minDurationMs: -1 } }), /'early.minDurationMs' must be a number of milliseconds >= 0/)
    })
  })
})
