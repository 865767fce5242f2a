import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RESTART_POLICY, WorkerRestartPolicy } from '../../../../apps/cli/worker-restart-policy.js'

const QUICK = 1_000
const LONG = RESTART_POLICY.quickCrashMs + 1
const STABLE = RESTART_POLICY.stableRunMs

describe('WorkerRestartPolicy', () => {
  test('a crash is restarted after 1 s, doubling per crash in a row, capped at 30 s', () => {
    const policy = new WorkerRestartPolicy()
    // Crashes after a while (not quick): never given up, so the cap shows.
    const delays = Array.from({ length: 8 }, () => policy.onExit(1, LONG)).map((d) => (d.action === 'restart' ? d.delayMs : d.action))
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000])
  })

  test('five quick crashes in a row give up; the first four are restarted with backoff', () => {
    const policy = new WorkerRestartPolicy()
    const decisions = Array.from({ length: 5 }, () => policy.onExit(1, QUICK))
    assert.deepEqual(
      decisions.map((d) => d.action),
      ['restart', 'restart', 'restart', 'restart', 'give-up'],
    )
    assert.deepEqual(
      decisions.slice(0, 4).map((d) => (d.action === 'restart' ? d.delayMs : -1)),
      [1_000, 2_000, 4_000, 8_000],
    )
  })

  test('a crash after a longer run breaks the row of quick crashes', () => {
    const policy = new WorkerRestartPolicy()
    for (let i = 0; i < 4; i++) assert.equal(policy.onExit(1, QUICK).action, 'restart')
    assert.equal(policy.onExit(1, LONG).action, 'restart')
    for (let i = 0; i < 4; i++) assert.equal(policy.onExit(1, QUICK).action, 'restart')
    assert.equal(policy.onExit(1, QUICK).action, 'give-up')
  })

  test('a crash after a stable run starts the backoff again at 1 s', () => {
    const policy = new WorkerRestartPolicy()
    for (let i = 0; i < 4; i++) policy.onExit(1, QUICK)
    assert.deepEqual(policy.onExit(1, STABLE), { action: 'restart', delayMs: 1_000, quickCrashes: 0 })
  })

  test('killed by a signal (code null) is a crash', () => {
    assert.deepEqual(new WorkerRestartPolicy().onExit(null, QUICK), { action: 'restart', delayMs: 1_000, quickCrashes: 1 })
  })

  test('exit code 2 (configuration error) ends the run with 2; exit 0 (clean shutdown) ends it with 0', () => {
    const policy = new WorkerRestartPolicy()
    assert.deepEqual(policy.onExit(2, QUICK), { action: 'end-run', code: 2, why: 'a thread stopped on a configuration or usage error' })
    assert.deepEqual(policy.onExit(0, LONG), { action: 'end-run', code: 0, why: 'a thread shut down cleanly' })
  })
})
