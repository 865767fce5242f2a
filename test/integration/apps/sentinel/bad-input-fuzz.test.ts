/**
 * Bad input on the real broker: 10⁵ fuzzed telemetry records (fast-check arbitraries: truncated and
 * non-JSON bytes, bad UTF-8, deep and huge JSON, NaN/Infinity, future and ancient timestamps,
 * impossible calendar values, control characters in ids, wrong types, registry-framed bytes, and
 * exact copies of good records) interleaved with a few thousand good ones, through the whole
 * LLM-Sentinel topology on Kafka. Then the good records alone through a second application.
 *
 * What must hold: every bad record is dead-lettered with a reason, every copy is dropped as a
 * duplicate, both counted; the anomalies equal those of the good records alone; nothing crashes;
 * RSS stays bounded. The figures are printed as one `FUZZ` line.
 *
 * The same records then go through the HTTP ingest API (batches of what parses as JSON objects,
 * the rest one request each): every bad one is refused at the edge with a reason, copies are
 * reported as duplicates, nothing bad reaches the topic, and the anomalies are again those of the
 * good records alone (`FUZZ http` line).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import type { Kafka } from 'kafkajs'
import pino from 'pino'
import { Registry } from 'prom-client'
import { buildSentinelAppTopology, loadSentinelApp, startSentinelServices } from '../../../../apps/sentinel/sentinel-app.js'
import { SentinelStreams } from '../../../../runtime/kafka/sentinel-streams.js'
import { DLQ_HEADERS } from '../../../../runtime/task/index.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import type { TelemetryEvent } from '../../../../schemas/telemetry/index.js'
import { kafkaBrokers, testKafka, uniqueTopic } from '../../../kafka.js'
import { createSentinelTopics } from './sentinel-fixtures.js'

const BAD_RECORDS = Number(process.env.FUZZ_RECORDS ?? 100_000)
const SEED = 20261204
const APPS = ['support-bot', 'code-helper', 'billing-bot'] as const
const anomalySerde = Serdes.avro<AnomalyEvent>(anomalyEventSchema)

interface Message {
  readonly key: string
  readonly value: Buffer
}

/**
 * Good traffic of the last half hour: three apps, a call every ~2 s each, with a cost streak and an
 * error burst in it, so the rule detectors have something to find. Event times are recent because
 * the app refuses telemetry far from the wall clock.
 */
function goodEvents(start: number): TelemetryEvent[] {
  const events: TelemetryEvent[] = []
  let n = 0
  for (let second = 0; second < 25 * 60; second += 2) {
    for (const [i, app] of APPS.entries()) {
      n++
      const inCostStreak = app === 'billing-bot' && second >= 300 && second < 306
      const inErrorBurst = app === 'support-bot' && second >= 600 && second < 720 && n % 2 === 0
      events.push({
        event_id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
        timestamp: new Date(start + second * 1000 + i * 100).toISOString(),
        source: { service: 'llm-observatory', host: 'obs-1' },
        event_type: 'llm.response',
        application_id: app,
        metadata: { user_id: `user-${n % 17}` },
        data: {
          status: inErrorBurst ? 'error' : 'success',
          latency_ms: 600 + (n % 7) * 40,
          model: n % 3 === 0 ? 'gpt-4o' : 'claude-3-5-sonnet',
          completion_tokens: 40 + (n % 11),
          total_tokens: 120 + (n % 13),
          cost: inCostStreak ? 2.5 : 0.002,
        },
      })
    }
  }
  return events
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))
const withField = (event: TelemetryEvent, patch: Record<string, unknown>): Buffer => json({ ...event, ...patch })
const withData = (event: TelemetryEvent, patch: Record<string, unknown>): Buffer => json({ ...event, data: { ...event.data, ...patch } })

/** Each arbitrary makes a bad value from a good event; one name per kind, for the tally. */
function badKinds(now: number): Record<string, (event: TelemetryEvent) => fc.Arbitrary<Buffer>> {
  const YEAR = 365 * 86_400_000
  return {
    truncated: (e) => fc.integer({ min: 1, max: 200 }).map((cut) => json(e).subarray(0, cut)),
    'not-json': () => fc.uint8Array({ minLength: 0, maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('~'), Buffer.from(bytes)])),
    'registry-framed': (e) => fc.integer({ min: 1, max: 1_000_000 }).map((id) => Buffer.concat([Buffer.from([0, id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), json(e)])),
    'bad-utf8': (e) => fc.integer({ min: 1, max: 40 }).map((at) => {
      const bytes = json(e)
      const i = Math.min(at, bytes.length - 2)
      return Buffer.concat([bytes.subarray(0, i), Buffer.from([0xc3, 0x28, 0xff]), bytes.subarray(i)])
    }),
    // A request whose free-form context nests far deeper than anyone's real context does.
    deep: (e) =>
      fc.integer({ min: 40, max: 5000 }).map((depth) => {
        const request = { ...e, event_type: 'llm.request', data: { model: 'gpt-4o', prompt: 'hi', context: {} } }
        return Buffer.from(JSON.stringify(request).replace('"context":{}', `"context":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`))
      }),
    'nan-infinity': (e) => fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-1e999').map((literal) => Buffer.from(JSON.stringify(e).replace(/"latency_ms":\d+/, `"latency_ms":${literal}`))),
    'future-time': (e) => fc.constantFrom(3_600_000, 10 * YEAR, 24 * 3_600_000).map((ahead) => withField(e, { timestamp: new Date(now + ahead).toISOString() })),
    'ancient-time': (e) => fc.constantFrom('0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '2025-01-01T00:00:00Z').map((timestamp) => withField(e, { timestamp })),
    'impossible-calendar': (e) => fc.constantFrom('2026-12-31T23:59:60Z', '2026-02-30T10:00:00Z', '2026-13-01T00:00:00Z', 'yesterday', '').map((timestamp) => withField(e, { timestamp })),
    'control-chars': (e) => fc.constantFrom('a\u0000b', 'bot\u001b[31m', 'x\ny', '\u007f').map((id) => withField(e, { application_id: id })),
    'long-id': (e) => fc.integer({ min: 129, max: 4096 }).map((length) => withField(e, { metadata: { user_id: 'u'.repeat(length) } })),
    'wrong-type': (e) => fc.constantFrom<Record<string, unknown>>({ latency_ms: '700' }, { cost: -1 }, { total_tokens: 1.5 }, { status: 42 }).map((patch) => withData(e, patch)),
    'missing-field': (e) => fc.constantFrom('event_id', 'timestamp', 'application_id', 'event_type').map((field) => {
      const copy: Record<string, unknown> = { ...e }
      delete copy[field]
      return json(copy)
    }),
  }
}

/** A few huge values: 256 KB JSON bodies, rare enough to keep the topic small. */
const HUGE_EVERY = 2000

async function produce(kafka: Kafka, topic: string, messages: readonly Message[]): Promise<void> {
  // Idempotent: a retried send must not write records twice, or the counts below would be off.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    // The broker refuses a record batch over 1 MB (message.max.bytes): sends are cut by size.
    let chunk: Message[] = []
    let bytes = 0
    const flush = async (): Promise<void> => {
      if (chunk.length > 0) await producer.send({ topic, messages: chunk.map((m) => ({ key: m.key, value: m.value })) })
      chunk = []
      bytes = 0
    }
    for (const m of messages) {
      if (bytes + m.value.length > 400_000 || chunk.length >= 2000) await flush()
      chunk.push(m)
      bytes += m.value.length
    }
    await flush()
  } finally {
    await producer.disconnect()
  }
}

/** Counts a topic's records from the beginning until `done` says so or the timeout passes. */
async function readTopic<T>(kafka: Kafka, topic: string, decode: (value: Buffer | null, headers: Record<string, string>) => T, done: (seen: readonly T[]) => boolean, timeoutMs: number): Promise<T[]> {
  const seen: T[] = []
  const consumer = kafka.consumer({ groupId: uniqueTopic('fuzz-reader'), maxBytes: 20 * 1024 * 1024 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const headers = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]))
        seen.push(decode(m.value, headers))
      }
    },
  })
  const deadline = Date.now() + timeoutMs
  while (!done(seen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500))
  await consumer.disconnect()
  return seen
}

interface RunResult {
  readonly anomalies: string[]
  readonly deadLetters: { stage: string; message: string }[]
  readonly duplicates: number
  readonly rssBeforeMb: number
  readonly rssAfterMb: number
  readonly http?: HttpTally
}

interface HttpTally {
  requests: number
  accepted: number
  rejectedEvents: number
  refusedRequests: number
  duplicates: number
  serverErrors: number
}

const API_KEY = 'fuzz-api-key-0123456789abcdef'
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** A JSON object a client would batch with others: well-formed, shallow and small. */
function batchable(value: Buffer): boolean {
  if (value.length > 16_384) return false
  let text: string
  try {
    text = strictUtf8.decode(value)
  } catch {
    return false
  }
  let depth = 0
  let deepest = 0
  for (const c of text) {
    if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth)
    else if (c === '}' || c === ']') depth--
  }
  if (deepest > 16) return false
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
  } catch {
    return false
  }
}

/** Posts the records in order: runs of batchable ones as batches of up to 200, the rest alone. */
async function postAll(apiAddress: string, messages: readonly Message[]): Promise<HttpTally> {
  const tally: HttpTally = { requests: 0, accepted: 0, rejectedEvents: 0, refusedRequests: 0, duplicates: 0, serverErrors: 0 }
  const post = async (body: Buffer): Promise<void> => {
    tally.requests++
    const response = await fetch(`${apiAddress}/api/v1/telemetry/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` }, body })
    const reply = (await response.json().catch(() => ({}))) as { accepted?: number; rejected?: number; duplicates?: number }
    if (response.status >= 500) tally.serverErrors++
    else if (response.status === 202 || (response.status === 400 && reply.rejected !== undefined)) {
      tally.accepted += reply.accepted ?? 0
      tally.rejectedEvents += reply.rejected ?? 0
      tally.duplicates += reply.duplicates ?? 0
    } else tally.refusedRequests++
  }
  let batch: Buffer[] = []
  const flush = async (): Promise<void> => {
    if (batch.length > 0) await post(Buffer.concat([Buffer.from('['), ...batch.flatMap((b, i) => (i === 0 ? [b] : [Buffer.from(','), b])), Buffer.from(']')]))
    batch = []
  }
  for (const m of messages) {
    if (batchable(m.value)) {
      batch.push(m.value)
      if (batch.length >= 200) await flush()
    } else {
      await flush()
      await post(m.value)
    }
  }
  await flush()
  return tally
}

async function runApp(kafka: Kafka, messages: readonly Message[], expect: { deadLetters: number; duplicates: number; anomalies?: number }, via: 'kafka' | 'http' = 'kafka'): Promise<RunResult> {
  const admin = kafka.admin()
  await admin.connect()
  // One partition per topic: what is compared is how bad records change the treatment of good ones,
  // so the good records must reach every task in one order in both runs. With several partitions the
  // order in which repartitioned records from different input partitions meet is a race (as in any
  // Kafka Streams app), and detectors that compare users or close windows by stream time could differ
  // between two runs of the good records alone.
  const topics = await createSentinelTopics(admin, 'fuzz', 1)
  await admin.disconnect()
  const applicationId = uniqueTopic('fuzz-sentinel')
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-fuzz-'))
  const api = via === 'http' ? { host: '127.0.0.1', port: 0, apiKeys: [API_KEY], rateLimit: { max: 1_000_000, window: '1m' } } : { enabled: false }
  const app = loadSentinelApp({ applicationId, sentinel: { topics, api } }, {})
  const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'silent' })
  const metrics = new Registry()
  const streams = new SentinelStreams(buildSentinelAppTopology(app, { metrics, logger }), { applicationId, brokers: kafkaBrokers(), stateDir: join(dir, 'state'), commitIntervalMs: 500 }, { logger, metrics })
  global.gc?.()
  const rssBefore = process.memoryUsage().rss
  try {
    await streams.start()
    await streams.waitForState('running')
    let http: HttpTally | undefined
    if (via === 'kafka') await produce(kafka, topics.telemetry, messages)
    else {
      const services = await startSentinelServices(app, { runtime: streams, logger, metrics })
      try {
        http = await postAll(services.apiAddress!, messages)
      } finally {
        await services.close()
      }
    }
    const deadLetters = await readTopic(
      kafka,
      `${applicationId}-dlq`,
      (_value, headers) => ({ stage: headers[DLQ_HEADERS.stage] ?? '', message: headers[DLQ_HEADERS.errorMessage] ?? '' }),
      (seen) => seen.length >= expect.deadLetters,
      240_000,
    )
    const anomalies = await readTopic(kafka, topics.anomalies, (value) => anomalySerde.deserialize(value!).anomaly_id, (seen) => expect.anomalies !== undefined && seen.length >= expect.anomalies, expect.anomalies === undefined ? 20_000 : 60_000)
    // Anything extra (a duplicate counted twice, a late anomaly) would have arrived by now.
    await new Promise((r) => setTimeout(r, 2000))
    const duplicates = (await metrics.getSingleMetric('sentinel_streams_duplicate_records_total')?.get())?.values.reduce((sum, v) => sum + v.value, 0) ?? 0
    global.gc?.()
    return { anomalies: [...new Set(anomalies)].sort(), deadLetters, duplicates, rssBeforeMb: rssBefore / 2 ** 20, rssAfterMb: process.memoryUsage().rss / 2 ** 20, ...(http ? { http } : {}) }
  } finally {
    await streams.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The good traffic, and the same with the bad records and copies interleaved (deterministic). */
function fuzzedTraffic(now: number): { good: TelemetryEvent[]; goodMessages: Message[]; mixed: Message[]; bad: number; copies: number; tally: Map<string, number> } {
  const good = goodEvents(now - 30 * 60_000)
  const goodMessages = good.map((event): Message => ({ key: event.application_id, value: json(event) }))

  // The bad records, each made from a random good event and placed after a random good record.
  const kinds = badKinds(now)
  const names = Object.keys(kinds)
  const plan = fc.sample(fc.tuple(fc.nat(good.length - 1), fc.constantFrom(...names), fc.nat(goodMessages.length), fc.integer()), { seed: SEED, numRuns: BAD_RECORDS })
  const tally = new Map<string, number>()
  const inserts = new Map<number, Message[]>()
  let copies = 0
  for (const [n, [from, kind, at, seed]] of plan.entries()) {
    const event = good[from]!
    let value: Buffer
    let name = kind
    // Bad records get ids of their own: one that slipped through would then show as an extra
    // event in the output instead of hiding as a copy of a good one.
    const own = { ...event, event_id: `ffffffff-ffff-4fff-8fff-${n.toString(16).padStart(12, '0')}` }
    if (n % HUGE_EVERY === 0) {
      name = 'huge'
      value = withField(own, { application_id: 'x'.repeat(256 * 1024) })
    } else if (n % 10 === 0) {
      // A copy of a good record sent again, as a retrying client does; it must count once.
      name = 'duplicate'
      value = json(event)
      copies++
    } else {
      value = fc.sample(kinds[kind]!(own), { seed, numRuns: 1 })[0]!
    }
    tally.set(name, (tally.get(name) ?? 0) + 1)
    // Copies go after their original, as retries do: the original is the one counted.
    const after = name === 'duplicate' ? Math.max(at, from + 1) : at
    const list = inserts.get(after) ?? []
    list.push({ key: event.application_id, value })
    inserts.set(after, list)
  }
  const mixed: Message[] = []
  for (let i = 0; i <= goodMessages.length; i++) {
    mixed.push(...(inserts.get(i) ?? []))
    if (i < goodMessages.length) mixed.push(goodMessages[i]!)
  }
  const bad = BAD_RECORDS - copies
  return { good, goodMessages, mixed, bad, copies, tally }
}

test(`${BAD_RECORDS} fuzzed bad records among good ones change no anomaly; each is dead-lettered with a reason or dropped as a copy`, { timeout: 900_000 }, async () => {
  const kafka = testKafka()
  const { goodMessages, mixed, bad, copies, tally } = fuzzedTraffic(Date.now())

  const alone = await runApp(kafka, goodMessages, { deadLetters: 0, duplicates: 0 })
  assert.ok(alone.anomalies.length > 0, 'the good traffic alone raises anomalies (a cost streak, an error burst)')
  const fuzzed = await runApp(kafka, mixed, { deadLetters: bad, duplicates: copies, anomalies: alone.anomalies.length })

  const stages = new Map<string, number>()
  for (const d of fuzzed.deadLetters) stages.set(d.stage, (stages.get(d.stage) ?? 0) + 1)
  console.log(`FUZZ kinds ${JSON.stringify(Object.fromEntries(tally))}`)
  console.log(`FUZZ dead-letter stages ${JSON.stringify(Object.fromEntries(stages))}`)
  console.log(
    `FUZZ records=${mixed.length} good=${goodMessages.length} bad=${bad} copies=${copies} dead_lettered=${fuzzed.deadLetters.length} duplicates_dropped=${fuzzed.duplicates} ` +
      `anomalies_alone=${alone.anomalies.length} anomalies_fuzzed=${fuzzed.anomalies.length} crashes=0 rss_before_mb=${fuzzed.rssBeforeMb.toFixed(0)} rss_after_mb=${fuzzed.rssAfterMb.toFixed(0)}`,
  )

  assert.equal(fuzzed.deadLetters.length, bad, 'every bad record is dead-lettered, once')
  assert.ok(fuzzed.deadLetters.every((d) => d.stage !== '' && d.message.length > 0), 'each with its stage and reason')
  assert.equal(fuzzed.duplicates, copies, 'every copy is dropped as a duplicate')
  assert.deepEqual(fuzzed.anomalies, alone.anomalies, 'the good records give exactly the anomalies they give alone')
  assert.ok(fuzzed.rssAfterMb - fuzzed.rssBeforeMb < 400, `RSS grew ${(fuzzed.rssAfterMb - fuzzed.rssBeforeMb).toFixed(0)} MB`)
})

test(`the same ${BAD_RECORDS} records over the HTTP ingest API: each bad one refused with a reason, copies reported, the anomalies unchanged`, { timeout: 900_000 }, async () => {
  const kafka = testKafka()
  const { goodMessages, mixed, bad, copies } = fuzzedTraffic(Date.now())
  const alone = await runApp(kafka, goodMessages, { deadLetters: 0, duplicates: 0 })
  const viaHttp = await runApp(kafka, mixed, { deadLetters: 0, duplicates: 0, anomalies: alone.anomalies.length }, 'http')
  const t = viaHttp.http!
  console.log(
    `FUZZ http records=${mixed.length} requests=${t.requests} accepted=${t.accepted} rejected_events=${t.rejectedEvents} refused_requests=${t.refusedRequests} duplicates=${t.duplicates} ` +
      `server_errors=${t.serverErrors} dead_lettered=${viaHttp.deadLetters.length} anomalies_alone=${alone.anomalies.length} anomalies_http=${viaHttp.anomalies.length} rss_before_mb=${viaHttp.rssBeforeMb.toFixed(0)} rss_after_mb=${viaHttp.rssAfterMb.toFixed(0)}`,
  )
  assert.equal(t.serverErrors, 0, 'no 5xx: a bad body is a client error')
  assert.equal(t.accepted, goodMessages.length, 'every good event accepted once')
  assert.equal(t.rejectedEvents + t.refusedRequests, bad, 'every bad record refused at the edge')
  assert.equal(t.duplicates, copies, 'every copy reported as a duplicate')
  assert.equal(viaHttp.deadLetters.length, 0, 'nothing bad reached the topic')
  assert.deepEqual(viaHttp.anomalies, alone.anomalies, 'the good events give exactly the anomalies they give alone')
})
