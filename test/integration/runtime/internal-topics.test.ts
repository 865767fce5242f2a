import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import kafkajs, { type Admin } from 'kafkajs'
import { testKafka, uniqueTopic } from '../../kafka.js'
import { ensureInternalTopics, InternalTopicError, type ResolvedTopicSpec } from '../../../runtime/internal-topics.js'

const { ConfigResourceTypes } = kafkajs
let admin: Admin

before(async () => {
  admin = testKafka('internal-topics').admin()
  await admin.connect()
})
after(() => admin.disconnect())

const changelog = (name: string, partitions = 3): ResolvedTopicSpec => ({
  name,
  role: 'changelog',
  partitions,
  configs: { 'cleanup.policy': 'compact,delete', 'retention.ms': '86400000' },
})

test('creates missing internal topics with their partitions and configs, and accepts them on the next start', async () => {
  const spec = changelog(uniqueTopic('app-counts-changelog'))
  assert.deepEqual(await ensureInternalTopics(admin, [spec]), [spec.name])
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: spec.name, configNames: ['cleanup.policy', 'retention.ms'] }],
  })
  const entries = Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]))
  assert.deepEqual(entries, { 'cleanup.policy': 'compact,delete', 'retention.ms': '86400000' })
  // Same policy written in another order is the same policy.
  assert.deepEqual(await ensureInternalTopics(admin, [{ ...spec, configs: { 'cleanup.policy': 'delete,compact' } }]), [])
})

test('an existing topic with the wrong partition count or cleanup policy is a start-up error naming the fix', async () => {
  const name = uniqueTopic('app-store-changelog')
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: 2 }] })
  await assert.rejects(ensureInternalTopics(admin, [changelog(name, 3)]), (e: unknown) => {
    assert.ok(e instanceof InternalTopicError)
    assert.match(e.message, /has 2 partitions, but the topology needs 3/)
    assert.match(e.message, /cleanup\.policy=delete, but it must be compact,delete/)
    assert.match(e.message, /kafka-configs --alter/)
    return true
  })
})
