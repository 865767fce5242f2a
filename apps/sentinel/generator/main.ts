/**
 * The telemetry generator's command line: writes the events as JSON Lines (a file or stdout), or
 * produces them to a Kafka topic in batches; the labelled incidents go to stderr as JSON.
 *
 *   tsx apps/sentinel/generator/main.ts [--hours 6] [--seed 42] [--out telemetry.jsonl]
 *   tsx apps/sentinel/generator/main.ts --brokers localhost:9092 [--topic llm-telemetry] [--rate 2000]
 *
 * --rate paces the output to that many events per second of wall clock (default: as fast as possible).
 */
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import kafkajs from 'kafkajs'
import { createTopicsWithLeaders } from '../../../runtime/internal-topics.js'
import type { TelemetryEvent } from '../../../schemas/telemetry/index.js'
import { TelemetryGenerator } from './telemetry-generator.js'

const { Kafka, Partitioners, logLevel } = kafkajs
const BATCH = 500

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '6' },
    seed: { type: 'string', default: '42' },
    out: { type: 'string' },
    brokers: { type: 'string' },
    topic: { type: 'string', default: 'llm-telemetry' },
    partitions: { type: 'string', default: '3' },
    rate: { type: 'string' },
    'no-incidents': { type: 'boolean', default: false },
  },
})

function fail(message: string): never {
  console.error(message)
  process.exit(2)
}

const hours = Number(values.hours)
const seed = Number(values.seed)
const rate = values.rate === undefined ? null : Number(values.rate)
if (!(hours > 0)) fail(`--hours must be a number > 0, got ${values.hours}`)
if (!Number.isInteger(seed)) fail(`--seed must be an integer, got ${values.seed}`)
if (rate !== null && !(rate > 0)) fail(`--rate must be events per second > 0, got ${values.rate}`)
if (values.out && values.brokers) fail('give --out or --brokers, not both')

let generator: TelemetryGenerator
try {
  generator = new TelemetryGenerator({ hours, seed, incidents: !values['no-incidents'] })
} catch (err) {
  fail((err as Error).message)
}

/** Sends batches of events; resolves when the sink has taken them. */
type Sink = { write(batch: TelemetryEvent[]): Promise<void>; close(): Promise<void> }

async function fileSink(path: string | undefined): Promise<Sink> {
  const stream = path ? createWriteStream(path) : process.stdout
  return {
    async write(batch) {
      if (!stream.write(batch.map((e) => JSON.stringify(e)).join('\n') + '\n')) await once(stream, 'drain')
    },
    async close() {
      if (path) await new Promise<void>((resolve, reject) => (stream as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())))
    },
  }
}

async function kafkaSink(brokers: string, topic: string, partitions: number): Promise<Sink> {
  const kafka = new Kafka({ clientId: 'sentinel-telemetry-generator', brokers: brokers.split(','), logLevel: logLevel.WARN })
  const admin = kafka.admin()
  await admin.connect()
  // Topic auto-creation is usually off on production brokers: create it when missing.
  // Waiting for the leaders through UNKNOWN_TOPIC_OR_PARTITION, which kafkajs' waitForLeaders gives up on.
  if (!(await admin.listTopics()).includes(topic)) await createTopicsWithLeaders(admin, [{ topic, numPartitions: partitions }], 60_000)
  await admin.disconnect()
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  return {
    async write(batch) {
      // Keyed by application, so one application's events stay in order on one partition.
      await producer.send({ topic, messages: batch.map((e) => ({ key: e.application_id, value: JSON.stringify(e), timestamp: String(Date.parse(e.timestamp)) })) })
    },
    close: () => producer.disconnect(),
  }
}

const sink = values.brokers ? await kafkaSink(values.brokers, values.topic, Number(values.partitions)) : await fileSink(values.out)
const started = Date.now()
let sent = 0
let batch: TelemetryEvent[] = []
const flush = async (): Promise<void> => {
  if (batch.length === 0) return
  await sink.write(batch)
  sent += batch.length
  batch = []
  if (rate !== null) {
    const due = started + (sent / rate) * 1000
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()))
  }
}
for (const event of generator.events()) {
  batch.push(event)
  if (batch.length >= BATCH) await flush()
}
await flush()
await sink.close()
console.error(JSON.stringify({ events: sent, seconds: (Date.now() - started) / 1000, incidents: generator.incidents }, null, 2))
