/** A topic one broker lists and another does not know yet (KRaft metadata lag) is waited for, briefly. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin } from 'kafkajs'
import { AdminPartitionCounts } from '../../../runtime/kafka/partition-counts.js'

const unknownTopic = Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' })

function admin(failures: number, error: Error = unknownTopic): { admin: Admin; calls: () => number } {
  let calls = 0
  const fake = {
    listTopics: async () => ['in'],
    fetchTopicMetadata: async () => {
      if (calls++ < failures) throw error
      return { topics: [{ name: 'in', partitions: [{}, {}, {}] }] }
    },
  }
  return { admin: fake as unknown as Admin, calls: () => calls }
}

test('a listed topic the next broker does not know yet is asked for again until it answers', async () => {
  const { admin: a, calls } = admin(2)
  const counts = new AdminPartitionCounts(a, 5_000)
  await counts.load(['in'])
  assert.equal(counts.get('in'), 3)
  assert.equal(calls(), 3)
})

test('past the settle time, or on any other error, the error is thrown', async () => {
  await assert.rejects(new AdminPartitionCounts(admin(1_000).admin, 300).load(['in']), /does not host/)
  const other = admin(1, Object.assign(new Error('boom'), { type: 'CLUSTER_AUTHORIZATION_FAILED' }))
  await assert.rejects(new AdminPartitionCounts(other.admin, 5_000).load(['in']), /boom/)
  assert.equal(other.calls(), 1)
})

test('a topic no broker lists still fails at once', async () => {
  await assert.rejects(new AdminPartitionCounts(admin(0).admin, 5_000).load(['missing']), /'missing' do not exist/)
})
