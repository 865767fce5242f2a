import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Readiness } from '../../../runtime/readiness.js'
import type { StateListener, StreamsState } from '../../../runtime/streams-state.js'

/** A runtime's state as its transitions reach listeners. */
function stateSource() {
  const listeners = new Set<StateListener>()
  const source = {
    state: 'created' as StreamsState,
    onStateChange: (l: StateListener) => (listeners.add(l), () => listeners.delete(l)),
    to(next: StreamsState) {
      const previous = source.state
      source.state = next
      for (const l of listeners) l(next, previous)
    },
  }
  return source
}

test('not ready while starting; ready once running; still ready through later rebalances', () => {
  const source = stateSource()
  const readiness = new Readiness(source)
  const seen: boolean[] = []
  for (const next of ['rebalancing', 'running', 'rebalancing', 'rebalancing', 'running', 'rebalancing'] as const) {
    seen.push(readiness.report().ready)
    source.to(next)
  }
  seen.push(readiness.report().ready)
  assert.deepEqual(seen, [false, false, true, true, true, true, true])
})

test('not ready, and after an error not alive, once shutting down or failed', () => {
  const source = stateSource()
  const readiness = new Readiness(source)
  source.to('rebalancing')
  source.to('running')
  source.to('pending-shutdown')
  assert.deepEqual(readiness.report(), { ready: false, state: 'pending-shutdown', reason: 'shutting down' })
  assert.equal(readiness.alive(), true)

  const failing = stateSource()
  const failed = new Readiness(failing)
  failing.to('rebalancing')
  failing.to('running')
  failing.to('error')
  assert.equal(failed.report().ready, false)
  assert.equal(failed.alive(), false)
})
