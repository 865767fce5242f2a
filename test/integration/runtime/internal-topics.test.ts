import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import kafkajs, { type Admin } from 'kafkajs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTopicsAndWait, kafkaBrokers, testKafka, uniqueTopic } from '../../kafka.js'
import { SentinelStreams, TopologyStartError } from '../../../runtime/kafka/sentinel-streams.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder, type Topology } from '../../../topology/index.js'
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
  await createTopicsAndWait(admin, [{ topic: name, numPartitions: 2 }])
  await assert.rejects(ensureInternalTopics(admin, [changelog(name, 3)]), (e: unknown) => {
    assert.ok(e instanceof InternalTopicError)
    assert.match(e.message, /has 2 partitions, but the topology needs 3/)
    assert.match(e.message, /cleanup\.policy=delete, but it must be compact,delete/)
    assert.match(e.message, /kafka-configs --alter/)
    return true
  })
})

test('missing source and output topics: refused by name, or created at start with createMissingTopics', async () => {
  const [input, output] = [uniqueTopic('auto-in'), uniqueTopic('auto-out')]
  const topology = (): Topology => {
    const builder = new StreamsBuilder()
    builder.stream(input, { key: Serdes.string(), value: Serdes.string() }).to(output, { key: Serdes.string(), value: Serdes.string() })
    return builder.build()
  }
  const base = { applicationId: uniqueTopic('auto-app'), brokers: kafkaBrokers(), stateDir: mkdtempSync(join(tmpdir(), 'auto-topics-')) }
  const refused = new SentinelStreams(topology(), base, { logger: false })
  await assert.rejects(refused.start(), (e: unknown) => e instanceof TopologyStartError && e.message.includes(`'${input}'`) && /createMissingTopics/.test(e.message))
  await refused.close()

  const streams = new SentinelStreams(topology(), { ...base, createMissingTopics: { partitions: 3 } }, { logger: false })
  try {
    await streams.start()
    const metadata = await admin.fetchTopicMetadata({ topics: [input, output] })
    assert.deepEqual(metadata.topics.map((t) => [t.name, t.partitions.length]).sort(), [[input, 3], [output, 3]].sort())
  } finally {
    await streams.close()
  }
})
