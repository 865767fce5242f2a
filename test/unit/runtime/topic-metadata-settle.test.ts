import { test } from 'node:test'
import assert from 'node:assert/strict'
import { whileTopicMetadataSettles } from '../../../runtime/topic-metadata-settle.js'

const unknownTopic = (): Error => Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' })

test('a topic a broker does not know yet is asked about again, also when kafkajs wraps the error', async () => {
  let calls = 0
  const result = await whileTopicMetadataSettles(async () => {
    calls++
    if (calls === 1) throw unknownTopic()
    if (calls === 2) throw Object.assign(new Error('retries exceeded'), { originalError: unknownTopic() })
    return 'metadata'
  }, 5_000)
  assert.equal(result, 'metadata')
  assert.equal(calls, 3)
})

test('other errors fail at once, and an unknown topic fails once the settle time is over', async () => {
  let calls = 0
  await assert.rejects(whileTopicMetadataSettles(async () => (calls++, Promise.reject(new Error('broken'))), 5_000), /broken/)
  assert.equal(calls, 1)
  const began = Date.now()
  await assert.rejects(whileTopicMetadataSettles(() => Promise.reject(unknownTopic()), 600), /does not host/)
  assert.ok(Date.now() - began >= 600)
})
