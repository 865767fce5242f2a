import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import avro from 'avsc'
import fc from 'fast-check'
import { SerdeError } from '../../../../schemas/serde.js'
import {
  frame,
  recordNameStrategy,
  registryAvroSerde,
  SchemaNotReadyError,
  topicNameStrategy,
  topicRecordNameStrategy,
  UnknownSchemaIdError,
  UnpreparedTopicError,
} from '../../../../schemas/registry/index.js'

interface EventV1 {
  tenant: string
  latencyMs: number
}
interface EventV2 extends EventV1 {
  model: string
}

const V1 = {
  type: 'record',
  name: 'LlmCall',
  namespace: 'sentinel.test',
  fields: [
    { name: 'tenant', type: 'string' },
    { name: 'latencyMs', type: 'double' },
  ],
} satisfies avro.Schema
const V2 = { ...V1, fields: [...V1.fields, { name: 'model', type: 'string', default: 'unknown' }] } satisfies avro.Schema
const INCOMPATIBLE = { ...V1, fields: [{ name: 'tenant', type: 'int' }] } satisfies avro.Schema

const typeOf = (schema: avro.Schema): avro.Type => avro.Type.forSchema(schema)

/** A library client that must never be reached: a closed port, no retries, so a request fails at once. */
const unreachableRegistry = (): SchemaRegistry => new SchemaRegistry({ host: 'http://127.0.0.1:9', retry: { retries: 0 } })

describe('registry Avro serde, offline (known schemas only)', () => {
  test('frames the avsc body behind magic byte 0 and the pinned schema id', async () => {
    const serde = registryAvroSerde<EventV1>({ schema: V1, useSchemaId: 42, knownSchemas: { 42: V1 } })
    await serde.prepare('calls')
    const value = { tenant: 'acme', latencyMs: 12.5 }
    const bytes = serde.serialize(value, 'calls')
    assert.deepEqual([...bytes.subarray(0, 5)], [0, 0, 0, 0, 42])
    assert.ok(bytes.subarray(5).equals(typeOf(V1).toBuffer(value)))
    assert.deepEqual({ ...serde.deserialize(bytes) }, value)
    assert.equal(serde.writerSchemaId('calls'), 42)
  })

  test('round-trips any record (property)', async () => {
    const serde = registryAvroSerde<EventV1>({ schema: V1, useSchemaId: 7, knownSchemas: new Map([[7, V1]]) })
    await serde.prepare('t')
    fc.assert(
      fc.property(fc.string(), fc.double({ noNaN: true }), (tenant, latencyMs) => {
        const value = { tenant, latencyMs }
        assert.deepEqual({ ...serde.deserialize(serde.serialize(value, 't')) }, value)
      }),
      { numRuns: 200 },
    )
  })

  test('reads an older writer schema into the evolved reader, filling defaults', () => {
    const v1Bytes = frame(1, typeOf(V1).toBuffer({ tenant: 'acme', latencyMs: 3 }))
    const serde = registryAvroSerde<EventV2>({ schema: V2, knownSchemas: { 1: V1, 2: V2 } })
    assert.deepEqual({ ...serde.deserialize(v1Bytes) }, { tenant: 'acme', latencyMs: 3, model: 'unknown' })
    const v2Bytes = frame(2, typeOf(V2).toBuffer({ tenant: 'b', latencyMs: 4, model: 'gpt' }))
    assert.equal(serde.deserialize(v2Bytes).model, 'gpt')
  })

  test('a writer schema the reader cannot resolve is a SerdeError naming the id', () => {
    const serde = registryAvroSerde<EventV1>({ schema: V1, knownSchemas: { 9: INCOMPATIBLE } })
    const bytes = frame(9, typeOf(INCOMPATIBLE).toBuffer({ tenant: 1 }))
    assert.throws(() => serde.deserialize(bytes), (e: unknown) => e instanceof SerdeError && /writer schema id 9 .* cannot be read as sentinel\.test\.LlmCall/.test(e.message))
  })

  test('an unknown id on an offline serde is a SerdeError at once (no registry to ask)', () => {
    const serde = registryAvroSerde<EventV1>({ schema: V1, knownSchemas: { 1: V1 } })
    const bytes = frame(5, typeOf(V1).toBuffer({ tenant: 'a', latencyMs: 1 }))
    assert.throws(
      () => serde.deserialize(bytes),
      (e: unknown) => e instanceof SerdeError && !(e instanceof SchemaNotReadyError) && /schema id 5 is not among the known schemas/.test(e.message),
    )
  })

  test('a truncated body, trailing bytes and a bare header are SerdeErrors', () => {
    const serde = registryAvroSerde<EventV1>({ schema: V1, knownSchemas: { 1: V1 } })
    const good = frame(1, typeOf(V1).toBuffer({ tenant: 'abcdef', latencyMs: 1 }))
    for (const bad of [good.subarray(0, good.length - 3), Buffer.concat([good, Buffer.from([1, 2])]), good.subarray(0, 5)]) {
      assert.throws(() => serde.deserialize(bad), (e: unknown) => e instanceof SerdeError && /body does not decode with writer schema id 1/.test(e.message))
    }
  })

  test('serializing a value that does not match the schema is a SerdeError naming the field', async () => {
    const serde = registryAvroSerde<EventV1>({ schema: V1, useSchemaId: 1, knownSchemas: { 1: V1 } })
    await serde.prepare('t')
    const bad = { tenant: 'a', latencyMs: 'slow' } as unknown as EventV1
    assert.throws(() => serde.serialize(bad, 't'), (e: unknown) => e instanceof SerdeError && /invalid: latencyMs/.test(e.message))
  })

  test('serialize to a topic not prepared throws UnpreparedTopicError, whose ready() prepares it', async () => {
    const serde = registryAvroSerde<EventV1>({ schema: V1, useSchemaId: 1, knownSchemas: { 1: V1 } })
    const value = { tenant: 'a', latencyMs: 1 }
    let caught: unknown
    try {
      serde.serialize(value, 'late')
    } catch (e) {
      caught = e
    }
    assert.ok(caught instanceof UnpreparedTopicError, 'a not-yet-prepared topic is not a bad record')
    assert.ok(!(caught instanceof SerdeError))
    assert.equal(caught.topic, 'late')
    await caught.ready()
    assert.deepEqual({ ...serde.deserialize(serde.serialize(value, 'late')) }, value)
  })

  test('an offline serde without useSchemaId cannot prepare, and says what to set', async () => {
    const serde = registryAvroSerde<EventV1>({ schema: V1 })
    await assert.rejects(serde.prepare('t'), (e: unknown) => e instanceof SerdeError && /subject t-value: set useSchemaId/.test(e.message))
  })

  test('a pinned id that is unknown or unreadable fails prepare', async () => {
    const unknown = registryAvroSerde<EventV1>({ schema: V1, useSchemaId: 3 })
    await assert.rejects(unknown.prepare('t'), /useSchemaId 3 cannot be written with: it does not exist/)
    const unreadable = registryAvroSerde<EventV1>({ schema: V1, useSchemaId: 3, knownSchemas: { 3: INCOMPATIBLE } })
    await assert.rejects(unreadable.prepare('t'), /useSchemaId 3 cannot be written with: .*cannot be read as/)
  })

  test('a schema without a name (not a record) is refused at construction', () => {
    assert.throws(() => registryAvroSerde<string>({ schema: 'string' }), (e: unknown) => e instanceof SerdeError && /must be a named Avro type/.test(e.message))
  })

  test('the name shows the record', () => {
    assert.equal(registryAvroSerde({ schema: V1 }).name, 'registry-avro(sentinel.test.LlmCall)')
    assert.equal(registryAvroSerde({ schema: typeOf(V1) }).name, 'registry-avro(sentinel.test.LlmCall)')
  })
})

describe('registry Avro serde, with a registry client', () => {
  test('an id not cached throws UnknownSchemaIdError (not a SerdeError); ready() fills the cache once', async () => {
    const registry = unreachableRegistry()
    // The library's own cache answers getSchema(11) without HTTP, as after an earlier fetch.
    registry.cache.setSchema(11, SchemaType.AVRO, typeOf(V1))
    const serde = registryAvroSerde<EventV1>({ registry, schema: V1 })
    const bytes = frame(11, typeOf(V1).toBuffer({ tenant: 'a', latencyMs: 2 }))
    let caught: unknown
    try {
      serde.deserialize(bytes)
    } catch (e) {
      caught = e
    }
    assert.ok(caught instanceof UnknownSchemaIdError)
    assert.ok(!(caught instanceof SerdeError), 'a valid record whose schema is not cached must not go to the DLQ')
    assert.equal(caught.schemaId, 11)
    await caught.ready()
    assert.deepEqual({ ...serde.deserialize(bytes) }, { tenant: 'a', latencyMs: 2 })
  })

  test('prefetchFor fetches every unknown id of a batch, skipping nulls and foreign bytes', async () => {
    const registry = unreachableRegistry()
    registry.cache.setSchema(1, SchemaType.AVRO, typeOf(V1))
    registry.cache.setSchema(2, SchemaType.AVRO, typeOf(V2))
    const serde = registryAvroSerde<EventV2>({ registry, schema: V2 })
    const batch = [
      frame(1, typeOf(V1).toBuffer({ tenant: 'a', latencyMs: 1 })),
      null,
      Buffer.from('{"not":"framed"}'),
      frame(2, typeOf(V2).toBuffer({ tenant: 'b', latencyMs: 2, model: 'm' })),
    ]
    await serde.prefetchFor(batch)
    assert.equal(serde.deserialize(batch[0]!).model, 'unknown')
    assert.equal(serde.deserialize(batch[3]!).model, 'm')
  })

  test('ready() rejects with the transport error when the registry cannot be reached, and the id stays unknown', async () => {
    const serde = registryAvroSerde<EventV1>({ registry: unreachableRegistry(), schema: V1 })
    const bytes = frame(77, typeOf(V1).toBuffer({ tenant: 'a', latencyMs: 2 }))
    const first = (() => {
      try {
        serde.deserialize(bytes)
      } catch (e) {
        return e
      }
    })()
    assert.ok(first instanceof UnknownSchemaIdError)
    await assert.rejects(first.ready(), (e: unknown) => !(e instanceof SerdeError))
    assert.throws(() => serde.deserialize(bytes), UnknownSchemaIdError)
  })
})

describe('subject name strategies', () => {
  test('topic name strategy is <topic>-key / <topic>-value and needs a topic', () => {
    assert.equal(topicNameStrategy('calls', false, 'x.R'), 'calls-value')
    assert.equal(topicNameStrategy('calls', true, 'x.R'), 'calls-key')
    assert.throws(() => topicNameStrategy(undefined, false, 'x.R'), /no topic was given/)
  })

  test('record name strategies', () => {
    assert.equal(recordNameStrategy(undefined, false, 'x.R'), 'x.R')
    assert.equal(topicRecordNameStrategy('calls', false, 'x.R'), 'calls-x.R')
  })

  test('a serde with the topic name strategy cannot prepare without a topic', async () => {
    const serde = registryAvroSerde<EventV1>({ schema: V1, useSchemaId: 1, knownSchemas: { 1: V1 } })
    await assert.rejects(serde.prepare(), (e: unknown) => e instanceof SerdeError && /no topic was given/.test(e.message))
    const byRecord = registryAvroSerde<EventV1>({ schema: V1, useSchemaId: 1, knownSchemas: { 1: V1 }, subjectNameStrategy: recordNameStrategy })
    await byRecord.prepare()
    assert.equal(byRecord.writerSchemaId(), 1)
  })
})
