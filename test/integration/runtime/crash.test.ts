/**
 * Crashes, for real: instances run as separate processes through the CLI and are killed with
 * SIGKILL mid-stream. Nothing committed may be lost; under exactly-once nothing may be doubled.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { Admin, Kafka } from 'kafkajs'
import { TaskCheckpoint } from '../../../state/index.js'
import { testKafka, uniqueTopic } from '../../kafka.js'
import { startInstance, type CliInstance, type LogLine } from './cli-instance.js'
import { createTopicPair, produceRequests, readCounts, sameCounts, sorted, type Counts, TempStateDirs } from './request-fixtures.js'

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()
const running: CliInstance[] = []
const newStateDir = (): string => stateDirs.create()

before(async () => {
  kafka = testKafka('crash-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  for (const instance of running) instance.kill('SIGKILL')
  await admin.disconnect()
  stateDirs.removeAll()
})

const topics = (partitions: number): Promise<{ input: string; output: string }> => createTopicPair(admin, partitions)

const isRunning = (l: LogLine): boolean => l.msg === 'state change' && l.to === 'running'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
/** At-least-once: every expected result is there, none smaller (a replay may only add). */
const noneMissing = (expected: Counts) => (latest: Counts): boolean => [...expected].every(([k, v]) => (latest.get(k) ?? 0) >= v)

function launch(file: string, applicationId: string, stateDir: string, t: { input: string; output: string }, settings: Record<string, unknown> = {}): CliInstance {
  const instance = startInstance({
    topologyFile: file,
    applicationId,
    stateDir,
    env: { INPUT_TOPIC: t.input, OUTPUT_TOPIC: t.output },
    settings: { commitIntervalMs: 200, sessionTimeoutMs: 6_000, ...settings },
  })
  running.push(instance)
  return instance
}

describe('crash recovery', () => {
  test('a restart after SIGKILL restores from the checkpoint, not from offset zero; SIGTERM exits 0', async () => {
    const t = await topics(2)
    const applicationId = uniqueTopic('crash-restart')
    const stateDir = newStateDir()
    const first = launch('examples/tenant-request-counts.ts', applicationId, stateDir, t)
    await first.waitForLog(isRunning)
    const expected = await produceRequests(kafka, t.input, 0, 400, 5)
    await readCounts(kafka, t.output, sameCounts(expected))
    await sleep(1_000) // several commits: the checkpoints now cover that state
    await produceRequests(kafka, t.input, 400, 300, 5, expected)
    first.kill('SIGKILL')
    await first.exited

    // What a restart must restore: the changelog records after each task's checkpoint.
    const store = 'requests-per-tenant-store'
    let checkpointed = 0
    let afterCheckpoint = 0
    for (const { partition, offset } of await admin.fetchTopicOffsets(`${applicationId}-${store}-changelog`)) {
      const checkpoint = await TaskCheckpoint.read(join(stateDir, applicationId, `0_${partition}`))
      const at = checkpoint.offset(store) ?? 0
      checkpointed += at
      afterCheckpoint += Number(offset) - at
    }
    assert.ok(checkpointed > 0, 'the killed instance left checkpoints behind')

    const second = launch('examples/tenant-request-counts.ts', applicationId, stateDir, t)
    await second.waitForLog(isRunning)
    const restored = second.logs.filter((l) => l.msg === 'task running').reduce((sum, l) => sum + Number(l.restored), 0)
    assert.equal(restored, afterCheckpoint, `restored exactly the ${afterCheckpoint} changelog records after the checkpoints (of ${checkpointed + afterCheckpoint})`)

    const { latest } = await readCounts(kafka, t.output, noneMissing(expected))
    assert.ok(noneMissing(expected)(latest), 'no count is missing or short after the crash')

    second.kill('SIGTERM')
    assert.equal(await second.exited, 0, 'SIGTERM closes gracefully with exit code 0')

    // After a clean stop nothing is left to reprocess, so a restarted task knows its stream time only
    // from the committed offsets' metadata.
    const third = launch('examples/tenant-request-counts.ts', applicationId, stateDir, t)
    await third.waitForLog(isRunning)
    // Stream time came back with the task: a record for the first window, long
    // closed, is dropped as late instead of reopening it; a record after it lands normally.
    const firstWindow = 'tenant-0@2026-03-01T00:00:00.000Z'
    const before = latest.get(firstWindow)
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({
      topic: t.input,
      messages: [
        { key: 'tenant-0', value: JSON.stringify({ tenant_id: 'tenant-0', timestamp: '2026-03-01T00:00:05.000Z' }) },
        { key: 'tenant-0', value: JSON.stringify({ tenant_id: 'tenant-0', timestamp: '2026-03-01T01:00:00.000Z' }) },
      ],
    })
    await producer.disconnect()
    const after = await readCounts(kafka, t.output, (l) => l.get('tenant-0@2026-03-01T01:00:00.000Z') === 1)
    assert.equal(after.latest.get('tenant-0@2026-03-01T01:00:00.000Z'), 1)
    assert.equal(after.latest.get(firstWindow), before, 'the late record did not reopen its closed window')

    third.kill('SIGTERM')
    assert.equal(await third.exited, 0)
  })

  test('at-least-once: one of two instances is SIGKILLed mid-stream and no result is missing', async () => {
    const t = await topics(4)
    const applicationId = uniqueTopic('crash-alos')
    const a = launch('examples/tenant-request-counts.ts', applicationId, newStateDir(), t)
    const b = launch('examples/tenant-request-counts.ts', applicationId, newStateDir(), t)
    await Promise.all([a.waitForLog(isRunning), b.waitForLog(isRunning)])
    const expected = await produceRequests(kafka, t.input, 0, 500, 8)
    await produceRequests(kafka, t.input, 500, 300, 8, expected)
    b.kill('SIGKILL')
    await produceRequests(kafka, t.input, 800, 300, 8, expected)
    await a.waitForLog((l) => l.msg === 'assignment received' && Array.isArray(l.assigned) && l.assigned.length === 4, 60_000)
    const { latest } = await readCounts(kafka, t.output, noneMissing(expected), { timeoutMs: 60_000 })
    const missing = [...expected].filter(([k, v]) => (latest.get(k) ?? 0) < v)
    assert.deepEqual(missing, [], 'no window count is missing or short')
    a.kill('SIGTERM')
    assert.equal(await a.exited, 0)
  })

  test('exactly-once: after a SIGKILL mid-stream, read_committed output has each final result exactly once', async () => {
    const t = await topics(4)
    const applicationId = uniqueTopic('crash-eos')
    const settings = { processingGuarantee: 'exactly-once', commitIntervalMs: 100 }
    const file = 'test/integration/runtime/topologies/final-counts.ts'
    const a = launch(file, applicationId, newStateDir(), t, settings)
    const b = launch(file, applicationId, newStateDir(), t, settings)
    await Promise.all([a.waitForLog(isRunning), b.waitForLog(isRunning)])
    const expected = await produceRequests(kafka, t.input, 0, 600, 8)
    await produceRequests(kafka, t.input, 600, 300, 8, expected)
    b.kill('SIGKILL')
    await produceRequests(kafka, t.input, 900, 300, 8, expected)
    // Close every window on every partition: a record far later in event time.
    const closer = kafka.producer()
    await closer.connect()
    await closer.send({
      topic: t.input,
      messages: [0, 1, 2, 3].map((partition) => ({ partition, key: 'closer', value: JSON.stringify({ tenant_id: 'closer', timestamp: '2026-03-02T00:00:00Z' }) })),
    })
    await closer.disconnect()

    const { latest, all } = await readCounts(kafka, t.output, sameCounts(expected), { timeoutMs: 90_000 })
    assert.deepEqual(sorted(latest), sorted(expected))
    const doubled = [...all].filter(([, values]) => values.length !== 1)
    assert.deepEqual(doubled, [], 'each window result appears exactly once')
    a.kill('SIGTERM')
    assert.equal(await a.exited, 0)
  })
})
