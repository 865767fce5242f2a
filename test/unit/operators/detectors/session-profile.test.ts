import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EMPTY_PROFILE, type Profile, SessionProfileDetector } from '../../../../operators/detectors/session-profile.js'
import { SESSION_FEATURES, addToSession, mergeSessions, sessionFeatures } from '../../../../operators/detectors/session-features.js'
import { gaussian, mulberry32 } from './prng.js'

const features = ['requests', 'tokens', 'cost'] as const
const detector = new SessionProfileDetector({ features, threshold: 4, minSessions: 10, topK: 2 })

function typical(g: () => number, scale = 1): Record<string, number> {
  return { requests: scale * (20 + 2 * g()), tokens: scale * (4000 + 300 * g()), cost: scale * (0.4 + 0.03 * g()) }
}

test('a cold-start entity is judged against the population, then against itself once it has history', () => {
  const g = gaussian(mulberry32(12))
  let population: Profile = EMPTY_PROFILE
  for (let i = 0; i < 200; i++) population = detector.step(EMPTY_PROFILE, population, typical(g)).population
  let newcomer: Profile = EMPTY_PROFILE
  // The newcomer's first session is 10x everyone's: the population reference catches it.
  const first = detector.step(newcomer, population, typical(g, 10))
  assert.equal(first.verdict.reference, 'population')
  assert.equal(first.verdict.anomalous, true)
  newcomer = first.entity
  population = first.population
  for (let i = 0; i < 9; i++) ({ entity: newcomer, population } = detector.step(newcomer, population, typical(g)))
  assert.equal(newcomer.sessions, 10)
  assert.equal(detector.step(newcomer, population, typical(g)).verdict.reference, 'entity')
})

test('without any history there is no reference and no verdict', () => {
  const r = detector.step(EMPTY_PROFILE, EMPTY_PROFILE, { requests: 1e6, tokens: 1, cost: 1 })
  assert.equal(r.verdict.reference, 'none')
  assert.equal(r.verdict.anomalous, false)
  assert.equal(r.entity.sessions, 1)
})

test("the verdict names the most deviating features against the entity's own profile", () => {
  const g = gaussian(mulberry32(13))
  let entity: Profile = EMPTY_PROFILE
  let population: Profile = EMPTY_PROFILE
  for (let i = 0; i < 50; i++) ({ entity, population } = detector.step(entity, population, typical(g)))
  const session = { ...typical(g), tokens: 40_000 }
  const r = detector.step(JSON.parse(JSON.stringify(entity)) as Profile, population, session)
  assert.equal(r.verdict.reference, 'entity')
  assert.equal(r.verdict.anomalous, true)
  assert.equal(r.verdict.deviations[0]!.feature, 'tokens')
  assert.equal(r.verdict.deviations.length, 2)
  // The anomalous feature is learned clipped, so the profile's mean barely moves.
  assert.ok(r.entity.features.tokens!.mean < 4200)
})

test('stationary sessions: per-session false-alarm rate consistent with a |z| >= 4 test on 3 features', () => {
  const g = gaussian(mulberry32(14))
  let entity: Profile = EMPTY_PROFILE
  let population: Profile = EMPTY_PROFILE
  let alarms = 0
  const n = 20_000
  for (let i = 0; i < n; i++) {
    const r = detector.step(entity, population, typical(g))
    ;({ entity, population } = r)
    if (r.verdict.anomalous) alarms++
  }
  // P(|Z| >= 4) = 6.3e-5 per feature, ~1.9e-4 for three; early sessions with few samples add a few.
  assert.ok(alarms / n < 0.002, `false-alarm rate ${alarms / n}`)
})

test('session features from records; sessions merge', () => {
  let s = addToSession(undefined, { timestamp: 0, tokens: 100, cost: 0.01, model: 'a', error: false })
  s = addToSession(s, { timestamp: 60_000, tokens: 50, cost: 0.02, model: 'b', error: true })
  const t = addToSession(undefined, { timestamp: 180_000, tokens: 10, cost: 0.01, model: 'a', error: false })
  const f = sessionFeatures(mergeSessions(s, t))
  assert.deepEqual(Object.keys(f), [...SESSION_FEATURES])
  assert.equal(f.requests, 3)
  assert.equal(f.tokens, 160)
  assert.equal(f.distinct_models, 2)
  assert.ok(Math.abs(f.error_ratio - 1 / 3) < 1e-12)
  assert.equal(f.duration_s, 180)
  assert.equal(f.requests_per_minute, 1)
})
