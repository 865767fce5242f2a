import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { type RecordFields, batchChecksumInstalled, encodeRecord, recordEncoderInstalled } from '../../../runtime/kafka/kafkajs-record-encoder.js'

const require = createRequire(import.meta.url)
const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')

/** A fresh copy of kafkajs' own record encoder: the module cache holds the replacement. */
function kafkajsEncoder(): (record: RecordFields) => { buffer: Buffer } {
  const cached = require.cache[recordPath]
  delete require.cache[recordPath]
  try {
    return require(recordPath) as (record: RecordFields) => { buffer: Buffer }
  } finally {
    require.cache[recordPath] = cached
  }
}

const original = kafkajsEncoder()
const text = (n: number): string => 'abcdéfghij'.repeat(Math.ceil(n / 10)).slice(0, n)

const keys: unknown[] = [null, undefined, '', 'k', 'ключ', Buffer.from([0, 1, 255]), text(200)]
const values: unknown[] = [
  null,
  '',
  'v',
  text(63),
  text(64),
  text(127),
  text(128),
  text(511),
  text(512),
  text(1_000),
  Buffer.alloc(16_383, 7),
  Buffer.alloc(16_384, 9),
  text(300_000),
]
const offsetDeltas = [0, 1, 63, 64, 8_191, 8_192, 1_048_575, 1_048_576, 2 ** 31 - 1]
const timestampDeltas = [0, 1, -1, 63, 64, -64, -65, 2 ** 31, -(2 ** 31) - 5, 2 ** 40, 1_765_000_000_000, -1_765_000_000_000, 2 ** 52 - 1, -(2 ** 52) + 1]
const headerSets: (Record<string, unknown> | undefined)[] = [
  undefined,
  {},
  { a: 'x' },
  { trace: ['1', '2'], bin: Buffer.from([1, 2]), empty: '' },
  { é: text(300) },
]

test('the encoder writes the bytes kafkajs writes, for keys, values, headers and deltas of every size class', () => {
  let compared = 0
  const check = (record: RecordFields): void => {
    const ours = encodeRecord(record)
    assert.ok(ours, `encoded: ${JSON.stringify(record).slice(0, 120)}`)
    assert.deepEqual(ours.buffer, original(record).buffer, JSON.stringify(record).slice(0, 200))
    assert.equal(ours.buf, ours.buffer)
    assert.equal(ours.size(), ours.buffer.length)
    compared++
  }
  for (const key of keys) for (const value of values) check({ key, value, offsetDelta: 3, timestampDelta: 1_000 })
  for (const offsetDelta of offsetDeltas) for (const timestampDelta of timestampDeltas) check({ key: 'k', value: 'v', offsetDelta, timestampDelta })
  for (const headers of headerSets) check({ key: 'k', value: text(100), headers })
  check({ value: 'no key, deltas defaulted' })
  assert.equal(compared, keys.length * values.length + offsetDeltas.length * timestampDeltas.length + headerSets.length + 1)
})

test('records it does not expect are left to kafkajs: the installed encoder writes what kafkajs writes for them', () => {
  assert.equal(recordEncoderInstalled(), true)
  const installed = require(recordPath) as (record: RecordFields) => { buffer: Buffer }
  const odd: RecordFields[] = [
    { key: new Uint8Array([1, 2]), value: 'v' },
    { key: 'k', value: 'v', timestampDelta: Number.MAX_SAFE_INTEGER },
    { key: 'k', value: 'v', timestampDelta: -(2 ** 52) },
    { key: 'k', value: 'v', timestampDelta: 2 ** 60 },
    { key: 'k', value: 'v', headers: { n: new Uint8Array([3]) } },
  ]
  for (const record of odd) {
    assert.equal(encodeRecord(record), undefined)
    assert.deepEqual(installed(record).buffer, original(record).buffer)
  }
  assert.deepEqual(installed({ key: 'k', value: 'v' }).buffer, original({ key: 'k', value: 'v' }).buffer)
  // A null header value kafkajs refuses, and still does.
  assert.equal(encodeRecord({ key: 'k', value: 'v', headers: { gone: null } }), undefined)
  assert.throws(() => installed({ key: 'k', value: 'v', headers: { gone: null } }), TypeError)
})

test('record batches take the CRC-32C kafkajs computes, from the native checksum', () => {
  assert.equal(batchChecksumInstalled(), true)
  const checksumPath = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js')
  const installed = require(checksumPath) as (buffer: Buffer) => number
  const kafkajsChecksum = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (buffer: Buffer) => number
  assert.equal(installed(Buffer.from('123456789')), 0xe3069283)
  let seed = 7
  const byte = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) & 0xff
  for (const size of [0, 1, 7, 8, 63, 64, 1_000, 65_537, 1_000_003]) {
    const data = Buffer.from(Array.from({ length: size }, byte))
    assert.equal(installed(data), kafkajsChecksum(data), `size ${size}`)
  }
})
