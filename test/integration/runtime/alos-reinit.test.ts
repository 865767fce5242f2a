/**
 * At-least-once, a task restarted in place after a failed commit (windowed-count.test.ts' CI
 * flake): the commit's changelog records landed, its consumer offsets did not. The task goes back
 * to the committed offsets and processes that input again; its stores must come back as of the
 * last commit, not with the changelog records of that input, or it is counted twice (a window
 * counted 18 where 9 were expected).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka } from 'kafkajs'
import pino from 'pino'
import tenantRequestCounts from '../../../examples/tenant-request-counts.js'
import { ActiveTask } from '../../../runtime/kafka/active-task.js'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { kafkaBrokers, testKafka, uniqueTopic, waitUntil } from '../../kafka.js'
import { createTopicPair, produceRequests, readCounts, sorted, TempStateDirs } from './request-fixtures.js'

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()

before(async () => {
  kafka = testKafka('alos-reinit-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  await admin.disconnect()
  stateDirs.removeAll()
})

test('at-least-once: a commit that fails after its changelog landed does not count the replayed input twice', async () => {
  const t = await createTopicPair(admin, 3)
  // Before the start: each partition's records arrive in one batch, so task 0_1's first commit
  // carries all of them and nothing of that partition is committed before the injected failure.
  const expected = await produceRequests(kafka, t.input, 0, 600, 7)
  const realFlush = ActiveTask.prototype.flushState
  let injected = false
  ActiveTask.prototype.flushState = async function (this: ActiveTask): Promise<void> {
    await realFlush.call(this)
    if (this.id === '0_1' && !injected && this.pendingOffsets().length > 0) {
      injected = true
      throw new Error('injected: the flush landed, the commit fails before the offsets')
    }
  }
  const lines: Record<string, unknown>[] = []
  process.env.INPUT_TOPIC = t.input
  process.env.OUTPUT_TOPIC = t.output
  const streams = new SentinelStreams(
    tenantRequestCounts(),
    { applicationId: uniqueTopic('alos-reinit'), brokers: kafkaBrokers(), stateDir: stateDirs.create(), commitIntervalMs: 200 },
    { logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) },
  )
  await streams.start()
  try {
    const running01 = (): number => lines.filter((l) => l.msg === 'task running' && l.task === '0_1').length
    await waitUntil(
      () => running01() >= 2,
      () => `task 0_1 re-initialised after the injected failure (injected: ${injected})`,
    )
    const reinit = lines.find((l) => l.msg === 'task commit failed: re-initialising it from its changelog and last committed offsets')
    assert.equal(reinit?.task, '0_1')
    // Partition 1 holds tenant-0 and tenant-1: their results come twice (once before the failure,
    // once from the replay); wait for the replay's, then every count must be the expected one.
    const replayed = [...expected.keys()].filter((k) => k.startsWith('tenant-0@') || k.startsWith('tenant-1@'))
    const { latest, all } = await readCounts(kafka, t.output, (_, all) => replayed.every((k) => (all.get(k)?.length ?? 0) >= 2), { timeoutMs: 30_000 })
    assert.deepEqual(sorted(latest), sorted(expected), `counts after the replay; histories: ${JSON.stringify(replayed.map((k) => [k, all.get(k)]))}`)
  } finally {
    await streams.close()
    ActiveTask.prototype.flushState = realFlush
  }
})
