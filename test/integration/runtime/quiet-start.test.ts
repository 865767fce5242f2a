/**
 * Quiet when healthy (issue 18, item 3): two exactly-once instances starting together on a healthy
 * broker, with fresh topics of several partitions and a new application id, log nothing at error
 * level (pino level >= 50). kafkajs' own lines count too: they reach the instance's logger through
 * the runtime's `logCreator` (runtime/kafka/kafkajs-log.ts), and the test also checks that none of
 * them went to kafkajs' default console logger instead, where this assertion would not see them.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Admin, Kafka } from 'kafkajs'
import pino from 'pino'
import tenantRequestCounts from '../../../examples/tenant-request-counts.js'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { kafkaBrokers, testKafka, uniqueTopic } from '../../kafka.js'
import { createTopicPair, produceRequests, readCounts, sameCounts, TempStateDirs } from './request-fixtures.js'

const PARTITIONS = 4

let kafka: Kafka
let admin: Admin
const stateDirs = new TempStateDirs()

before(async () => {
  kafka = testKafka('quiet-start-it')
  admin = kafka.admin()
  await admin.connect()
})
after(async () => {
  await admin.disconnect()
  stateDirs.removeAll()
})

type LogLine = { level: number; msg?: string; kafkajs?: string; [field: string]: unknown }

/** Lines kafkajs' default logger prints: JSON with `"logger":"kafkajs"`, through console.* (kafkajs' LoggerConsole). */
function captureKafkajsConsole(): { lines: string[]; restore: () => void } {
  const lines: string[] = []
  const methods = ['error', 'warn', 'info', 'log'] as const
  const originals = methods.map((m) => console[m])
  for (const m of methods) {
    const original = console[m]
    console[m] = (...args: unknown[]) => {
      const text = args.map(String).join(' ')
      if (text.includes('"logger":"kafkajs"')) lines.push(text)
      original.apply(console, args)
    }
  }
  return { lines, restore: () => methods.forEach((m, i) => (console[m] = originals[i]!)) }
}

const describeLine = (l: LogLine): string =>
  `${l.level} ${l.kafkajs ? `[kafkajs ${l.kafkajs}] ` : ''}${String(l.msg)} ${String((l.err as { message?: string } | undefined)?.message ?? l.error ?? '')}`

describe('a clean start on a healthy cluster', () => {
  test('two exactly-once instances starting together log nothing at error level, kafkajs included', async () => {
    const t = await createTopicPair(admin, PARTITIONS)
    const applicationId = uniqueTopic('quiet-start')
    process.env.INPUT_TOPIC = t.input
    process.env.OUTPUT_TOPIC = t.output
    const logs: LogLine[][] = [[], []]
    const consoleCapture = captureKafkajsConsole()
    // Level trace: every line the runtime and kafkajs produce is seen, so a level-50 one cannot hide.
    const instances = logs.map(
      (lines) =>
        new SentinelStreams(
          tenantRequestCounts(),
          { applicationId, brokers: kafkaBrokers(), stateDir: stateDirs.create(), processingGuarantee: 'exactly-once', commitIntervalMs: 100 },
          { logger: pino({ level: 'trace' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }) },
        ),
    )
    try {
      await Promise.all(instances.map((i) => i.start()))
      await Promise.all(instances.map((i) => i.waitForState('running', 60_000)))
      // Records on every partition, so every task's producer opens and commits transactions.
      const expected = await produceRequests(kafka, t.input, 0, 400, 8)
      const { latest } = await readCounts(kafka, t.output, sameCounts(expected), { timeoutMs: 60_000 })
      assert.ok(sameCounts(expected)(latest), 'every window counted: the start really processed and committed')
      assert.equal(new Set(instances.flatMap((i) => i.tasks().map((task) => task.id))).size, PARTITIONS, 'every task runs on one of the two')
    } finally {
      await Promise.all(instances.map((i) => i.close()))
      consoleCapture.restore()
    }
    const all = logs.flat()
    const errors = all.filter((l) => l.level >= 50)
    const warnings = all.filter((l) => l.level === 40)
    assert.deepEqual(errors.map(describeLine), [], `nothing at error level or above; the warnings were:\n${warnings.map(describeLine).join('\n')}`)
    assert.deepEqual(consoleCapture.lines, [], "kafkajs logged through the instance's logger, not its own console logger")
  })
})
