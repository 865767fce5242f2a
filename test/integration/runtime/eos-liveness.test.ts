/**
 * Exactly-once liveness (issue 18): a task fenced by a zombie initialisation while the group still
 * assigns it here must not wait for a rebalance that never comes, and instances started together
 * against freshly created topics must process every partition.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka } from 'kafkajs'
import pino from 'pino'
import tenantRequestCounts from '../../../examples/tenant-request-counts.js'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { kafkaBrokers, testKafka, uniqueTopic } from '../../kafka.js'
import { createTopicPair, produceRequests, readCounts, sameCounts, TempStateDirs, type Counts } from './request-fixtures.js'

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()

before(async () => {
  kafka = testKafka('eos-liveness-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  await admin.disconnect()
  stateDirs.removeAll()
})

type LogLine = Record<string, unknown>

function instance(t: { input: string; output: string }, applicationId: string, lines: LogLine[]): SentinelStreams {
  process.env.INPUT_TOPIC = t.input
  process.env.OUTPUT_TOPIC = t.output
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) })
  return new SentinelStreams(
    tenantRequestCounts(),
    { applicationId, brokers: kafkaBrokers(), stateDir: stateDirs.create(), processingGuarantee: 'exactly-once', commitIntervalMs: 100, sessionTimeoutMs: 6_000, taskStallTimeoutMs: 20_000 },
    { logger },
  )
}

/** What went wrong, for a failure message: the instance's warnings and errors. */
const notable = (lines: readonly LogLine[]): string =>
  lines
    .filter((l) => Number(l.level) >= 40)
    .map((l) => `${String(l.level)} ${String(l.task ?? '')} ${String(l.msg)} ${String((l.err as { message?: string } | undefined)?.message ?? l.error ?? '')}`)
    .join('\n')

const missing = (expected: Counts, latest: Counts): string[] => [...expected].filter(([k, v]) => latest.get(k) !== v).map(([k]) => k)

describe('exactly-once liveness', () => {
  test('a task fenced by another producer with its transactional id, still assigned here, recovers and processes its partition', async () => {
    const t = await createTopicPair(admin, 2)
    const applicationId = uniqueTopic('eos-fenced')
    const lines: LogLine[] = []
    const streams = instance(t, applicationId, lines)
    await streams.start()
    try {
      await streams.waitForState('running')
      const expected = await produceRequests(kafka, t.input, 0, 200, 4)
      await readCounts(kafka, t.output, sameCounts(expected))

      // What a retried initTransactions of a revoked instance does: bump the epoch of `<app>-0_0`.
      const zombie = kafka.producer({ transactionalId: `${applicationId}-0_0`, idempotent: true, maxInFlightRequests: 1 })
      await zombie.connect()
      await zombie.transaction()
      await zombie.disconnect()

      await produceRequests(kafka, t.input, 200, 200, 4, expected)
      const { latest } = await readCounts(kafka, t.output, sameCounts(expected), { timeoutMs: 60_000 })
      assert.deepEqual(missing(expected, latest), [], `every window of both partitions is counted, once; warnings and errors:\n${notable(lines)}`)
      assert.ok(
        lines.some((l) => l.msg === 'task fenced, but the group still assigns it to this instance: re-initialising it' && l.task === '0_0'),
        'the fence was seen and handled by re-initialising',
      )
      assert.deepEqual(
        streams.tasks().map((task) => `${task.id}:${task.state}`).sort(),
        ['0_0:running', '0_1:running'],
        'both tasks still here (no rebalance was needed) and running',
      )
      assert.deepEqual(lines.filter((l) => l.level === 50), [], 'nothing logged at error: the fence was handled')
    } finally {
      await streams.close()
    }
  })

  test('instances started at once right after the topics are created process every partition', async () => {
    const t = await createTopicPair(admin, 6)
    const applicationId = uniqueTopic('eos-simultaneous')
    const logs: LogLine[][] = [[], [], []]
    const instances = logs.map((lines) => instance(t, applicationId, lines))
    await Promise.all(instances.map((i) => i.start()))
    try {
      // Records for all six partitions while the group is still settling.
      const expected = await produceRequests(kafka, t.input, 0, 600, 12)
      const { latest } = await readCounts(kafka, t.output, sameCounts(expected), { timeoutMs: 60_000 })
      assert.deepEqual(missing(expected, latest), [], `every partition processed within 60 s; warnings and errors:\n${notable(logs.flat())}`)
      // kafkajs' own lines included: rebalancing heartbeats and internal-topic creation races are routine.
      const errors = logs.flat().filter((l) => l.level === 50)
      assert.deepEqual(errors, [], 'no instance logged an error (a stalled or fenced task, or a routine kafkajs retry)')
      assert.equal(new Set(instances.flatMap((i) => i.tasks().map((task) => task.id))).size, 6, 'all six tasks run somewhere')
      for (const i of instances) assert.equal((await i.metrics.stalledTasks.get()).values[0]?.value ?? 0, 0, 'no stalled task reported')
    } finally {
      await Promise.all(instances.map((i) => i.close()))
    }
  })
})
