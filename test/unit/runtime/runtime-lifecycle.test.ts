import { test } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { RuntimeLifecycle } from '../../../runtime/runtime-lifecycle.js'
import type { StreamsState } from '../../../runtime/streams-state.js'

/** The smallest runtime: its start goes to running, its shutdown does what the test says. */
class Runtime extends RuntimeLifecycle {
  shutdowns = 0
  constructor(private readonly shutdownWith: () => Promise<void> = async () => {}) {
    super(pino({ level: 'silent' }))
  }
  start(): void {
    this.checkStartable()
    this.transition('rebalancing')
    this.transition('running')
  }
  crash(error: Error): void {
    this.fail(error)
  }
  get hasFailed(): boolean {
    return this.failed
  }
  protected async shutdown(): Promise<void> {
    this.shutdowns++
    await this.shutdownWith()
  }
}

const recordStates = (runtime: Runtime): StreamsState[] => {
  const seen: StreamsState[] = []
  runtime.onStateChange((next) => seen.push(next))
  return seen
}

test('start once, close once: the states in order, one shutdown for two close() calls', async () => {
  const runtime = new Runtime()
  const seen = recordStates(runtime)
  runtime.start()
  assert.throws(() => runtime.start(), /start\(\) called in state 'running'; create a new instance/)
  await Promise.all([runtime.close(), runtime.close()])
  assert.deepEqual(seen, ['rebalancing', 'running', 'pending-shutdown', 'not-running'])
  assert.equal(runtime.shutdowns, 1)
})

test('a shutdown that throws still ends not-running (close() resolves)', async () => {
  const runtime = new Runtime(async () => {
    throw new Error('disk gone')
  })
  runtime.start()
  await runtime.close()
  assert.equal(runtime.state, 'not-running')
})

test('a fatal error: error, then closed; waitForState rejects on it', async () => {
  const runtime = new Runtime()
  runtime.start()
  const waiting = runtime.waitForState('not-running', 1_000)
  const seen = recordStates(runtime)
  runtime.crash(new Error('boom'))
  await runtime.close()
  assert.deepEqual(seen, ['error', 'pending-shutdown', 'not-running'])
  assert.ok(runtime.hasFailed)
  await assert.rejects(waiting, /went to 'error'/)
})
