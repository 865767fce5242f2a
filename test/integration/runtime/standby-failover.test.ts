/**
 * Standby replicas on the real broker, with real crashes: instance B keeps warm copies of instance
 * A's tasks; A is SIGKILLed, B takes its tasks over and restores only the changelog's tail, and the
 * counts stay right. The same run without a standby restores the whole changelog (the control arm:
 * it shows the assertion on the restored count can fail).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { Admin, Kafka } from 'kafkajs'
import { TaskCheckpoint } from '../../../state/index.js'
import { testKafka, uniqueTopic } from '../../kafka.js'
import { startInstance, type CliInstance, type LogLine } from './cli-instance.js'
import { createTopicPair, readCounts, type Counts, TempStateDirs } from './request-fixtures.js'

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()
const running: CliInstance[] = []
const STORE = 'requests-per-tenant-store'
const FILE = 'examples/tenant-request-counts.ts'

before(async () => {
  kafka = testKafka('standby-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  for (const instance of running) instance.kill('SIGKILL')
  await admin.disconnect()
  stateDirs.removeAll()
})

const WINDOW = '2026-03-01T00:00:00.000Z'

/**
 * Events of tenants `from` .. `from + count - 1`, one each, all in the same one-minute window: every
 * event is a key of its own in the window store, and none expires (a backlog spread over hours
 * would leave only its last windows in the store and the changelog).
 */
async function produceTenants(from: number, count: number, topic: string, expected: Counts): Promise<void> {
  const producer = kafka.producer()
  await producer.connect()
  const messages = Array.from({ length: count }, (_, j) => {
    const tenant = `tenant-${from + j}`
    expected.set(`${tenant}@${WINDOW}`, 1)
    return { key: tenant, value: JSON.stringify({ tenant_id: tenant, timestamp: new Date(Date.parse(WINDOW) + (j % 50) * 1000).toISOString() }) }
  })
  await producer.send({ topic, messages })
  await producer.disconnect()
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const noneMissing =
  (expected: Counts) =>
  (latest: Counts): boolean =>
    [...expected].every(([k, v]) => (latest.get(k) ?? 0) >= v)
const assignedAll =
  (count: number) =>
  (l: LogLine): boolean =>
    l.msg === 'assignment received' && Array.isArray(l.assigned) && l.assigned.length === count

function launch(applicationId: string, stateDir: string, t: { input: string; output: string }, settings: Record<string, unknown>): CliInstance {
  const instance = startInstance({
    topologyFile: FILE,
    applicationId,
    stateDir,
    env: { INPUT_TOPIC: t.input, OUTPUT_TOPIC: t.output },
    settings: { commitIntervalMs: 200, sessionTimeoutMs: 6_000, ...settings },
  })
  running.push(instance)
  return instance
}

/** The changelog's end offset per partition. */
async function changelogEnds(applicationId: string): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(`${applicationId}-${STORE}-changelog`)).map((o) => [o.partition, Number(o.high)]))
}

/** Waits until B's standby checkpoints of `tasks` reach the changelog's end (a standby that never catches up fails here). */
async function standbysCaughtUp(stateDir: string, applicationId: string, tasks: readonly string[], exactlyOnce: boolean): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const ends = await changelogEnds(applicationId)
    const behind: string[] = []
    for (const task of tasks) {
      const at = (await TaskCheckpoint.read(join(stateDir, applicationId, task))).offset(STORE) ?? 0
      const end = ends.get(Number(task.split('_')[1]))!
      // Under exactly-once the changelog ends with a commit marker, which is no record to apply.
      if (at < end - (exactlyOnce ? 1 : 0)) behind.push(`${task}: ${at} < ${end}`)
    }
    if (behind.length === 0) return
    assert.ok(Date.now() < deadline, `standbys never caught up: ${behind.join(', ')}`)
    await sleep(250)
  }
}

const arms = [
  { standbys: 1, processingGuarantee: 'at-least-once' },
  { standbys: 0, processingGuarantee: 'at-least-once' },
  { standbys: 1, processingGuarantee: 'exactly-once' },
] as const

for (const { standbys, processingGuarantee } of arms) {
  const exactlyOnce = processingGuarantee === 'exactly-once'
  describe(`${processingGuarantee}: failover with numStandbyReplicas ${standbys}`, () => {
    test(
      standbys > 0 ? 'the survivor restores only the tail from its standby, and no count is missing' : 'the survivor restores the whole changelog (control)',
      { timeout: 180_000 },
      async () => {
        const t = await createTopicPair(admin, 4)
        const applicationId = uniqueTopic(`standby-${standbys}`)
        const settings = { numStandbyReplicas: standbys, processingGuarantee, ...(exactlyOnce ? { commitIntervalMs: 100 } : {}) }
        const a = launch(applicationId, stateDirs.create(), t, settings)
        await a.waitForLog((l) => l.msg === 'state change' && l.to === 'running')
        const dirB = stateDirs.create()
        const b = launch(applicationId, dirB, t, settings)
        const split = await a.waitForLog(assignedAll(2))
        await b.waitForLog(assignedAll(2))
        const tasksOfA = split.assigned as string[]
        if (standbys > 0) for (const task of tasksOfA) await b.waitForLog((l) => l.msg === 'standby opened' && l.task === task)

        const expected: Counts = new Map()
        await produceTenants(0, 3_000, t.input, expected)
        await readCounts(kafka, t.output, noneMissing(expected), { timeoutMs: 60_000 })
        if (standbys > 0) await standbysCaughtUp(dirB, applicationId, tasksOfA, exactlyOnce)
        const endsAtKill = await changelogEnds(applicationId)
        const stateOfA = tasksOfA.reduce((sum, task) => sum + endsAtKill.get(Number(task.split('_')[1]))!, 0)
        assert.ok(stateOfA > 1_000, `A's tasks hold a changelog worth restoring (${stateOfA} records)`)

        a.kill('SIGKILL')
        await a.exited
        await produceTenants(3_000, 600, t.input, expected)
        await b.waitForLog(assignedAll(4), 60_000)
        const restoredOf = async (task: string): Promise<number> =>
          Number((await b.waitForLog((l) => l.msg === 'task running' && l.task === task, 60_000)).restored)
        let restored = 0
        for (const task of tasksOfA) restored += await restoredOf(task)
        if (standbys > 0) {
          for (const task of tasksOfA)
            assert.ok(
              b.logs.some((l) => l.msg === 'standby closed' && l.task === task),
              `B's standby of ${task} handed over`,
            )
          assert.ok(restored < stateOfA / 20, `restored only the tail: ${restored} of ${stateOfA} records`)
        } else {
          assert.equal(restored, stateOfA, `restored the whole changelog of A's tasks`)
        }

        const { latest } = await readCounts(kafka, t.output, noneMissing(expected), { timeoutMs: 60_000 })
        const missing = [...expected].filter(([k, v]) => (latest.get(k) ?? 0) < v)
        assert.deepEqual(missing, [], 'no window count is missing or short after the failover')
        if (exactlyOnce) {
          // A standby holding state of an aborted transaction would count an event twice.
          const doubled = [...expected].filter(([k, v]) => latest.get(k) !== v)
          assert.deepEqual(doubled, [], 'exactly-once: every count is exact after the failover')
        }
        b.kill('SIGTERM')
        assert.equal(await b.exited, 0)
      },
    )
  })
}
