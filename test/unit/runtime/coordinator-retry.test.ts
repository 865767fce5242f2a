/** A group coordinator that moved (its broker killed) is asked again; any other error is not. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isCoordinatorMoving, withCoordinatorRetry } from '../../../runtime/kafka/coordinator-retry.js'

const notCoordinator = (): Error => Object.assign(new Error('This is not the correct coordinator for this group'), { type: 'NOT_COORDINATOR' })

test('NOT_COORDINATOR is retried until the new coordinator answers', async () => {
  let calls = 0
  const result = await withCoordinatorRetry(
    async () => {
      if (calls++ < 2) throw notCoordinator()
      return 'offsets'
    },
    { firstDelayMs: 1 },
  )
  assert.equal(result, 'offsets')
  assert.equal(calls, 3)
})

test('a wrapped coordinator error counts; another error, or past the bound, is thrown', async () => {
  assert.ok(isCoordinatorMoving(Object.assign(new Error('retries exceeded'), { originalError: notCoordinator() })))
  assert.ok(!isCoordinatorMoving(Object.assign(new Error('fenced'), { type: 'INVALID_PRODUCER_EPOCH' })))
  let calls = 0
  await assert.rejects(
    withCoordinatorRetry(async () => {
      calls++
      throw new Error('boom')
    }),
    /boom/,
  )
  assert.equal(calls, 1)
  await assert.rejects(withCoordinatorRetry(async () => Promise.reject(notCoordinator()), { timeoutMs: 50, firstDelayMs: 10 }), /not the correct coordinator/)
})

test("kafkajs' own errors of a moving or loading coordinator count (it uses the old protocol names)", async () => {
  const { createRequire } = await import('node:module')
  const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error & { type: string } }
  for (const code of [14, 15, 16]) {
    const error = createErrorFromCode(code)
    assert.ok(isCoordinatorMoving(error), `${error.type} (${code})`)
    assert.ok(isCoordinatorMoving(Object.assign(new Error('retries exceeded'), { originalError: error })), `wrapped ${error.type}`)
  }
  assert.ok(!isCoordinatorMoving(createErrorFromCode(47)), 'INVALID_PRODUCER_EPOCH is not a coordinator move')
})

test("the coordinator's broker unreachable (kafkajs' retries of the connection ran out) counts as moving (F12)", async () => {
  const kafkajs = (await import('kafkajs')) as unknown as { default: { KafkaJSNumberOfRetriesExceeded: new (e: Error, o: object) => Error; KafkaJSConnectionError: new (m: string) => Error } }
  const { KafkaJSNumberOfRetriesExceeded, KafkaJSConnectionError } = kafkajs.default
  const refused = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { retryCount: 5, retryTime: 7000 })
  assert.ok(isCoordinatorMoving(refused))
  assert.ok(!isCoordinatorMoving(new KafkaJSNumberOfRetriesExceeded(new Error('This server does not host this topic-partition'), { retryCount: 5, retryTime: 7000 })))
})
