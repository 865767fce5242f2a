import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Admin, Producer } from 'kafkajs'
import { pino } from 'pino'
import { testKafka, uniqueTopic } from '../../kafka.js'
import { KafkaRecordSink } from '../../../runtime/kafka/kafka-record-sink.js'
import { RecordCollector } from '../../../runtime/task/record-collector.js'
import {
  ChangelogRestorer,
  StateDirectory,
  createRecordCache,
  engines,
  ensureChangelogTopics,
  openKeyValueStore,
  openWindowStore,
  restoreTaskStores,
} from '../../../state/index.js'
import type { KeyValueStore, StoreOpenContext, WindowStore } from '../../../state/index.js'
import { collect, jsonSerde, stringSerde, tempDir } from '../../unit/state/fixtures.js'

const PARTITION = 1
const TASK = '0_1'

describe('changelog and restore against the broker', () => {
  const kafka = testKafka('state-restore-test')
  const applicationId = uniqueTopic('restore-app')
  let admin: Admin
  let producer: Producer
  let dir: Awaited<ReturnType<typeof tempDir>>
  let stateDirectory: StateDirectory
  const engine = engines.rocksdb()
  const restorer = new ChangelogRestorer({ kafka, applicationId, logger: pino({ level: 'silent' }) })
  const topics = new Map(['counts', 'windows'].map((store) => [store, `${applicationId}-${store}-changelog`]))

  before(async () => {
    dir = await tempDir('restore-it-')
    stateDirectory = new StateDirectory({ stateDir: dir.path, applicationId })
    admin = kafka.admin()
    await admin.connect()
    await ensureChangelogTopics(admin, [
      { topic: topics.get('counts')!, store: 'counts', partitions: 2 },
      { topic: topics.get('windows')!, store: 'windows', partitions: 2, retentionMs: 3_600_000 },
    ])
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
  })
  after(async () => {
    await producer.disconnect()
    await admin.deleteTopics({ topics: [`${applicationId}-counts-changelog`, `${applicationId}-windows-changelog`] }).catch(() => undefined)
    await admin.disconnect()
    await dir.remove()
  })

  /** A task's life: lock, checkpoint, open stores, restore, work, commit, close. */
  async function runTask(work: (kv: KeyValueStore<string, number>, win: WindowStore<string, number>) => Promise<void>, commitCheckpoint = true) {
    const lock = await stateDirectory.lockTask(TASK)
    const checkpoint = await stateDirectory.readCheckpoint(TASK)
    const collector = new RecordCollector(new KafkaRecordSink({ sender: producer, partitionCounts: { get: () => undefined, load: async () => undefined } }))
    const ctx: StoreOpenContext = { applicationId, taskId: TASK, stateDir: dir.path, engine, cache: createRecordCache(64 * 1024), changelog: collector.changelogSink(topics, PARTITION) }
    const kv = await openKeyValueStore({ name: 'counts', keySerde: stringSerde, valueSerde: jsonSerde<number>() }, ctx)
    const win = await openWindowStore({ name: 'windows', keySerde: stringSerde, valueSerde: jsonSerde<number>(), retentionMs: 3_600_000, windowSizeMs: 60_000 }, ctx)
    const restored = await restoreTaskStores({ restorer, checkpoint, stores: [kv, win], restoreTopics: topics, partition: PARTITION })
    await work(kv, win)
    // Commit: changelog acknowledged, local batches written (flush does both), then the checkpoint.
    await ctx.cache.flushAll()
    await collector.flush()
    if (commitCheckpoint) {
      for (const [store, topic] of topics) {
        const offset = collector.acknowledgedOffset(topic, PARTITION)
        if (offset !== undefined) checkpoint.update(store, offset)
      }
      await checkpoint.write()
    }
    await kv.close()
    await win.close()
    await lock.release()
    return { restored: new Map(restored.map((r) => [r.store, r.restored])), kvState: kv.localState }
  }

  const model = new Map<string, number>()
  const windowModel = new Map<string, number>()
  let changelogRecords = 0
  let windowRecords = 0

  async function writeUpdates(kv: KeyValueStore<string, number>, win: WindowStore<string, number>, n: number, seed: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const key = `user-${(i * 7919 + seed) % 1500}`
      if (i % 10 === 0) {
        kv.delete(key)
        model.delete(key)
      } else {
        await kv.prefetch([key])
        const next = (kv.get(key) ?? 0) + 1
        kv.put(key, next)
        model.set(key, next)
      }
      const windowStart = 1_700_000_000_000 + (i % 5) * 60_000
      win.put(key, i, windowStart)
      windowModel.set(`${key}|${windowStart}`, i)
      // Commit-like flushes every 1,000 updates, as the runtime would.
      if (i % 1000 === 999) {
        await kv.flush()
        await win.flush()
      }
    }
  }

  async function assertStoreEqualsModel(): Promise<void> {
    await runTask(async (kv, win) => {
      const rows = await collect(kv.all())
      assert.deepEqual(new Map(rows), model)
      const windows = await collect(win.fetchAll(0, Number.MAX_SAFE_INTEGER))
      assert.deepEqual(new Map(windows.map(([w, v]) => [`${w.key}|${w.window.start}`, v])), windowModel)
    })
  }

  async function endOffsets(): Promise<{ counts: number; windows: number }> {
    const [c] = (await admin.fetchTopicOffsets(`${applicationId}-counts-changelog`)).filter((o) => o.partition === PARTITION)
    const [w] = (await admin.fetchTopicOffsets(`${applicationId}-windows-changelog`)).filter((o) => o.partition === PARTITION)
    return { counts: Number(c!.high), windows: Number(w!.high) }
  }

  test('N updates, local state deleted, full restore: the store equals what was written', async () => {
    await runTask((kv, win) => writeUpdates(kv, win, 12_000, 1))
    const ends = await endOffsets()
    changelogRecords = ends.counts
    windowRecords = ends.windows
    assert.ok(changelogRecords > 1500, `${changelogRecords} changelog records`)
    await rm(stateDirectory.taskDir(TASK), { recursive: true, force: true })
    const { restored, kvState } = await runTask(async (kv, win) => {
      assert.deepEqual(new Map(await collect(kv.all())), model)
      assert.equal((await collect(win.fetchAll(0, Number.MAX_SAFE_INTEGER))).length, windowModel.size)
    })
    assert.equal(kvState, 'new')
    assert.equal(restored.get('counts'), changelogRecords)
    assert.equal(restored.get('windows'), windowRecords)
  })

  test('with a checkpoint, a restart restores only the records written after it', async () => {
    // Updates reach changelog and local store, but the task dies before its checkpoint is written.
    await runTask((kv, win) => writeUpdates(kv, win, 3_000, 2), false)
    const ends = await endOffsets()
    const { restored } = await runTask(async () => {})
    assert.equal(restored.get('counts'), ends.counts - changelogRecords)
    assert.equal(restored.get('windows'), ends.windows - windowRecords)
    assert.ok(restored.get('counts')! > 0 && restored.get('counts')! < ends.counts)
    changelogRecords = ends.counts
    windowRecords = ends.windows
    await assertStoreEqualsModel()
    const { restored: again } = await runTask(async () => {})
    assert.equal(again.get('counts'), 0, 'a clean restart restores nothing')
  })

  test('a corrupt checkpoint leads to a wipe and a full restore, not a crash', async () => {
    await writeFile(join(stateDirectory.taskDir(TASK), '.checkpoint'), '{"version":1,"offs')
    const { restored } = await runTask(async (kv) => {
      assert.deepEqual(new Map(await collect(kv.all())), model)
    })
    assert.equal(restored.get('counts'), changelogRecords)
  })

  test('a corrupt store file leads to a wipe and a full restore of that store, not a crash', async () => {
    await writeFile(join(stateDirectory.taskDir(TASK), 'counts', 'CURRENT'), 'garbage\n')
    const { restored, kvState } = await runTask(async (kv) => {
      assert.deepEqual(new Map(await collect(kv.all())), model)
    })
    assert.equal(kvState, 'wiped')
    assert.equal(restored.get('counts'), changelogRecords)
    assert.equal(restored.get('windows'), 0, 'the intact store resumes from its checkpoint')
    await assertStoreEqualsModel()
  })
})
