import { KafkaRecordSink } from '../../../runtime/kafka/kafka-record-sink.js'
import { RecordCollector } from '../../../runtime/task/record-collector.js'
import { describe, test, before, after } from 'node:test'
import { rm } from 'node:fs/promises'
import assert from 'node:assert/strict'
import kafkajs, { type Admin } from 'kafkajs'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { testKafka, uniqueTopic } from '../../kafka.js'
import {
  ChangelogRestorer,
  StateDirectory,
  createRecordCache,
  engines,
  ensureChangelogTopics,
  openKeyValueStore,
  restoreTaskStores,
} from '../../../state/index.js'
import type { ChangelogRecord, KeyValueStore, StoreOpenContext } from '../../../state/index.js'
import { collect, stringSerde, tempDir } from '../../unit/state/fixtures.js'

const silent = pino({ level: 'silent' })

describe('changelog topics, restore metrics and interrupted restores against the broker', () => {
  const kafka = testKafka('state-resume-test')
  const applicationId = uniqueTopic('resume-app')
  let admin: Admin
  let dir: Awaited<ReturnType<typeof tempDir>>

  before(async () => {
    admin = kafka.admin()
    await admin.connect()
    dir = await tempDir('resume-it-')
  })
  after(async () => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(applicationId))
    await admin.deleteTopics({ topics }).catch(() => undefined)
    await admin.disconnect()
    await dir.remove()
  })

  test('changelog topics are created compacted (windowed: compact,delete); a mismatching one is refused by name', async () => {
    await ensureChangelogTopics(admin, [
      { topic: `${applicationId}-kv-changelog`, store: 'kv', partitions: 3 },
      { topic: `${applicationId}-win-changelog`, store: 'win', partitions: 3, retentionMs: 60_000 },
    ])
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [`${applicationId}-kv-changelog`, `${applicationId}-win-changelog`].map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy', 'retention.ms'] })),
    })
    const policy = (topic: string, config: string) =>
      configs.resources.find((r) => r.resourceName === topic)?.configEntries.find((c) => c.configName === config)?.configValue
    assert.equal(policy(`${applicationId}-kv-changelog`, 'cleanup.policy'), 'compact')
    assert.equal(policy(`${applicationId}-win-changelog`, 'cleanup.policy'), 'compact,delete')
    assert.equal(policy(`${applicationId}-win-changelog`, 'retention.ms'), String(60_000 + 24 * 3600_000))
    // Idempotent when they match; an error naming topic and fix when they do not.
    const kv = { topic: `${applicationId}-kv-changelog`, store: 'kv' }
    await ensureChangelogTopics(admin, [{ ...kv, partitions: 3 }])
    await assert.rejects(ensureChangelogTopics(admin, [{ ...kv, partitions: 4 }]), new RegExp(`${applicationId}-kv-changelog has 3 partitions`))
    await assert.rejects(ensureChangelogTopics(admin, [{ ...kv, partitions: 3, retentionMs: 1000 }]), /cleanup.policy=compact,delete/)
  })

  test('a restore interrupted mid-way resumes from its checkpoint; progress is exported as metrics', async () => {
    const restoreTopics = new Map([['big', `${applicationId}-big-changelog`]])
    await ensureChangelogTopics(admin, [{ topic: restoreTopics.get('big')!, store: 'big', partitions: 1 }])
    const producer = kafka.producer()
    await producer.connect()
    const collector = new RecordCollector(new KafkaRecordSink({ sender: producer, partitionCounts: { get: () => undefined, load: async () => undefined } }))
    const stateDirectory = new StateDirectory({ stateDir: dir.path, applicationId, logger: silent })
    const ctx = (): StoreOpenContext => ({ applicationId, taskId: '0_0', stateDir: dir.path, engine: engines.rocksdb(), cache: createRecordCache(1 << 24), changelog: collector.changelogSink(restoreTopics, 0) })
    const spec = { name: 'big', keySerde: stringSerde, valueSerde: stringSerde }
    const written = await openKeyValueStore(spec, ctx())
    const N = 20_000
    for (let i = 0; i < N; i++) written.put(`key-${i}`, 'x'.repeat(100))
    await written.flush()
    await written.close()
    await producer.disconnect()
    await stateDirectory.readCheckpoint('0_0').then((cp) => cp.delete())
    await rm(stateDirectory.taskDir('0_0'), { recursive: true, force: true })

    const registry = new Registry()
    const restorer = new ChangelogRestorer({ kafka, applicationId, logger: silent, metrics: registry, batchRecords: 1000, maxBytesPerPartition: 128 * 1024 })

    // First attempt: the store fails on its fourth batch, as if the task were revoked mid-restore.
    const first = await openKeyValueStore(spec, ctx())
    let batches = 0
    const failing = Object.create(first, {
      restoreBatch: {
        value: async (records: readonly ChangelogRecord[]) => {
          if (++batches === 4) throw new Error('interrupted')
          await first.restoreBatch(records)
        },
      },
    }) as KeyValueStore<string, string>
    const cp1 = await stateDirectory.readCheckpoint('0_0')
    await assert.rejects(restoreTaskStores({ restorer, checkpoint: cp1, stores: [failing], restoreTopics, partition: 0, checkpointIntervalMs: 0, logger: silent }), /interrupted/)
    await first.close()
    const resumeFrom = (await stateDirectory.readCheckpoint('0_0')).offset('big')
    assert.ok(resumeFrom !== undefined && resumeFrom > 0 && resumeFrom < N, `checkpoint after the interruption: ${resumeFrom}`)

    // Second attempt resumes there and restores only the rest.
    const second = await openKeyValueStore(spec, ctx())
    assert.equal(second.localState, 'existing')
    const cp2 = await stateDirectory.readCheckpoint('0_0')
    const [result] = await restoreTaskStores({ restorer, checkpoint: cp2, stores: [second], restoreTopics, partition: 0, logger: silent })
    assert.equal(result!.restored, N - resumeFrom)
    assert.equal((await collect(second.all())).length, N)
    await second.close()

    const metrics = await registry.getMetricsAsJSON()
    const restored = metrics.find((m) => m.name === 'sentinel_state_restored_records_total')!.values.reduce((n, v) => n + v.value, 0)
    const remaining = metrics.find((m) => m.name === 'sentinel_state_restore_remaining_records')!.values[0]!.value
    assert.ok(restored >= N, `restored counter ${restored}`)
    assert.equal(remaining, 0)
  })
})
