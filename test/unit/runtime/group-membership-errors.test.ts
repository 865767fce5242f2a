import assert from 'node:assert/strict'
import { test } from 'node:test'
import kafkajs from 'kafkajs'
import { commitMembershipError } from '../../../runtime/kafka/group-membership-errors.js'

const { KafkaJSNonRetriableError, KafkaJSProtocolError } = kafkajs

// kafkajs builds its protocol errors from the broker's error code, as a commit's response does.
const protocol = (code: number): Error => new KafkaJSProtocolError({ type: 'x', code, retriable: false, message: `code ${code}` } as never)
// kafkajs' retrier rejects with the protocol error as `cause` (retry/index.js).
const gaveUp = (e: Error): Error => new (KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => Error)(e, { cause: e })

test("a commit refused with UNKNOWN_MEMBER_ID, as kafkajs wraps it: 'out' (the member's tasks may be another's)", () => {
  assert.equal(commitMembershipError(protocol(25)), 'out')
  assert.equal(commitMembershipError(gaveUp(protocol(25))), 'out')
})

test("REBALANCE_IN_PROGRESS and ILLEGAL_GENERATION: 'rebalancing' (the join decides what stays)", () => {
  assert.equal(commitMembershipError(gaveUp(protocol(27))), 'rebalancing')
  assert.equal(commitMembershipError(gaveUp(protocol(22))), 'rebalancing')
})

test('any other failure is none of these: the caller treats it as before', () => {
  assert.equal(commitMembershipError(gaveUp(protocol(16))), null)
  assert.equal(commitMembershipError(new Error('producing records failed')), null)
  assert.equal(commitMembershipError(undefined), null)
})
