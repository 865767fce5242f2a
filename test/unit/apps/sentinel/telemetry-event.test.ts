import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { repartitionTelemetrySerde } from '../../../../apps/sentinel/detection.js'
import { SerdeError } from '../../../../schemas/serde.js'
import { knownJsonBytes } from '../../../../schemas/telemetry/telemetry-serdes.js'
import {
  type TelemetryEvent,
  TelemetryValidationError,
  parseTelemetryEvent,
  telemetryAvroSerde,
  telemetryEventSchema,
  telemetryJsonSerde,
  telemetryRegistrySerde,
  validateTelemetryEvent,
} from '../../../../schemas/telemetry/index.js'

// The example event of the TelemetryEvent design ("Example Telemetry Event").
const documentedExample: TelemetryEvent = {
  event_id: '550e8400-e29b-41d4-a716-446655440000',
  timestamp: '2025-11-06T12:34:56.789Z',
  source: { service: 'llm-observatory', host: 'obs-worker-01', version: '1.2.3' },
  event_type: 'llm.response',
  application_id: 'chatbot-prod',
  tenant_id: 'acme-corp',
  correlation_id: 'req-abc123',
  data: { status: 'success', completion_tokens: 75, total_tokens: 225, latency_ms: 1234.56, cost: 0.045, finish_reason: 'stop' },
  metadata: { user_id: 'user-456', session_id: 'sess-789', environment: 'prod', tags: { region: 'us-east-1', version: 'v2.1.0' } },
}

const request: TelemetryEvent = {
  event_id: '6f1c2a9e-1b2c-4d3e-8f4a-5b6c7d8e9f00',
  timestamp: '2025-11-06T12:34:55.000Z',
  source: { service: 'llm-observatory', host: 'obs-worker-02' },
  event_type: 'llm.request',
  application_id: 'chatbot-prod',
  data: { model: 'gpt-4', prompt: 'hello', prompt_tokens: 150, parameters: { temperature: 0.7, max_tokens: 256 }, context: { channel: 'web', turn: 3 } },
}

const metric: TelemetryEvent = {
  event_id: '7a1c2a9e-1b2c-4d3e-8f4a-5b6c7d8e9f01',
  timestamp: '2025-11-06T12:35:00Z',
  source: { service: 'gateway', host: 'gw-1' },
  event_type: 'llm.metric',
  application_id: 'chatbot-prod',
  data: { metric_name: 'requests_per_second', value: 42.5, unit: 'req/s', dimensions: { model: 'gpt-4' } },
}

const issuesOf = (value: unknown): string[] => {
  const result = validateTelemetryEvent(value)
  assert.equal(result.ok, false, 'expected the event to be rejected')
  return result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`)
}

describe('TelemetryEvent validation', () => {
  test('accepts the seed example, a request and a metric event', () => {
    for (const event of [documentedExample, request, metric]) assert.deepEqual(validateTelemetryEvent(event), { ok: true, event })
  })

  test('names the field path and the reason', () => {
    assert.deepEqual(issuesOf({ ...documentedExample, data: { ...documentedExample.data, latency_ms: -1 } }), ['data.latency_ms: must be a number >= 0'])
    assert.deepEqual(issuesOf({ ...documentedExample, data: { ...documentedExample.data, latency_ms: 'slow' } }), ['data.latency_ms: must be a number >= 0'])
    assert.deepEqual(issuesOf({ ...request, data: { model: 'gpt-4', prompt: 'x', prompt_tokens: 1.5 } }), ['data.prompt_tokens: must be an integer >= 0'])
    assert.deepEqual(issuesOf({ ...documentedExample, event_type: 'llm.bogus' }), ['event_type: must be one of llm.request, llm.response, llm.error, llm.metric, llm.trace'])
    assert.deepEqual(issuesOf({ ...documentedExample, event_id: 'not-a-uuid' }), ['event_id: must be a uuid'])
    assert.match(issuesOf({ ...documentedExample, timestamp: 'yesterday' })[0] ?? '', /^timestamp: must be an RFC 3339 date-time/)
    assert.deepEqual(issuesOf({ ...documentedExample, metadata: { environment: 'qa' } }), ['metadata.environment: must be one of dev, staging, prod'])
    assert.deepEqual(issuesOf({ ...documentedExample, metadata: { tags: { region: 1 } } }), ['metadata.tags.region: must be a string'])
  })

  test('timestamps are strict RFC 3339 that round-trip: no year 0001, no leap second, no Feb 30', () => {
    assert.deepEqual(issuesOf({ ...documentedExample, timestamp: '0001-01-01T00:00:00Z' }), ['timestamp: must have a year from 1970 to 9999 (got 0001)'])
    assert.deepEqual(issuesOf({ ...documentedExample, timestamp: '2025-12-31T23:59:60Z' }), ['timestamp: must not be a leap second (:60); send :59.999 or the next second'])
    assert.deepEqual(issuesOf({ ...documentedExample, timestamp: '2025-02-30T12:00:00Z' }), ['timestamp: must be a calendar date: 2025-02 has no day 30'])
    assert.deepEqual(issuesOf({ ...documentedExample, timestamp: '2023-02-29T12:00:00Z' }), ['timestamp: must be a calendar date: 2023-02 has no day 29'])
    assert.deepEqual(issuesOf({ ...documentedExample, timestamp: '2025-01-01T24:00:00Z' }), ['timestamp: must have an hour from 00 to 23 (got 24)'])
    assert.deepEqual(issuesOf({ ...documentedExample, timestamp: '2025-01-01T12:00:00+24:00' }), ['timestamp: must have a time zone offset from -23:59 to +23:59 (got +24:00)'])
    assert.deepEqual(issuesOf({ ...documentedExample, timestamp: '1969-12-31T23:59:59Z' }), ['timestamp: must have a year from 1970 to 9999 (got 1969)'])
    assert.match(issuesOf({ ...documentedExample, timestamp: '2025-01-01T12:00:00' })[0] ?? '', /with a time zone/)
    for (const ok of ['2024-02-29T00:00:00Z', '2025-11-06T12:34:56.123456789+05:30', '9999-12-31T23:59:59.999Z']) assert.equal(validateTelemetryEvent({ ...documentedExample, timestamp: ok }).ok, true, ok)
  })

  test('every id and label field is at most 128 printable characters, with a per-field reason', () => {
    const long = 'x'.repeat(500_000)
    assert.deepEqual(issuesOf({ ...documentedExample, application_id: long }), ['application_id: must be at most 128 characters (got 500000)'])
    const fields: [string, (v: string) => unknown][] = [
      ['application_id', (v) => ({ ...documentedExample, application_id: v })],
      ['tenant_id', (v) => ({ ...documentedExample, tenant_id: v })],
      ['correlation_id', (v) => ({ ...documentedExample, correlation_id: v })],
      ['source.service', (v) => ({ ...documentedExample, source: { ...documentedExample.source, service: v } })],
      ['source.host', (v) => ({ ...documentedExample, source: { ...documentedExample.source, host: v } })],
      ['source.version', (v) => ({ ...documentedExample, source: { ...documentedExample.source, version: v } })],
      ['data.model', (v) => ({ ...documentedExample, data: { ...documentedExample.data, model: v } })],
      ['data.model', (v) => ({ ...request, data: { ...request.data, model: v } })],
      ['data.metric_name', (v) => ({ ...metric, data: { ...metric.data, metric_name: v } })],
      ['data.dimensions.model', (v) => ({ ...metric, data: { ...metric.data, dimensions: { model: v } } })],
      ['metadata.user_id', (v) => ({ ...documentedExample, metadata: { user_id: v } })],
      ['metadata.session_id', (v) => ({ ...documentedExample, metadata: { session_id: v } })],
      ['metadata.tags.region', (v) => ({ ...documentedExample, metadata: { tags: { region: v } } })],
    ]
    for (const [path, make] of fields) {
      assert.match(issuesOf(make('y'.repeat(300)))[0] ?? '', new RegExp(`^${path.replace(/\./g, '\\.')}: must be at most \\d+ characters`), path)
      for (const bad of ['a\u0000b', 'line\nbreak', 'tab\there', 'zero\u200bwidth', 'bell\u0007']) {
        assert.deepEqual(issuesOf(make(bad)), [`${path}: must be printable text: no control characters, line breaks or invisible formatting characters`], `${path} ${JSON.stringify(bad)}`)
      }
      assert.equal(validateTelemetryEvent(make('ok-Ünïcode id/1.2 (eu) 日本')).ok, true, path)
    }
    const key = 'k'.repeat(1000)
    assert.deepEqual(issuesOf({ ...documentedExample, metadata: { tags: { [key]: 'v' } } }), [`metadata.tags.${'k'.repeat(64)}…: is not an acceptable key: keys must be at most 128 printable characters`])
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`t${i}`, 'v']))
    assert.deepEqual(issuesOf({ ...documentedExample, metadata: { tags: many } }), ['metadata.tags: must have at most 64 entries'])
  })

  test('the same limits hold for Kafka input: the serdes refuse on deserialize, naming the field', () => {
    const long = { ...documentedExample, application_id: 'a'.repeat(1000) }
    assert.throws(() => telemetryJsonSerde().deserialize(Buffer.from(JSON.stringify(long)), 't'), (e: unknown) => e instanceof SerdeError && /application_id: must be at most 128 characters/.test(e.message))
    const leap = { ...documentedExample, timestamp: '2025-12-31T23:59:60Z' }
    assert.throws(() => telemetryJsonSerde().deserialize(Buffer.from(JSON.stringify(leap)), 't'), (e: unknown) => e instanceof SerdeError && /timestamp: must not be a leap second/.test(e.message))
  })

  test('data.context nested deeper than 32 levels is refused without overflowing the stack', () => {
    let deep: Record<string, unknown> = {}
    const root = deep
    for (let i = 0; i < 100_000; i++) {
      const next = {}
      deep.a = next
      deep = next
    }
    assert.deepEqual(issuesOf({ ...request, data: { ...request.data, context: root } }), ['data.context: must not be nested more than 32 levels deep'])
    assert.throws(() => telemetryJsonSerde().serialize({ ...request, data: { ...request.data, context: root } } as TelemetryEvent, 't'), SerdeError)
  })

  test('picks the payload by event_type: a request payload on a response event is missing its fields', () => {
    // model and prompt_tokens are ResponseData extensions, so only the request-only fields are unknown.
    assert.deepEqual(issuesOf({ ...documentedExample, data: request.data }).sort(), [
      'data.context: is not a known field (remove it)',
      'data.latency_ms: is required',
      'data.parameters: is not a known field (remove it)',
      'data.prompt: is not a known field (remove it)',
      'data.status: is required',
    ])
  })

  test('llm.trace takes any payload but not a malformed one', () => {
    assert.equal(validateTelemetryEvent({ ...metric, event_type: 'llm.trace' }).ok, true)
    assert.equal(validateTelemetryEvent({ ...request, event_type: 'llm.trace' }).ok, true)
    assert.deepEqual(issuesOf({ ...request, event_type: 'llm.trace', data: { latency_ms: 3 } }), ['data: must be a RequestData, ResponseData or MetricData payload'])
  })

  test('lists every missing required field, and rejects unknown ones', () => {
    assert.deepEqual(issuesOf({}), ['event_id', 'timestamp', 'source', 'event_type', 'application_id', 'data'].map((f) => `${f}: is required`))
    assert.deepEqual(issuesOf({ ...metric, extra: true }), ['extra: is not a known field (remove it)'])
    assert.deepEqual(issuesOf([]), ['(event): must be an object'])
  })

  test('never mutates the input, accepted or rejected', () => {
    const bad = { ...documentedExample, data: { ...documentedExample.data, cost: -2 }, metadata: {} }
    const copy = structuredClone(bad)
    validateTelemetryEvent(bad)
    validateTelemetryEvent(structuredClone(documentedExample))
    assert.deepEqual(bad, copy)
  })

  test('parseTelemetryEvent throws a TelemetryValidationError with the issues', () => {
    assert.throws(
      () => parseTelemetryEvent({ ...documentedExample, data: { ...documentedExample.data, cost: -2 } }),
      (err: unknown) => err instanceof TelemetryValidationError && err.issues.length === 1 && /data\.cost: must be a number >= 0/.test(err.message),
    )
  })
})

describe('TelemetryEvent serdes', () => {
  test('TelemetryEvent.avsc and the inlined schema are the same', () => {
    const file = JSON.parse(readFileSync(new URL('../../../../schemas/telemetry/TelemetryEvent.avsc', import.meta.url), 'utf8')) as unknown
    assert.deepEqual(file, telemetryEventSchema)
  })

  test('JSON and Avro round-trip the seed example, a request (with context) and a metric event', () => {
    for (const serde of [telemetryJsonSerde(), telemetryAvroSerde()]) {
      for (const event of [documentedExample, request, metric, { ...request, event_type: 'llm.trace' as const }]) assert.deepEqual(serde.deserialize(serde.serialize(event)), event, serde.name)
    }
  })

  test('the registry serde frames Avro with the schema id and round-trips; an unknown id or an invalid event is a SerdeError', async () => {
    const serde = telemetryRegistrySerde({ useSchemaId: 11, knownSchemas: { 11: telemetryEventSchema } })
    await serde.prepare?.('llm-telemetry')
    for (const event of [documentedExample, request, metric]) {
      const bytes = serde.serialize(event, 'llm-telemetry')
      assert.equal(bytes[0], 0, 'magic byte')
      assert.equal(bytes.readInt32BE(1), 11, 'schema id')
      assert.deepEqual(serde.deserialize(bytes, 'llm-telemetry'), event)
    }
    const other = Buffer.from(serde.serialize(documentedExample, 'llm-telemetry'))
    other.writeInt32BE(12, 1)
    assert.throws(() => serde.deserialize(other), (e: unknown) => e instanceof SerdeError && /schema id 12/.test(e.message))
    assert.throws(() => serde.serialize({ ...documentedExample, data: { ...documentedExample.data, latency_ms: -1 } } as TelemetryEvent, 'llm-telemetry'), /latency_ms/)
  })

  test('the JSON serde rejects bad input with a SerdeError naming field and reason', () => {
    const serde = telemetryJsonSerde()
    const bytes = Buffer.from(JSON.stringify({ ...documentedExample, data: { ...documentedExample.data, latency_ms: -5 } }))
    assert.throws(() => serde.deserialize(bytes), (err: unknown) => err instanceof SerdeError && /data\.latency_ms: must be a number >= 0/.test(err.message))
    assert.throws(() => serde.deserialize(Buffer.from('{not json')), (err: unknown) => err instanceof SerdeError && /invalid JSON/.test(err.message))
    assert.throws(() => serde.serialize({ ...metric, application_id: '' }), (err: unknown) => err instanceof SerdeError && /application_id: must not be empty/.test(err.message))
  })

  test('validated once: bytes this process encoded decode to the same event, once; any other bytes are parsed and checked', () => {
    const writer = telemetryJsonSerde()
    const reader = telemetryJsonSerde() // the API and the topology each build their own
    const event = JSON.parse(JSON.stringify(request)) as unknown
    const checked = validateTelemetryEvent(event)
    assert.ok(checked.ok)
    const bytes = writer.serialize(checked.event)
    assert.deepEqual(JSON.parse(bytes.toString('utf8')), request)
    // The very buffer (the embedded log hands the topology what the API wrote): no parse, the same object.
    assert.equal(reader.deserialize(bytes), event)
    // Taken on the first read: a second read of those bytes (a rewind) parses them again.
    const again = reader.deserialize(bytes)
    assert.notEqual(again, event)
    assert.deepEqual(again, request)
    // A copy of the bytes (as from Kafka) is parsed and validated in full.
    const copy = Buffer.from(bytes)
    assert.notEqual(reader.deserialize(copy), event)
    const bad = Buffer.from(JSON.stringify({ ...request, application_id: '' }))
    assert.throws(() => reader.deserialize(bad), (err: unknown) => err instanceof SerdeError && /application_id: must not be empty/.test(err.message))
    // Only objects that passed are trusted: an equal-looking unchecked invalid event is still refused.
    assert.throws(() => writer.serialize({ ...(event as TelemetryEvent), application_id: '' }), (err: unknown) => err instanceof SerdeError && /application_id/.test(err.message))
    const rejected = validateTelemetryEvent({ ...request, data: { ...request.data, prompt_tokens: -1 } })
    assert.equal(rejected.ok, false)
  })

  test('parsed once: an event read from JSON keeps its input bytes, which the repartition serde forwards instead of encoding again', () => {
    const input = Buffer.from(JSON.stringify(documentedExample, null, 1)) // not what JSON.stringify(event) gives
    const event = telemetryJsonSerde().deserialize(input)
    assert.equal(knownJsonBytes(event), input)
    const repartition = repartitionTelemetrySerde()
    // A copy: the repartition record must not share (and so prolong) the telemetry log's buffer.
    const forwarded = repartition.serialize(event)
    assert.notEqual(forwarded, input)
    assert.deepEqual(forwarded, input)
    // That copy read back as it is (the embedded log hands each group's task the bytes written): the
    // event it was made from, not parsed again. Other bytes (as from Kafka) are parsed.
    assert.equal(repartition.deserialize(forwarded), event)
    assert.deepEqual(repartition.deserialize(Buffer.from(input)), documentedExample)
    assert.notEqual(repartition.deserialize(Buffer.from(input)), event)
    // An event made in the topology (e.g. given its request's model) has no bytes yet: encoded as JSON.
    const filled = { ...event, data: { ...event.data, model: 'gpt-4' } }
    assert.equal(knownJsonBytes(filled), undefined)
    assert.deepEqual(JSON.parse(repartition.serialize(filled).toString('utf8')), filled)
  })

  test('the fast check and the thorough one agree: an accepted event is returned as is, a rejected one always names its issues', () => {
    fc.assert(
      fc.property(fc.constantFrom(documentedExample, request, metric), fc.constantFrom('event_id', 'timestamp', 'application_id', 'event_type', 'data', 'source'), fc.jsonValue(), (base, field, value) => {
        const candidate = { ...base, [field]: value }
        const result = validateTelemetryEvent(candidate)
        if (result.ok) assert.equal(result.event, candidate)
        else assert.ok(result.issues.length > 0, 'a rejected event names at least one issue')
      }),
      { numRuns: 300 },
    )
  })

  test('the Avro serde refuses to write an invalid event and to return one decoded from bytes', () => {
    const serde = telemetryAvroSerde()
    assert.throws(() => serde.serialize({ ...documentedExample, data: { ...documentedExample.data, cost: -1 } }), (err: unknown) => err instanceof SerdeError && /data\.cost/.test(err.message))
    assert.throws(() => serde.deserialize(Buffer.from([1, 2, 3])), SerdeError)
  })

  test('property: any valid response event round-trips through both serdes', () => {
    const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
    const response = fc.record(
      {
        status: fc.constantFrom('success' as const, 'error' as const, 'timeout' as const),
        latency_ms: fc.double({ min: 0, max: 1e6, noNaN: true }),
        completion_tokens: optional(fc.nat()),
        total_tokens: optional(fc.nat()),
        cost: optional(fc.double({ min: 0, max: 100, noNaN: true })),
        model: optional(fc.string({ minLength: 1 })),
        response: optional(fc.string()),
      },
      { requiredKeys: ['status', 'latency_ms'] },
    )
    const json = telemetryJsonSerde()
    const avro = telemetryAvroSerde()
    fc.assert(
      fc.property(response, fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,11}$/), fc.string()), (data, tags) => {
        const clean = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)) as typeof data
        const event: TelemetryEvent = { ...documentedExample, data: { ...clean, latency_ms: Object.is(clean.latency_ms, -0) ? 0 : clean.latency_ms }, metadata: { tags: { ...tags } } }
        assert.deepEqual(json.deserialize(json.serialize(event)), event)
        assert.deepEqual(avro.deserialize(avro.serialize(event)), event)
      }),
      { numRuns: 100 },
    )
  })
})
