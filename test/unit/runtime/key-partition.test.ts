import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { partitionOfKey } from '../../../runtime/query/key-partition.js'

/** murmur2 of these keys as Kafka's Java client computes it (Kafka's UtilsTest vectors). */
const JAVA_MURMUR2: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
]

describe('partitionOfKey', () => {
  test("matches the Java client's default partitioner (toPositive(murmur2(key)) % partitions)", () => {
    for (const [key, hash] of JAVA_MURMUR2) {
      for (let partitions = 1; partitions <= 13; partitions++) {
        assert.equal(partitionOfKey(Buffer.from(key), partitions), (hash & 0x7fffffff) % partitions, `${key} over ${partitions}`)
      }
    }
  })

  test('property: always a partition of the topic, the same for the same key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 64 }), (bytes, partitions) => {
        const p = partitionOfKey(Buffer.from(bytes), partitions)
        assert.ok(Number.isInteger(p) && p >= 0 && p < partitions)
        assert.equal(partitionOfKey(Buffer.from(bytes), partitions), p)
      }),
      { numRuns: 300 },
    )
  })

  test('rejects a partition count that is not a positive integer', () => {
    assert.throws(() => partitionOfKey(Buffer.from('k'), 0), /positive integer/)
  })
})
