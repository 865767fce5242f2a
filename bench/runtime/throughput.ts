/**
 * End-to-end throughput on one instance against the local broker, beside the raw kafkajs
 * consume-only rate of the same input in the same run:
 *
 *   npx tsx bench/runtime/throughput.ts [--events 300000] [--partitions 4] [--runs 3]
 *
 * The topology is a windowed aggregate with RocksDB state and changelogs (per model and minute:
 * request count and latency sum), writing its updates to an output topic, at-least-once, with the
 * runtime's defaults (so the forwarding cache sends the latest value per window and commit).
 * Each figure is the median of `--runs` runs; results go to bench/runtime/RESULTS.md.
 */
// First, as the runtime's entry points: kafkajs must load with the project's replacements.
import '../../runtime/kafka/kafkajs-replacements.js'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import kafkajs from 'kafkajs'
import { resolveBrokers } from '../../runtime/local-broker.js'
import { fillTopic, UNLIMITED_RETENTION } from './input.js'
import { topologyRate } from './topology-rate.js'
import { rawConsumeRate } from './raw-consume.js'

const { Kafka, logLevel } = kafkajs

const { values } = parseArgs({
  options: { events: { type: 'string', default: '300000' }, partitions: { type: 'string', default: '4' }, runs: { type: 'string', default: '3' } },
})
const events = Number(values.events)
const partitions = Number(values.partitions)
const runs = Number(values.runs)
const brokers = resolveBrokers()
if (!brokers) throw new Error('no broker: run `npm run kafka:start` first, or set KAFKA_BROKERS')

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING })
const admin = kafka.admin()
const producer = kafka.producer()
await admin.connect()
await producer.connect()
const raw: number[] = []
const topology: number[] = []
const produce: number[] = []
// Deleted only at the end: kafkajs' producer keeps refreshing metadata of every topic it has sent
// to, and fails the next run's send with UNKNOWN_TOPIC_OR_PARTITION once one of them is deleted.
const created: string[] = []
try {
  for (let run = 1; run <= runs; run++) {
    const input = `bench-in-${randomBytes(4).toString('hex')}`
    const output = `bench-out-${randomBytes(4).toString('hex')}`
    created.push(input, output)
    produce.push(await fillTopic(admin, producer, input, events, partitions))
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: output, numPartitions: partitions, configEntries: UNLIMITED_RETENTION }] })
    raw.push(await rawConsumeRate(kafka, input, events))
    topology.push(await topologyRate({ brokers, input, output, events }))
    console.error(`run ${run}/${runs}: raw ${Math.round(raw.at(-1)!)} ev/s, topology ${Math.round(topology.at(-1)!)} ev/s`)
  }
} finally {
  await producer.disconnect()
  await admin.deleteTopics({ topics: created }).catch(() => undefined)
  await admin.disconnect()
}

const rawMedian = median(raw)
const topologyMedian = median(topology)
const ratio = topologyMedian / rawMedian
const report = `# Runtime throughput (bench/runtime/throughput.ts)

Measured ${new Date().toISOString().slice(0, 10)} on the project machine (2 cores), local Kafka 3.9.1 broker,
${events} JSON events on ${partitions} partitions (keys spread evenly, retention off), one instance, at-least-once, RocksDB state, changelogs on.
Median of ${runs} runs, raw and topology on the same input in the same run.

| what | events/s (median) | runs |
|---|---|---|
| produce (kafkajs, 1K-record sends) | ${Math.round(median(produce))} | ${produce.map(Math.round).join(', ')} |
| raw kafkajs consume (eachBatch + JSON.parse) | ${Math.round(rawMedian)} | ${raw.map(Math.round).join(', ')} |
| windowed aggregate topology, end to end | ${Math.round(topologyMedian)} | ${topology.map(Math.round).join(', ')} |

Topology / raw consume: **${(ratio * 100).toFixed(0)}%**.
`
writeFileSync(new URL('./RESULTS.md', import.meta.url), report)
console.log(report)
console.log(`BENCH runtime raw=${Math.round(rawMedian)} topology=${Math.round(topologyMedian)} ratio=${ratio.toFixed(2)}`)
process.exit(0)
