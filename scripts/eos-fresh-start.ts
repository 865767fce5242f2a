/**
 * Reproduces issue 18's exactly-once stall as it was seen: a brand-new broker (its transaction
 * coordinator still loading when the first InitProducerId arrives), topics created, one instance
 * started and given every task, two more ~1 s later taking tasks away while the first is still
 * retrying initTransactions. Records for all partitions go in; a round stalls if any partition's
 * results are missing after the bound.
 *
 *   SENTINEL_RUN_DIR=/tmp/sentinel-run-eos-fresh npx tsx scripts/eos-fresh-start.ts [rounds=5] [boundMs=60000]
 *
 * Starts and stops its own broker per round, in SENTINEL_RUN_DIR (so never reuse a shared one).
 */
// First, as the runtime's entry points: kafkajs must load with the project's replacements.
import '../runtime/kafka/kafkajs-replacements.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import pino from 'pino'
import tenantRequestCounts from '../examples/tenant-request-counts.js'
import { SentinelStreams } from '../runtime/kafka/sentinel-streams.js'
import { createTopicsWithLeaders } from '../runtime/internal-topics.js'
import { startBroker, stopBroker } from './kafka-broker.js'

const rounds = Number(process.argv[2] ?? 5)
const boundMs = Number(process.argv[3] ?? 60_000)
/** How long after the first instance the others start. */
const laterMs = Number(process.argv[4] ?? 1_000)
const PARTITIONS = 6
const RECORDS = 600
const TENANTS = 12
const START = Date.parse('2026-03-01T00:00:00Z')

if (!process.env.SENTINEL_RUN_DIR) {
  console.error('set SENTINEL_RUN_DIR to a directory of your own: this script starts and stops a broker per round')
  process.exit(2)
}

type Line = Record<string, unknown>

async function round(n: number): Promise<{ stalled: boolean; missing: number; fenced: number; recovered: number; revokedWhileRestoring: number; transient: number; errors: string[] }> {
  const brokers = await startBroker()
  const kafka = new Kafka({ clientId: 'repro', brokers: [brokers], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const input = `requests-${n}`
  const output = `counts-${n}`
  // Not kafkajs' waitForLeaders: it retries LEADER_NOT_AVAILABLE only, and a broker this fresh and
  // this loaded answers UNKNOWN_TOPIC_OR_PARTITION for a while (it killed round 7 of a 50-round run).
  await createTopicsWithLeaders(admin, [{ topic: input, numPartitions: PARTITIONS }, { topic: output, numPartitions: PARTITIONS }], 60_000)
  process.env.INPUT_TOPIC = input
  process.env.OUTPUT_TOPIC = output
  const lines: Line[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) })
  const stateDirs: string[] = []
  const make = (): SentinelStreams => {
    const stateDir = mkdtempSync(join(tmpdir(), 'eos-repro-'))
    stateDirs.push(stateDir)
    return new SentinelStreams(
      tenantRequestCounts(),
      { applicationId: `repro-${n}`, brokers: [brokers], stateDir, processingGuarantee: 'exactly-once', commitIntervalMs: 100, sessionTimeoutMs: 10_000, taskStallTimeoutMs: boundMs },
      { logger },
    )
  }
  const first = make()
  await first.start()
  await new Promise((r) => setTimeout(r, laterMs))
  const others = [make(), make()]
  await Promise.all(others.map((o) => o.start()))

  const expected = new Map<string, number>()
  const producer = kafka.producer()
  await producer.connect()
  const messages = Array.from({ length: RECORDS }, (_, i) => {
    const tenant = `tenant-${i % TENANTS}`
    const at = START + i * 1000
    const key = `${tenant}@${new Date(at - (at % 60_000)).toISOString()}`
    expected.set(key, (expected.get(key) ?? 0) + 1)
    return { key: tenant, value: JSON.stringify({ tenant_id: tenant, timestamp: new Date(at).toISOString() }) }
  })
  await producer.send({ topic: input, messages })
  await producer.disconnect()

  const latest = new Map<string, number>()
  const reader = kafka.consumer({ groupId: `reader-${n}` })
  await reader.connect()
  await reader.subscribe({ topic: output, fromBeginning: true })
  await reader.run({ eachMessage: async ({ message }) => void latest.set(String(message.key), Number(String(message.value))) })
  const deadline = Date.now() + boundMs
  const done = (): boolean => [...expected].every(([k, v]) => latest.get(k) === v)
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250))
  const missing = [...expected].filter(([k, v]) => latest.get(k) !== v).length
  await reader.disconnect()
  await Promise.all([first, ...others].map((i) => i.close()))
  await admin.disconnect()
  await stopBroker()
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true })
  const fenced = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('fenced')).length
  const recovered = lines.filter((l) => l.msg === 'task fenced, but the group still assigns it to this instance: re-initialising it').length
  const errors = [...new Set(lines.filter((l) => l.level === 50 && l.logger !== 'kafkajs').map((l) => String(l.msg)))]
  const count = (msg: string): number => lines.filter((l) => l.msg === msg).length
  const revokedWhileRestoring = count('initialisation of a revoked task abandoned') + count('initialisation of a revoked task failed; dropped')
  const transient = count('task initialisation hit a transient error: retrying')
  return { stalled: missing > 0, missing, fenced, recovered, revokedWhileRestoring, transient, errors }
}

let stalls = 0
for (let n = 1; n <= rounds; n++) {
  const result = await round(n)
  if (result.stalled) stalls++
  console.log(JSON.stringify({ round: n, ...result }))
}
console.log(JSON.stringify({ rounds, stalls, boundMs }))
process.exit(0)
