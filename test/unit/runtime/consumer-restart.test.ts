import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isConsumerRestarting, whenConsumerRuns } from '../../../runtime/kafka/consumer-restart.js'

// kafkajs' own words (consumer/index.js) while its consumer group is re-created after a crash.
const restarting = (): Error => new Error('Consumer group was not initialized, consumer#run must be called first')

test('a seek refused while kafkajs restarts the consumer is made again once it runs (F12)', async () => {
  let calls = 0
  const done = await whenConsumerRuns(
    () => {
      if (calls++ < 3) throw restarting()
    },
    { stillWanted: () => true, delayMs: 1 },
  )
  assert.equal(done, true)
  assert.equal(calls, 4)
})

test('a task no longer wanted stops waiting; other errors, and the bound, are thrown', async () => {
  let wanted = true
  let calls = 0
  const done = await whenConsumerRuns(
    () => {
      calls++
      wanted = false
      throw restarting()
    },
    { stillWanted: () => wanted, delayMs: 1 },
  )
  assert.equal(done, false)
  assert.equal(calls, 1)
  await assert.rejects(
    whenConsumerRuns(
      () => {
        throw new Error('Offset must not be a negative number')
      },
      { stillWanted: () => true },
    ),
    /negative/,
  )
  const alwaysRestarting = (): void => {
    throw restarting()
  }
  await assert.rejects(whenConsumerRuns(alwaysRestarting, { stillWanted: () => true, timeoutMs: 5, delayMs: 2 }), /not initialized/)
  assert.ok(isConsumerRestarting(restarting()))
  assert.ok(!isConsumerRestarting(undefined))
})
