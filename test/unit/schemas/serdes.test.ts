import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { isNullableSerde, SerdeError, Serdes } from '../../../schemas/index.js'

const avscPath = fileURLToPath(new URL('./fixtures/llm-call.avsc', import.meta.url))

describe('primitive serdes', () => {
  test('string round-trips any unicode text', () => {
    const serde = Serdes.string()
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => serde.deserialize(serde.serialize(s)) === s), { numRuns: 200 })
  })

  test('double, long and int round-trip and use Kafka byte layouts', () => {
    fc.assert(fc.property(fc.double({ noNaN: true }), (d) => Object.is(Serdes.double().deserialize(Serdes.double().serialize(d)), d)))
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => Serdes.long().deserialize(Serdes.long().serialize(n)) === n))
    fc.assert(fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (n) => Serdes.int().deserialize(Serdes.int().serialize(n)) === n))
    assert.deepEqual(Serdes.long().serialize(258), Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]))
    assert.deepEqual(Serdes.int().serialize(-1), Buffer.from([0xff, 0xff, 0xff, 0xff]))
  })

  test('number serdes reject values they cannot hold and bytes of the wrong length', () => {
    assert.throws(() => Serdes.long().serialize(2 ** 60), SerdeError)
    assert.throws(() => Serdes.long().serialize(1.5), SerdeError)
    assert.throws(() => Serdes.int().serialize(2 ** 31), SerdeError)
    assert.throws(() => Serdes.long().deserialize(Buffer.alloc(4)), SerdeError)
    assert.throws(() => Serdes.double().deserialize(Buffer.alloc(3)), SerdeError)
    const big = Buffer.alloc(8)
    big.writeBigInt64BE(2n ** 62n)
    assert.throws(() => Serdes.long().deserialize(big), /safe integer/)
  })

  test('nullable marks a serde as accepting null and keeps its bytes format', () => {
    const serde = Serdes.nullable(Serdes.string())
    assert.equal(isNullableSerde(serde), true)
    assert.equal(isNullableSerde(Serdes.string()), false)
    assert.equal(serde.deserialize(serde.serialize('x')), 'x')
    assert.equal(serde.name, 'nullable(string)')
  })
})

describe('json serde', () => {
  interface Event {
    tenant: string
    n: number
  }
  test('round-trips JSON values', () => {
    const serde = Serdes.json<unknown>()
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      assert.deepEqual(serde.deserialize(serde.serialize(v)), JSON.parse(JSON.stringify(v)))
    }), { numRuns: 200 })
  })

  test('malformed JSON is a SerdeError naming the serde', () => {
    const serde = Serdes.json<Event>({ name: 'json(Event)' })
    assert.throws(() => serde.deserialize(Buffer.from('{"tenant": ')), (err: unknown) => {
      assert.ok(err instanceof SerdeError)
      assert.equal(err.serde, 'json(Event)')
      assert.match(err.message, /^json\(Event\): invalid JSON/)
      return true
    })
  })

  test('a validator turns a wrong shape into a SerdeError', () => {
    const isEvent = (v: unknown): v is Event => typeof v === 'object' && v !== null && typeof (v as Event).tenant === 'string'
    const serde = Serdes.json<Event>({ validate: isEvent })
    assert.deepEqual(serde.deserialize(Buffer.from('{"tenant":"a","n":1}')), { tenant: 'a', n: 1 })
    assert.throws(() => serde.deserialize(Buffer.from('{"n":1}')), /does not match the expected shape/)
  })

  test('values JSON cannot represent are rejected when serializing', () => {
    assert.throws(() => Serdes.json<unknown>().serialize(undefined), SerdeError)
  })
})

describe('avro serde (raw)', () => {
  interface LlmCall {
    tenant: string
    latencyMs: number
    tokens: number | null
  }
  test('round-trips records, from a schema object and from an .avsc file', () => {
    const fromFile = Serdes.avroFromFile<LlmCall>(avscPath)
    assert.equal(fromFile.name, 'avro(sentinel.test.LlmCall)')
    const call: LlmCall = { tenant: 'acme', latencyMs: 12.5, tokens: 300 }
    const bytes = fromFile.serialize(call)
    assert.deepEqual({ ...fromFile.deserialize(bytes) }, call)
    const fromObject = Serdes.avro<LlmCall>({
      type: 'record',
      name: 'LlmCall',
      namespace: 'sentinel.test',
      fields: [
        { name: 'tenant', type: 'string' },
        { name: 'latencyMs', type: 'double' },
        { name: 'tokens', type: ['null', 'int'], default: null },
      ],
    })
    assert.deepEqual({ ...fromObject.deserialize(bytes) }, call)
  })

  test('truncated bytes and invalid values are SerdeErrors', () => {
    const serde = Serdes.avroFromFile<LlmCall>(avscPath)
    const bytes = serde.serialize({ tenant: 'acme', latencyMs: 1, tokens: null })
    assert.throws(() => serde.deserialize(bytes.subarray(0, 3)), SerdeError)
    assert.throws(() => serde.serialize({ tenant: 'acme', latencyMs: 'slow', tokens: null } as unknown as LlmCall), SerdeError)
  })

  test('a missing .avsc file names the path', () => {
    assert.throws(() => Serdes.avroFromFile('/nonexistent/x.avsc'), /\/nonexistent\/x\.avsc/)
  })
})

describe('windowed serde', () => {
  test('round-trips key and window, for any inner key', () => {
    const serde = Serdes.windowed(Serdes.string())
    fc.assert(
      fc.property(fc.string(), fc.nat(2 ** 50), fc.nat(2 ** 40), (key, start, size) => {
        const value = { key, window: { start, end: start + size } }
        assert.deepEqual(serde.deserialize(serde.serialize(value)), value)
      }),
      { numRuns: 200 },
    )
  })

  test('fewer than 16 bytes is a SerdeError', () => {
    assert.throws(() => Serdes.windowed(Serdes.string()).deserialize(Buffer.alloc(10)), SerdeError)
  })
})

describe('int64 layout without BigInt', () => {
  test('matches Buffer.writeBigInt64BE for every safe integer, both ways', async () => {
    const { readInt64BE, writeInt64BE } = await import('../../../schemas/int64.js')
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const ours = Buffer.alloc(8)
        writeInt64BE(ours, n, 0)
        const reference = Buffer.alloc(8)
        reference.writeBigInt64BE(BigInt(n), 0)
        assert.deepEqual(ours, reference)
        assert.equal(readInt64BE(reference, 0), n)
      }),
      { numRuns: 500 },
    )
  })
})
