import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { SerdeError } from '../../../../schemas/serde.js'
import { frame, peekSchemaId, unframe, WIRE_HEADER_BYTES } from '../../../../schemas/registry/wire-format.js'

describe('Confluent wire format', () => {
  test('lays out magic byte 0, the id big-endian, then the body', () => {
    const framed = frame(0x01020304, Buffer.from([0xaa, 0xbb]))
    assert.deepEqual([...framed], [0, 1, 2, 3, 4, 0xaa, 0xbb])
  })

  test('unframe inverts frame for any id and body', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.uint8Array({ maxLength: 64 }), (id, bytes) => {
        const body = Buffer.from(bytes)
        const framed = frame(id, body)
        assert.equal(framed.length, WIRE_HEADER_BYTES + body.length)
        const { schemaId, body: out } = unframe(framed, 'test')
        assert.equal(schemaId, id)
        assert.ok(out.equals(body))
        assert.equal(peekSchemaId(framed), id)
      }),
      { numRuns: 200 },
    )
  })

  test('a buffer shorter than the header is a SerdeError saying so', () => {
    for (const length of [0, 1, 4]) {
      assert.throws(() => unframe(Buffer.alloc(length), 'registry-avro(T)'), (e: unknown) => {
        assert.ok(e instanceof SerdeError)
        assert.match(e.message, new RegExp(`^registry-avro\\(T\\): ${length} bytes is too short`))
        return true
      })
    }
  })

  test('a wrong magic byte is a SerdeError naming the byte', () => {
    const json = Buffer.from('{"a":1}')
    assert.throws(() => unframe(json, 's'), (e: unknown) => e instanceof SerdeError && /magic byte is 123, expected 0/.test(e.message))
  })

  test('peekSchemaId is undefined for anything not framed, and never throws', () => {
    assert.equal(peekSchemaId(null), undefined)
    assert.equal(peekSchemaId(undefined), undefined)
    assert.equal(peekSchemaId(Buffer.from([0, 0, 0])), undefined)
    assert.equal(peekSchemaId(Buffer.from([1, 0, 0, 0, 5])), undefined)
    assert.equal(peekSchemaId(Buffer.from([0, 0, 0, 0, 5])), 5)
  })
})
