/**
 * kafkajs' record decoder (record format v2, `protocol/recordBatch/record/v0/decoder.js`), replaced
 * by one that does its arithmetic in numbers, and installed in its place.
 *
 * For every fetched record kafkajs parses the batch's first offset and first timestamp from their
 * strings again into Long objects, reads the timestamp delta as a Long one byte at a time (a Long
 * per byte), adds, and prints both back to strings; headers are merged by spreading the object once
 * per header. A heap profile of the Sentinel app on Kafka had kafkajs' record decoding at 28% of the
 * bytes allocated. This decoder parses the batch's bases once per batch (a WeakMap on kafkajs' batch
 * context) and gives the same record object: the same strings, the same key and value slices, the
 * same headers (a unit test compares them with kafkajs' own). A record whose offset or timestamp
 * is not a safe integer, or whose timestamp delta is 2^48 ms or more, is left to kafkajs' decoder.
 *
 * kafkajs' batch decoder takes the record decoder when it is first required (on the first fetch),
 * so this one goes into Node's module cache under kafkajs' file name before then; see
 * kafkajs-replacements.ts, which entry points import first.
 */
import { createRequire } from 'node:module'

/** The part of kafkajs' `Decoder` this uses. */
export interface KafkajsDecoder {
  buffer: Buffer
  offset: number
  readInt8(): number
  readVarInt(): number
  readVarIntBytes(): Buffer | null
  readVarIntString(): string | null
}

/** What kafkajs' batch decoder passes for every record of a batch (one object per batch). */
export interface RecordBatchContext {
  firstOffset?: string
  firstTimestamp?: string
  magicByte?: number
  isControlBatch?: boolean
  timestampType?: number
  maxTimestamp?: string
}

/** kafkajs' TimestampTypes.LOG_APPEND_TIME. */
const LOG_APPEND_TIME = 1

/** A batch's first offset and timestamp as numbers, or null when either is not a safe integer. */
const bases = new WeakMap<RecordBatchContext, { offset: number; timestamp: number } | null>()

function basesOf(context: RecordBatchContext): { offset: number; timestamp: number } | null {
  let found = bases.get(context)
  if (found === undefined) {
    const offset = Number(context.firstOffset)
    const timestamp = Number(context.firstTimestamp)
    const exact = (n: number, text: string | undefined): boolean => Number.isSafeInteger(n) && String(n) === text
    found = exact(offset, context.firstOffset) && exact(timestamp, context.firstTimestamp) ? { offset, timestamp } : null
    bases.set(context, found)
  }
  return found
}

/** A zigzag varlong below 2^48 in magnitude (seven bytes at most), read from `decoder`; undefined when longer. */
function readSmallVarLong(decoder: KafkajsDecoder): number | undefined {
  const buf = decoder.buffer
  let at = decoder.offset
  let value = 0
  let scale = 1
  for (let i = 0; i < 7; i++) {
    const byte = buf[at++]
    if (byte === undefined) return undefined
    value += (byte & 0x7f) * scale
    if (byte < 0x80) {
      decoder.offset = at
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2
    }
    scale *= 0x80
  }
  return undefined
}

type Headers = Record<string, Buffer | null | (Buffer | null)[]>

/** The record at the decoder's position in kafkajs' shape, or undefined (nothing read) to leave it to kafkajs. */
export function decodeRecord(decoder: KafkajsDecoder, context: RecordBatchContext = {}): object | undefined {
  const base = basesOf(context)
  if (base === null) return undefined
  const start = decoder.offset
  const attributes = decoder.readInt8()
  const timestampDelta = readSmallVarLong(decoder)
  const offsetDelta = timestampDelta === undefined ? 0 : decoder.readVarInt()
  // Past 2^53 a sum would be rounded where kafkajs' Long is exact.
  if (timestampDelta === undefined || !Number.isSafeInteger(base.timestamp + timestampDelta) || !Number.isSafeInteger(base.offset + offsetDelta)) {
    decoder.offset = start
    return undefined
  }
  const timestamp = context.timestampType === LOG_APPEND_TIME && context.maxTimestamp ? context.maxTimestamp : String(base.timestamp + timestampDelta)
  const offset = String(base.offset + offsetDelta)
  const key = decoder.readVarIntBytes()
  const value = decoder.readVarIntBytes()
  const headers: Headers = {}
  const headerCount = decoder.readVarInt()
  for (let i = 0; i < headerCount; i++) {
    const name = String(decoder.readVarIntString())
    const headerValue = decoder.readVarIntBytes()
    const earlier = headers[name]
    headers[name] = earlier === undefined ? headerValue : Array.isArray(earlier) ? [...earlier, headerValue] : [earlier, headerValue]
  }
  return {
    magicByte: context.magicByte,
    attributes,
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: context.isControlBatch ?? false,
    batchContext: context,
  }
}

const require = createRequire(import.meta.url)
const INSTALLED = Symbol.for('sentinel-streams.record-decoder')

function install(): boolean {
  let recordPath: string
  let batchPath: string
  try {
    recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')
    batchPath = require.resolve('kafkajs/src/protocol/recordBatch/v0/decoder.js')
  } catch {
    return false
  }
  const cache = require.cache
  // Fetched with already (a kafkajs consumer used before the runtime): its batch decoder holds kafkajs' own.
  if (cache[batchPath]) return cache[recordPath]?.exports?.[INSTALLED] === true
  const kafkajsDecoder = require(recordPath) as (decoder: KafkajsDecoder, context?: RecordBatchContext) => object
  cache[recordPath]!.exports = Object.assign(
    (decoder: KafkajsDecoder, context?: RecordBatchContext) => decodeRecord(decoder, context) ?? kafkajsDecoder(decoder, context),
    {
      [INSTALLED]: true,
    },
  )
  return true
}

const installed = install()

/** Whether kafkajs consumers of this process use the decoder above. */
export const recordDecoderInstalled = (): boolean => installed
