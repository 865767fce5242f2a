/**
 * `api.ingestThread` on the real broker: the app's HTTP edge in a worker thread. Telemetry posted to
 * it is on the telemetry topic (keyed by application, the ingest header set) when the 202 comes (on
 * Kafka the edge writes the batch with its own producer and answers once the brokers have it; what it
 * wrote reaches the main thread's dry-run sample); a cost streak becomes
 * an anomaly of the shipped detectors, read back through a forwarded GET /api/v1/anomalies; a retry
 * is reported as duplicates and not written again; a batch of invalid events is 400; the ingest's
 * counters reach the main thread's /metrics.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import pino from 'pino'
import { Registry } from 'prom-client'
import { buildSentinelAppTopology, loadSentinelApp, type SentinelServices, startSentinelServices } from '../../../../apps/sentinel/sentinel-app.js'
import { SentinelStreams } from '../../../../runtime/kafka/sentinel-streams.js'
import type { TelemetryEvent } from '../../../../schemas/telemetry/index.js'
import { kafkaBrokers, readTextValues, testKafka, uniqueTopic } from '../../../kafka.js'
import { apiCaller, createSentinelTopics, eventually, freePort, response } from './sentinel-fixtures.js'

const API_KEY = 'ingest-thread-api-key-0123456789'

test(
  'api.ingestThread: telemetry through the worker reaches the topic and the detectors; other routes and /metrics are the main thread',
  { timeout: 240_000 },
  async () => {
    const kafka = testKafka()
    const admin = kafka.admin()
    await admin.connect()
    const topics = await createSentinelTopics(admin, 'ingest-thread', 2)
    const applicationId = uniqueTopic('ingest-thread-sentinel')
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-ingest-thread-'))
    const logger = pino({ level: process.env.SENTINEL_LOG_LEVEL ?? 'silent' })
    const metrics = new Registry()
    const applicationServer = `127.0.0.1:${await freePort()}`
    const app = loadSentinelApp(
      { applicationId, applicationServer, sentinel: { topics, api: { host: '127.0.0.1', apiKeys: [API_KEY], ingestThread: true } } },
      {},
    )
    assert.equal(app.settings.api.ingestThread, true)
    const streams = new SentinelStreams(
      buildSentinelAppTopology(app, { metrics, logger }),
      { applicationId, applicationServer, brokers: kafkaBrokers(), stateDir: join(dir, 'state'), commitIntervalMs: 200 },
      { logger, metrics },
    )
    // On Kafka the worker writes with its own producer: the main thread's runtime never sends telemetry.
    const mainThreadTelemetrySends: number[] = []
    const send = streams.send.bind(streams)
    streams.send = (topic, records) => {
      if (topic === topics.telemetry) mainThreadTelemetrySends.push(records.length)
      return send(topic, records)
    }
    let services: SentinelServices | undefined
    const call = apiCaller(API_KEY)
    try {
      await streams.start()
      services = await startSentinelServices(app, { runtime: streams, logger, metrics })
      await streams.waitForState('running')
      const base = services.apiAddress!
      assert.equal(base, `http://${applicationServer}`)

      // Three $5 calls of one application in a row: the shipped cost detector's streak.
      const batch: TelemetryEvent[] = [
        ...Array.from({ length: 20 }, (_, i) => response('steady-bot', i, 0.01, i + 1)),
        ...[0, 1, 2].map((i) => response('spender', 30 + i, 5, 100 + i)),
      ]
      const accepted = await call(base, 'POST', '/api/v1/telemetry/events', batch)
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body))
      assert.deepEqual(accepted.body, { accepted: 23, rejected: 0, duplicates: 0, errors: [] })
      const written = (await readTextValues(topics.telemetry, 23)).map((v) => JSON.parse(v) as TelemetryEvent)
      assert.deepEqual(new Set(written.map((e) => e.event_id)), new Set(batch.map((e) => e.event_id)))
      assert.equal(mainThreadTelemetrySends.length, 0, 'the worker wrote the batch with its own producer')

      // The worker relays what it wrote to the main thread's sample, which a dry run without events reads.
      const dryRun = await eventually('the written events in the dry-run sample', async () => {
        const run = await call(base, 'POST', '/api/v1/detectors/cost-threshold/test', {})
        assert.equal(run.status, 200, JSON.stringify(run.body))
        return run.body.events === 23 ? run.body : undefined
      })
      assert.equal(dryRun.sample, 'recent')
      assert.equal(dryRun.flagged, 1, 'the spender streak, judged on the relayed sample')

      const retried = await call(base, 'POST', '/api/v1/telemetry/events', batch.slice(0, 5))
      assert.equal(retried.status, 202)
      assert.equal(retried.body.duplicates, 5)
      const invalid = await call(base, 'POST', '/api/v1/telemetry/events', [{ event_id: 'nope' }])
      assert.equal(invalid.status, 400)
      assert.equal(invalid.body.error, 'invalid_events')
      const unauthorized = await fetch(`${base}/api/v1/telemetry/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' })
      assert.equal(unauthorized.status, 401)

      // Forwarded to the main thread: the anomaly view.
      const anomaly = await eventually('the cost anomaly through a forwarded GET /api/v1/anomalies', async () => {
        const page = await call(base, 'GET', '/api/v1/anomalies?limit=50')
        assert.equal(page.status, 200)
        return (page.body.items as { anomaly: { application_id: string } }[]).find((i) => i.anomaly.application_id === 'spender')
      })
      assert.ok(anomaly)

      // The worker relays its counts every 250 ms, batch by batch: wait for the last request's (the retry's duplicates).
      const text = await eventually('the relayed ingest counters on /metrics', async () => {
        const body = await (await fetch(`${base}/metrics`)).text()
        const relayed = [
          /sentinel_ingestion_throughput\{protocol="http"\} 23/,
          /sentinel_telemetry_duplicates_total 5/,
          /sentinel_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/telemetry\/events",status_code="202"\} 2/,
        ]
        return relayed.every((line) => line.test(body)) ? body : undefined
      })
      assert.match(text, /sentinel_telemetry_events_total\{application="spender",type="response"\} 3/)
      assert.match(text, /sentinel_telemetry_duplicates_total 5/)
      assert.match(text, /sentinel_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/telemetry\/events",status_code="202"\} 2/)
    } finally {
      await services?.close()
      await streams.close()
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined)
      await admin.disconnect()
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
