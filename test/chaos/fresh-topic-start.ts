/**
 * Reproduces chaos finding F1 (test/chaos/README.md): on a 3-broker KRaft cluster, an instance
 * started right after its topics were created, and waited for through one broker, fails at start
 * when it asks another broker that has not yet replayed the creation ("do not exist", or "This
 * server does not host this topic-partition" when listTopics and the metadata request reach
 * different brokers). Prints each failed start and the count.
 *
 *   SENTINEL_RUN_DIR=/tmp/run-<you> npm run kafka:start -- --brokers 3
 *   SENTINEL_RUN_DIR=/tmp/run-<you> npx tsx test/chaos/fresh-topic-start.ts
 */
// First, as the runtime's entry points: kafkajs must load with the project's replacements.
import '../../runtime/kafka/kafkajs-replacements.js'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import pino from 'pino'
import topology from './topology.js'
import { waitForFullIsr } from './cluster-topics.js'
import { SentinelStreams } from '../../runtime/kafka/sentinel-streams.js'
import { resolveBrokers } from '../../runtime/local-broker.js'
const brokers = resolveBrokers()!
let fails = 0
const rounds = Number(process.argv[2] ?? 8)
for (let round = 0; round < rounds; round++) {
  const id = `repro-${Date.now().toString(36)}`
  // Created through node 1 only; the instance bootstraps through another node.
  const admin = new Kafka({ brokers: [brokers[0]!], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  const t = { CHAOS_INPUT: `${id}-in`, CHAOS_ECHO: `${id}-echo`, CHAOS_TOTALS: `${id}-totals`, CHAOS_WINDOWS: `${id}-windows` }
  await admin.createTopics({ waitForLeaders: false, topics: Object.values(t).map((topic) => ({ topic, numPartitions: 6 })) })
  await waitForFullIsr(admin, Object.values(t))
  Object.assign(process.env, t)
  const s = new SentinelStreams(topology(), { applicationId: id, brokers: [brokers[round % 3]!], stateDir: mkdtempSync(join(tmpdir(), 'repro-')), processingGuarantee: 'exactly-once' }, { logger: pino({ level: 'silent' }) })
  try {
    await s.start()
  } catch (e) {
    fails++
    console.log(`round ${round}: ${(e as Error).message.split('\n')[0]}`)
  }
  await s.close()
  await admin.disconnect()
}
console.log(JSON.stringify({ rounds, failedStarts: fails }))
process.exit(0)
