/**
 * The registry serde against a real Confluent-compatible registry (Apicurio, started by
 * scripts/schema-registry.ts unless SCHEMA_REGISTRY_URL names one). Needs no Kafka broker: subjects
 * are named after unique topic names, and records are bytes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import type avro from 'avsc'
import { SerdeError } from '../../../../schemas/serde.js'
import { registryAvroSerde, UnknownSchemaIdError, type RegistryAvroSerdeOptions } from '../../../../schemas/registry/index.js'
import type { SchemaRegistryLease } from '../../../../scripts/schema-registry.js'
import { useSchemaRegistry } from '../../../schema-registry.js'

interface CallV1 {
  tenant: string
  latencyMs: number
}
interface CallV2 extends CallV1 {
  model: string
}

const V1 = {
  type: 'record',
  name: 'LlmCall',
  namespace: 'sentinel.it',
  fields: [
    { name: 'tenant', type: 'string' },
    { name: 'latencyMs', type: 'double' },
  ],
} satisfies avro.Schema
const V2 = { ...V1, fields: [...V1.fields, { name: 'model', type: 'string', default: 'unknown' }] } satisfies avro.Schema
const INCOMPATIBLE = { ...V1, fields: [{ name: 'tenant', type: 'int' }] } satisfies avro.Schema

const uniqueTopic = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`

/** Deserializes as a runtime would: on an uncached id, await ready() once and retry. */
async function read<T>(serde: { deserialize(data: Buffer): T }, data: Buffer): Promise<T> {
  try {
    return serde.deserialize(data)
  } catch (e) {
    if (!(e instanceof UnknownSchemaIdError)) throw e
    await e.ready()
    return serde.deserialize(data)
  }
}

describe('registry Avro serde against a real schema registry', () => {
  let lease: SchemaRegistryLease
  let client: SchemaRegistry
  const serde = <T>(options: Omit<RegistryAvroSerdeOptions, 'registry'>) => registryAvroSerde<T>({ registry: lease.url, ...options })

  before(async () => {
    lease = await useSchemaRegistry()
    client = new SchemaRegistry({ host: lease.url })
  })
  after(async () => {
    await lease?.release()
  })

  test('prepare registers the schema under <topic>-value; the bytes are what the library encodes', async () => {
    const topic = uniqueTopic('calls')
    const producer = serde<CallV1>({ schema: V1 })
    await producer.prepare(topic)
    const id = producer.writerSchemaId(topic)
    assert.ok(id !== undefined && id > 0)
    assert.equal(await client.getLatestSchemaId(`${topic}-value`), id)

    const value = { tenant: 'acme', latencyMs: 41.5 }
    const bytes = producer.serialize(value, topic)
    assert.ok(bytes.equals(await client.encode(id, value)), 'same bytes as the library encoder')
    assert.deepEqual({ ...(await client.decode(bytes)) }, value)
    assert.deepEqual({ ...(await read(serde<CallV1>({ schema: V1 }), bytes)) }, value, 'a fresh consumer fetches id and decodes')
    await producer.prepare(topic) // idempotent: no second registration
    assert.equal(producer.writerSchemaId(topic), id)
  })

  test('a key serde uses the <topic>-key subject', async () => {
    const topic = uniqueTopic('keys')
    const keys = serde<CallV1>({ schema: V1, isKey: true })
    await keys.prepare(topic)
    assert.equal(await client.getLatestSchemaId(`${topic}-key`), keys.writerSchemaId(topic))
  })

  test('records the library encodes with a registered id decode through the serde', async () => {
    const topic = uniqueTopic('lib')
    const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(V1) }, { subject: `${topic}-value` })
    const bytes = await client.encode(id, { tenant: 'x', latencyMs: 1 })
    assert.deepEqual({ ...(await read(serde<CallV1>({ schema: V1 }), bytes)) }, { tenant: 'x', latencyMs: 1 })
  })

  test('schema evolution: a compatible change gets a new id; old and new readers read both', async () => {
    const topic = uniqueTopic('evolve')
    const producerV1 = serde<CallV1>({ schema: V1 })
    const producerV2 = serde<CallV2>({ schema: V2 })
    await producerV1.prepare(topic)
    await producerV2.prepare(topic)
    const [id1, id2] = [producerV1.writerSchemaId(topic), producerV2.writerSchemaId(topic)]
    assert.ok(id1 !== undefined && id2 !== undefined && id1 !== id2)

    const oldRecord = producerV1.serialize({ tenant: 'a', latencyMs: 1 }, topic)
    const newRecord = producerV2.serialize({ tenant: 'b', latencyMs: 2, model: 'gpt-x' }, topic)
    const readerV2 = serde<CallV2>({ schema: V2 })
    await readerV2.prefetchFor([oldRecord, newRecord])
    assert.deepEqual({ ...readerV2.deserialize(oldRecord) }, { tenant: 'a', latencyMs: 1, model: 'unknown' })
    assert.deepEqual({ ...readerV2.deserialize(newRecord) }, { tenant: 'b', latencyMs: 2, model: 'gpt-x' })
    const readerV1 = serde<CallV1>({ schema: V1 })
    assert.deepEqual({ ...(await read(readerV1, newRecord)) }, { tenant: 'b', latencyMs: 2 }, 'an old reader drops the new field')
  })

  test('an incompatible change is refused at prepare with a SerdeError naming the subject', async () => {
    const topic = uniqueTopic('breaking')
    await serde<CallV1>({ schema: V1 }).prepare(topic)
    await assert.rejects(serde({ schema: INCOMPATIBLE }).prepare(topic), (e: unknown) => {
      assert.ok(e instanceof SerdeError)
      assert.match(e.message, new RegExp(`could not register the schema under subject ${topic}-value`))
      return true
    })
  })

  test('autoRegister: false finds a registered schema and names the fix for one that is not', async () => {
    const topic = uniqueTopic('lookup')
    const lookup = serde<CallV1>({ schema: V1, autoRegister: false })
    await assert.rejects(lookup.prepare(topic), /could not find the schema under subject .*register it first, or set autoRegister: true/)
    const registering = serde<CallV1>({ schema: V1 })
    await registering.prepare(topic)
    await lookup.prepare(topic)
    assert.equal(lookup.writerSchemaId(topic), registering.writerSchemaId(topic))
  })

  test('an id the registry does not know: UnknownSchemaIdError, then after ready() a SerdeError', async () => {
    const consumer = serde<CallV1>({ schema: V1 })
    const bytes = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2, 0x61, 0, 0, 0, 0, 0, 0, 0, 0])
    let first: unknown
    try {
      consumer.deserialize(bytes)
    } catch (e) {
      first = e
    }
    assert.ok(first instanceof UnknownSchemaIdError)
    assert.equal(first.schemaId, 0x7ffffff0)
    await first.ready()
    assert.throws(() => consumer.deserialize(bytes), (e: unknown) => {
      assert.ok(e instanceof SerdeError, 'the DLQ path: a SerdeError')
      assert.match(e.message, /schema id 2147483632 does not exist in the schema registry/)
      return true
    })
    await assert.rejects(read(consumer, bytes), SerdeError)
  })
})
