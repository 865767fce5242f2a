import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_TOPICS, resolveSentinelSettings } from '../../../../apps/sentinel/sentinel-config.js'
import { ConfigError } from '../../../../runtime/config.js'

const fails = (config: Parameters<typeof resolveSentinelSettings>[0], field: string, fix: RegExp, env: NodeJS.ProcessEnv = {}): void => {
  assert.throws(
    () => resolveSentinelSettings(config, env),
    (e: unknown) => e instanceof ConfigError && e.field === field && fix.test(e.message),
  )
}

test('no sentinel section: every default', () => {
  const s = resolveSentinelSettings({}, {})
  assert.deepEqual(s.topics, DEFAULT_TOPICS)
  assert.equal(s.inputFormat, 'json')
  assert.equal(s.api.port, 8080)
  assert.deepEqual(s.api.apiKeys, [])
  assert.equal(s.api.bodyLimitBytes, 1024 * 1024)
  assert.deepEqual(s.api.rateLimit, { max: 1000, windowMs: 60_000, authFailures: 20 })
  assert.deepEqual(s.eventTime, { maxAheadMs: 5 * 60_000, maxBehindMs: 24 * 3_600_000 })
  assert.deepEqual(s.api.dedup, { maxIds: 200_000, horizonMs: 24 * 3_600_000 })
  assert.deepEqual(s.api.authenticate, { metrics: false, openapi: false })
  assert.equal(s.detectorsFile, null)
})

test('values given are read, environment overrides win', () => {
  const s = resolveSentinelSettings(
    {
      sentinel: {
        topics: { telemetry: 'tele' },
        input: { format: 'registry-avro', schemaRegistryUrl: 'http://r:8081' },
        api: { port: 9000, bodyLimit: '256kb', rateLimit: { max: 5, window: '10s' } },
      },
    },
    { SENTINEL_API_KEYS: 'k1-aaaaaaaaaaaaaaa, k2', SENTINEL_API_PORT: '9100' },
  )
  assert.equal(s.topics.telemetry, 'tele')
  assert.equal(s.topics.anomalies, 'anomalies')
  assert.equal(s.inputFormat, 'registry-avro')
  assert.equal(s.schemaRegistryUrl, 'http://r:8081')
  assert.equal(s.api.port, 9100)
  assert.deepEqual(s.api.apiKeys, ['k1-aaaaaaaaaaaaaaa', 'k2'])
  assert.equal(s.api.bodyLimitBytes, 256 * 1024)
  assert.deepEqual(s.api.rateLimit, { max: 5, windowMs: 10_000, authFailures: 20 })
})

test('event-time bounds, dedup and authenticated operations endpoints are configurable', () => {
  const s = resolveSentinelSettings(
    {
      sentinel: {
        eventTime: { maxAhead: '1m', maxBehind: '2h' },
        api: { rateLimit: { authFailures: 3 }, dedup: { maxIds: 10, horizon: '1h' }, authenticate: { metrics: true, openapi: true } },
      },
    },
    {},
  )
  assert.deepEqual(s.eventTime, { maxAheadMs: 60_000, maxBehindMs: 2 * 3_600_000 })
  assert.equal(s.api.rateLimit.authFailures, 3)
  assert.deepEqual(s.api.dedup, { maxIds: 10, horizonMs: 3_600_000 })
  assert.deepEqual(s.api.authenticate, { metrics: true, openapi: true })
  fails({ sentinel: { eventTime: { maxAhead: 'soon' } } }, 'sentinel.eventTime.maxAhead', /5m/)
  fails({ sentinel: { eventTime: { ahead: '5m' } } }, 'sentinel.eventTime.ahead', /maxAhead, maxBehind/)
  fails({ sentinel: { api: { authenticate: { metrics: 'yes' } } } }, 'sentinel.api.authenticate.metrics', /true or false/)
})

test('bad values fail naming the field and the fix', () => {
  fails({ sentinel: 'yes' }, 'sentinel', /mapping/)
  fails({ sentinel: { detector: 'x' } }, 'sentinel.detector', /Known settings/)
  fails({ sentinel: { topics: { alerts: 'has space' } } }, 'sentinel.topics.alerts', /a-zA-Z0-9/)
  fails({ sentinel: { topics: { alerts: 'anomalies' } } }, 'sentinel.topics', /own name/)
  fails({ sentinel: { input: { format: 'protobuf' } } }, 'sentinel.input.format', /never guessed/)
  fails({ sentinel: { input: { format: 'registry-avro' } } }, 'sentinel.input.schemaRegistryUrl', /SCHEMA_REGISTRY_URL/)
  fails({ sentinel: { api: { port: 70000 } } }, 'sentinel.api.port', /0 to 65535/)
  fails({ sentinel: { api: { apiKeys: ['short'] } } }, 'sentinel.api.apiKeys', /openssl/)
  fails({ sentinel: { api: { bodyLimit: '1gb' } } }, 'sentinel.api.bodyLimit', /1mb/)
  fails({ sentinel: { api: { rateLimit: { window: '10ms' } } } }, 'sentinel.api.rateLimit.window', /1m/)
})

test("correlation: seed 001's defaults (on, 10m, 50), configurable, off, and bad values named", () => {
  assert.deepEqual(resolveSentinelSettings({}, {}).correlation, { windowMs: 600_000, maxRelated: 50 })
  assert.deepEqual(resolveSentinelSettings({ sentinel: { correlation: { window: '2m', maxRelatedEvents: 5 } } }, {}).correlation, {
    windowMs: 120_000,
    maxRelated: 5,
  })
  assert.equal(resolveSentinelSettings({ sentinel: { correlation: { enabled: false } } }, {}).correlation, null)
  fails({ sentinel: { correlation: { window: '10ms' } } }, 'sentinel.correlation.window', /5m/)
  fails({ sentinel: { correlation: { maxRelatedEvents: 0 } } }, 'sentinel.correlation.maxRelatedEvents', /1 to 1000/)
  fails({ sentinel: { correlation: { fields: ['x'] } } }, 'sentinel.correlation.fields', /maxRelatedEvents/)
})

test('otlp.grpcPort: off by default, from the file or SENTINEL_OTLP_GRPC_PORT (which wins), bad values named', () => {
  assert.deepEqual(resolveSentinelSettings({}, {}).otlp, { grpcPort: null })
  assert.deepEqual(resolveSentinelSettings({ sentinel: { otlp: { grpcPort: 4317 } } }, {}).otlp, { grpcPort: 4317 })
  assert.deepEqual(resolveSentinelSettings({ sentinel: { otlp: { grpcPort: 4317 } } }, { SENTINEL_OTLP_GRPC_PORT: '14317' }).otlp, { grpcPort: 14317 })
  assert.deepEqual(resolveSentinelSettings({}, { SENTINEL_OTLP_GRPC_PORT: '' }).otlp, { grpcPort: null }, 'an empty variable is unset')
  fails({ sentinel: { otlp: { grpcPort: 70000 } } }, 'sentinel.otlp.grpcPort', /0 to 65535/)
  fails({}, 'sentinel.otlp.grpcPort', /0 to 65535/, { SENTINEL_OTLP_GRPC_PORT: 'grpc' })
  fails({ sentinel: { otlp: { port: 4317 } } }, 'sentinel.otlp.port', /Known settings here: grpcPort/)
  fails({ sentinel: { otlp: { grpcPort: 4317 }, api: { enabled: false } } }, 'sentinel.otlp.grpcPort', /enable the API/)
})

test('api.ingestThread: off by default, from the file or SENTINEL_API_INGEST_THREAD (which wins); JSON input only; bad values named', () => {
  assert.equal(resolveSentinelSettings({}, {}).api.ingestThread, false)
  assert.equal(resolveSentinelSettings({ sentinel: { api: { ingestThread: true } } }, {}).api.ingestThread, true)
  assert.equal(resolveSentinelSettings({ sentinel: { api: { ingestThread: true } } }, { SENTINEL_API_INGEST_THREAD: 'false' }).api.ingestThread, false)
  assert.equal(resolveSentinelSettings({}, { SENTINEL_API_INGEST_THREAD: 'true' }).api.ingestThread, true)
  assert.equal(
    resolveSentinelSettings({ sentinel: { api: { ingestThread: true } } }, { SENTINEL_API_INGEST_THREAD: '' }).api.ingestThread,
    true,
    'an empty variable is unset',
  )
  fails({ sentinel: { api: { ingestThread: 'yes' } } }, 'sentinel.api.ingestThread', /true or false/)
  fails({}, 'sentinel.api.ingestThread', /SENTINEL_API_INGEST_THREAD must be true or false/, { SENTINEL_API_INGEST_THREAD: '1' })
  fails({ sentinel: { input: { format: 'avro' }, api: { ingestThread: true } } }, 'sentinel.api.ingestThread', /input\.format json/)
})
