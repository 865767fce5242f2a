import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin } from 'kafkajs'
import { createTopicsWithLeaders } from '../../../runtime/internal-topics.js'

/** An admin whose metadata lags a creation: it answers UNKNOWN_TOPIC_OR_PARTITION `lagging` times first. */
function laggingAdmin(lagging: number) {
  const calls = { create: 0, metadata: 0 }
  const admin = {
    createTopics: async () => {
      calls.create++
      return true
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      calls.metadata++
      if (calls.metadata <= lagging) throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' })
      return { topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 1 }] })) }
    },
  } as unknown as Admin
  return { admin, calls }
}

test('createTopicsWithLeaders waits through UNKNOWN_TOPIC_OR_PARTITION after a creation (kafkajs waitForLeaders gives up on it)', async () => {
  const { admin, calls } = laggingAdmin(3)
  await createTopicsWithLeaders(admin, [{ topic: 't', numPartitions: 1 }], 5_000)
  assert.deepEqual(calls, { create: 1, metadata: 4 })
})

test('createTopicsWithLeaders gives up after its timeout with the last error', async () => {
  const { admin } = laggingAdmin(Number.MAX_SAFE_INTEGER)
  await assert.rejects(createTopicsWithLeaders(admin, [{ topic: 't', numPartitions: 1 }], 250), /does not host this topic-partition/)
})

test('createTopicsWithLeaders accepts topics that already exist (instances starting together race to create them)', async () => {
  const { admin, calls } = laggingAdmin(0)
  ;(admin as unknown as { createTopics: () => Promise<never> }).createTopics = async () => {
    throw Object.assign(new Error('exists'), { errors: [{ type: 'TOPIC_ALREADY_EXISTS' }] })
  }
  await createTopicsWithLeaders(admin, [{ topic: 't', numPartitions: 1 }], 1_000)
  assert.equal(calls.metadata, 1)
})
