import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { type KafkajsDecoder, type RecordBatchContext, decodeRecord, recordDecoderInstalled } from '../../../runtime/kafka/kafkajs-record-decoder.js'

const require = createRequire(import.meta.url)
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => KafkajsDecoder
const decoderPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')
const encoderPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')

/** kafkajs' own file, fresh: the module cache may hold a replacement under its name. */
function kafkajsOwn<T>(path: string): T {
  const cached = require.cache[path]
  delete require.cache[path]
  try {
    return require(path) as T
  } finally {
    require.cache[path] = cached
  }
}

const kafkajsDecode = kafkajsOwn<(decoder: KafkajsDecoder, context?: RecordBatchContext) => object>(decoderPath)
const kafkajsEncode = kafkajsOwn<(record: object) => { buffer: Buffer }>(encoderPath)

/** A record's body as kafkajs' batch decoder hands it to the record decoder. */
function body(record: object): Buffer {
  return new Decoder(kafkajsEncode(record).buffer).readVarIntBytes()!
}

const decodeBoth = (bytes: Buffer, context: RecordBatchContext): { ours: object | undefined; theirs: object; oursAt: number; theirsAt: number } => {
  const a = new Decoder(bytes)
  const b = new Decoder(bytes)
  const ours = decodeRecord(a, context)
  const theirs = kafkajsDecode(b, context)
  return { ours, theirs, oursAt: a.offset, theirsAt: b.offset }
}

const contexts: RecordBatchContext[] = [
  { firstOffset: '0', firstTimestamp: '1765000000000', magicByte: 2, timestampType: 0, maxTimestamp: '1765000009999' },
  { firstOffset: '123456789012', firstTimestamp: '0', magicByte: 2, isControlBatch: true },
  { firstOffset: '7', firstTimestamp: '-1', magicByte: 2, timestampType: 1, maxTimestamp: '1765000001234' },
  { firstOffset: '9007199250000000', firstTimestamp: '1765000000000' },
]
const records: object[] = [
  { key: 'k', value: 'v', offsetDelta: 0, timestampDelta: 0 },
  { key: null, value: null, offsetDelta: 1, timestampDelta: -1 },
  { key: Buffer.from([0, 255]), value: 'é'.repeat(500), offsetDelta: 8_192, timestampDelta: 2 ** 31 + 5 },
  { key: 'k', value: 'v', offsetDelta: 2 ** 20, timestampDelta: -(2 ** 40) },
  { key: 'k', value: 'v', offsetDelta: 3, timestampDelta: 2 ** 48 - 1 },
  { key: 'k', value: 'v', offsetDelta: 3, timestampDelta: -(2 ** 48) },
  { key: 'k', value: 'v', headers: { a: 'x', trace: ['1', '2', '3'], bin: Buffer.from([9]) } },
]

test('records decode to what kafkajs decodes them to: strings, slices, headers, control and log-append batches', () => {
  let compared = 0
  for (const context of contexts)
    for (const record of records) {
      const { ours, theirs, oursAt, theirsAt } = decodeBoth(body(record), context)
      assert.ok(ours, JSON.stringify({ context, record }))
      assert.deepEqual(ours, theirs)
      assert.equal(oursAt, theirsAt)
      compared++
    }
  assert.equal(compared, contexts.length * records.length)
})

test('what it does not expect is left to kafkajs, with nothing read', () => {
  // A delta of 2^48 or more, and a base past 2^53 (not a safe integer).
  const cases: [object, RecordBatchContext][] = [
    [{ key: 'k', value: 'v', timestampDelta: 2 ** 48 }, contexts[0]!],
    [{ key: 'k', value: 'v', timestampDelta: -(2 ** 48) - 1 }, contexts[0]!],
    [
      { key: 'k', value: 'v' },
      { firstOffset: '9007199254740993', firstTimestamp: '0' },
    ],
    // A safe base whose sum with the record's delta is not.
    [
      { key: 'k', value: 'v', offsetDelta: 1_001 },
      { firstOffset: '9007199254740000', firstTimestamp: '0' },
    ],
  ]
  for (const [record, context] of cases) {
    const decoder = new Decoder(body(record))
    assert.equal(decodeRecord(decoder, context), undefined)
    assert.equal(decoder.offset, 0)
  }
  assert.equal(recordDecoderInstalled(), true)
  const installed = require(decoderPath) as typeof kafkajsDecode
  for (const [record, context] of cases) assert.deepEqual(installed(new Decoder(body(record)), context), kafkajsDecode(new Decoder(body(record)), context))
})
