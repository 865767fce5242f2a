/**
 * The whole LLM-Sentinel app topology on one SentinelStreams instance over a Kafka input filled
 * before it starts: how fast the Kafka path runs it, and what it writes to Kafka per event. The HTTP
 * edge is not in it (bench/sentinel/run.ts --sweep measures the app with its edge, at fixed loads).
 *
 *   npx tsx bench/sentinel/kafka-topology.ts [--hours 8] [--runs 3] [--guarantee at-least-once]
 *     [--commit-interval 200|default]
 *
 * Kafka: KAFKA_BROKERS, the local broker if one runs, or one started here. Each run has fresh topics
 * of one partition (the generator's event-time order holds through the repartitions: app-backend.ts)
 * and a fresh state directory. The commit interval is the demo's 200 ms unless `--commit-interval`
 * says otherwise (`default`: the runtime's own, as `sentinel-streams run` has it). The clock runs from the instance reaching `running` to the moment it
 * has consumed the whole input and, from every topic it writes and reads back (repartitions, the
 * anomalies the alerting reads), as many records as it wrote: everything in flight is processed.
 *
 * Each run prints events/s, events per CPU-second of this process (steadier on a shared machine:
 * two builds compare by it), the records written to Kafka per event by kind of topic, the mean
 * repartition record's bytes, and a digest of the anomalies written (sorted, so two builds that
 * write the same anomalies print the same digest).
 */
// First, as the runtime's entry points: kafkajs must load with the project's replacements.
import '../../runtime/kafka/kafkajs-replacements.js'
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import kafkajs from 'kafkajs'
import pino from 'pino'
import { Registry } from 'prom-client'
import { kafkaBackend } from '../../apps/sentinel/demo/app-backend.js'
import { TelemetryGenerator } from '../../apps/sentinel/generator/index.js'
import { buildSentinelAppTopology, loadSentinelApp } from '../../apps/sentinel/sentinel-app.js'
import type { ProcessingGuarantee } from '../../runtime/config.js'
import type { SentinelStreams } from '../../runtime/kafka/sentinel-streams.js'
import { stopBroker } from '../../scripts/kafka-broker.js'
import { recordsByTopic } from '../runtime/runtime-counters.js'
import { benchBrokers } from './bench-brokers.js'

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    guarantee: { type: 'string', default: 'at-least-once' },
    'commit-interval': { type: 'string', default: '200' },
  },
})
const hours = Number(values.hours)
const runs = Number(values.runs)
const guarantee = values.guarantee as ProcessingGuarantee
if (guarantee !== 'at-least-once' && guarantee !== 'exactly-once') throw new Error(`--guarantee: at-least-once or exactly-once, got ${values.guarantee}`)
const commitIntervalMs = values['commit-interval'] === 'default' ? 'default' : Number(values['commit-interval'])
if (commitIntervalMs !== 'default' && !(commitIntervalMs > 0))
  throw new Error(`--commit-interval: milliseconds > 0 or 'default', got ${values['commit-interval']}`)

const events = [...new TelemetryGenerator({ hours, seed: Number(values.seed) }).events()]
const records = events.map((e) => ({ key: e.application_id, value: JSON.stringify(e), timestamp: String(Date.parse(e.timestamp)) }))
const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'warn' }, pino.destination(2))

/** Records not yet read back, by topic: the input until all of it is read, then what the instance wrote and has not read. */
async function inFlight(registry: Registry, input: string, readBack: readonly string[]): Promise<Map<string, number>> {
  const [produced, consumed] = await Promise.all([
    recordsByTopic(registry, 'sentinel_streams_records_produced_total'),
    recordsByTopic(registry, 'sentinel_streams_records_consumed_total'),
  ])
  const behind = new Map<string, number>()
  const note = (topic: string, n: number): void => void (n > 0 && behind.set(topic, n))
  note(input, records.length - (consumed.get(input) ?? 0))
  for (const topic of readBack) note(topic, (produced.get(topic) ?? 0) - (consumed.get(topic) ?? 0))
  return behind
}

/** Mean value bytes of the records on `topics`, and a digest of the sorted key/value pairs of `digestTopic`. */
async function readTopics(
  brokers: string,
  topics: readonly string[],
  digestTopic: string,
): Promise<{ meanBytes: Map<string, number>; digest: string; anomalies: number }> {
  const kafka = new kafkajs.Kafka({ brokers: brokers.split(','), logLevel: kafkajs.logLevel.NOTHING })
  const bytes = new Map<string, { n: number; sum: number }>()
  const pairs: string[] = []
  const consumer = kafka.consumer({ groupId: `kafka-topology-reader-${Date.now()}` })
  await consumer.connect()
  await consumer.subscribe({ topics: [...topics], fromBeginning: true })
  // Until nothing more arrives for 2 s after joining the group: offsets alone do not tell, as
  // exactly-once leaves commit markers.
  let lastBatchAt = Infinity
  consumer.on(consumer.events.GROUP_JOIN, () => (lastBatchAt = Date.now()))
  const readDeadline = Date.now() + 120_000
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const b = bytes.get(batch.topic) ?? { n: 0, sum: 0 }
      for (const m of batch.messages) {
        b.n++
        b.sum += m.value?.length ?? 0
        if (batch.topic === digestTopic) pairs.push(`${m.key?.toString() ?? '-'}\u0000${m.value?.toString() ?? '-'}`)
      }
      bytes.set(batch.topic, b)
      lastBatchAt = Date.now()
    },
  })
  while (!(Date.now() - lastBatchAt >= 2_000)) {
    if (Date.now() > readDeadline) throw new Error(`reading ${topics.join(', ')} back: not done within 120 s`)
    await new Promise((r) => setTimeout(r, 200))
  }
  await consumer.disconnect()
  const hash = createHash('sha256')
  for (const pair of pairs.sort()) hash.update(pair)
  return {
    meanBytes: new Map([...bytes].map(([t, b]) => [t, b.n === 0 ? 0 : b.sum / b.n])),
    digest: hash.digest('hex').slice(0, 12),
    anomalies: pairs.length,
  }
}

const { brokers, own } = await benchBrokers()
console.log(
  `${records.length} events (${hours} h of generated telemetry), ${guarantee}, commit interval ${commitIntervalMs === 'default' ? 'the runtime default' : `${commitIntervalMs} ms`}, brokers ${brokers}`,
)
try {
  for (let run = 1; run <= runs; run++) {
    const backend = kafkaBackend(brokers, { processingGuarantee: guarantee, commitIntervalMs })
    const { applicationId, topics } = backend
    const registry = new Registry()
    try {
      const app = loadSentinelApp({ applicationId, sentinel: { topics, api: { enabled: false }, eventTime: { maxBehind: 'off' } } }, {})
      const runtime = (await backend.open(buildSentinelAppTopology(app, { metrics: registry, logger }), { logger, metrics: registry })) as SentinelStreams
      const producer = new kafkajs.Kafka({ brokers: brokers.split(','), logLevel: kafkajs.logLevel.NOTHING }).producer()
      await producer.connect()
      for (let at = 0; at < records.length; at += 1_000) await producer.send({ topic: topics.telemetry, messages: records.slice(at, at + 1_000) })
      await producer.disconnect()
      const readBack = [...runtime.plan.internalTopics.filter((t) => t.role === 'repartition').map((t) => t.name), topics.anomalies]
      await runtime.start()
      await runtime.waitForState('running', 120_000)
      const began = performance.now()
      const cpu = process.cpuUsage()
      const deadline = Date.now() + 600_000
      let reportAt = Date.now() + 30_000
      for (let behind = await inFlight(registry, topics.telemetry, readBack); behind.size > 0; behind = await inFlight(registry, topics.telemetry, readBack)) {
        const left = [...behind].map(([topic, n]) => `${topic} ${n}`).join(', ')
        if (Date.now() > deadline) throw new Error(`the run did not finish within 600 s; records not read back: ${left}`)
        if (Date.now() > reportAt) {
          console.error(`${Math.round((performance.now() - began) / 1000)} s: records not read back yet: ${left}`)
          reportAt += 30_000
        }
        await new Promise((r) => setTimeout(r, 20))
      }
      const seconds = (performance.now() - began) / 1000
      const used = process.cpuUsage(cpu)
      const produced = await recordsByTopic(registry, 'sentinel_streams_records_produced_total')
      const closing = performance.now()
      const stillClosing = setInterval(
        () => console.error(`close() not done after ${Math.round((performance.now() - closing) / 1000)} s (state ${runtime.state})`),
        30_000,
      )
      await runtime.close().finally(() => clearInterval(stillClosing))
      if (performance.now() - closing > 10_000) console.error(`closing the instance took ${Math.round((performance.now() - closing) / 1000)} s`)
      const perEvent = (pick: (topic: string) => boolean): string =>
        ([...produced].filter(([t]) => pick(t)).reduce((n, [, v]) => n + v, 0) / records.length).toFixed(2)
      const repartitions = readBack.filter((t) => t !== topics.anomalies)
      const read = await readTopics(brokers, [...repartitions, topics.anomalies], topics.anomalies)
      const repartitionBytes = repartitions.map((t) => read.meanBytes.get(t) ?? 0)
      console.log(
        `run ${run}: ${Math.round(records.length / seconds)} events/s, ${Math.round(records.length / ((used.user + used.system) / 1e6))} events/cpu-s, ` +
          `written per event ${perEvent(() => true)} (repartition ${perEvent((t) => repartitions.includes(t))}, changelog ${perEvent((t) => t.endsWith('-changelog'))}), ` +
          `repartition record ${Math.round(repartitionBytes.reduce((a, b) => a + b, 0) / Math.max(1, repartitionBytes.length))} bytes on average, ` +
          `${read.anomalies} anomalies (digest ${read.digest})`,
      )
    } finally {
      await backend.close()
    }
  }
} finally {
  if (own) await stopBroker()
}
