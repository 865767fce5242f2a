/**
 * kafkajs' record encoder (record format v2), replaced by one that writes each record into a single
 * buffer of its exact size, and its record batch checksum by a native one; both installed in place
 * of kafkajs' own.
 *
 * kafkajs 2.2.4 (`protocol/recordBatch/record/v0`) encodes every produced record through a growing
 * Encoder: a zero-filled 512-byte allocation, a second one and a copy when the value does not fit,
 * a `Buffer.from` per varint and Long arithmetic for the timestamp delta. In a CPU profile of the
 * Sentinel app on Kafka that was ~9% of the process's time, beside the garbage it left for the
 * collector. This encoder writes the same bytes (a unit test compares them with kafkajs' own over
 * keys, values, headers and deltas of every size class); a record it does not expect (a key that is
 * neither bytes nor text, a timestamp delta of 2^52 ms or more) goes to kafkajs' encoder.
 *
 * kafkajs' produce request takes its record encoder (and its batch encoder the checksum) when first
 * required, so these go into Node's module cache under kafkajs' file names before then, as
 * read-committed-filter.ts does for the read_committed filter (all of them: kafkajs-replacements.ts).
 */
import { createRequire } from 'node:module'

/** One record as kafkajs' produce request hands it to the encoder. */
export interface RecordFields {
  offsetDelta?: number
  timestampDelta?: unknown
  key?: unknown
  value?: unknown
  headers?: Record<string, unknown>
}

/** What kafkajs' batch encoder reads of an encoded record: its bytes, as `buf` and `buffer`. */
export class EncodedRecord {
  constructor(readonly buf: Buffer) {}

  get buffer(): Buffer {
    return this.buf
  }

  size(): number {
    return this.buf.length
  }
}

type Bytes = Buffer | string | null
type HeaderPair = readonly [string, Buffer | string]

const bytesOf = (value: unknown): Bytes | undefined => (value == null ? null : Buffer.isBuffer(value) || typeof value === 'string' ? value : undefined)

/** Zigzag of a 32-bit integer, as an unsigned 32-bit value. */
const zigzag32 = (value: number): number => ((value << 1) ^ (value >> 31)) >>> 0

function varIntSize(value: number): number {
  let v = zigzag32(value)
  let size = 1
  while (v >= 0x80) {
    v >>>= 7
    size++
  }
  return size
}

function writeVarInt(buf: Buffer, at: number, value: number): number {
  let v = zigzag32(value)
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[at++] = v
  return at
}

/** Beyond this a delta's zigzag (2|v|) is past 2^53, where doubles skip integers. */
const LONG_IN_DOUBLE = 2 ** 52

/** Zigzag of an integer of magnitude below LONG_IN_DOUBLE. */
const zigzag64 = (value: number): number => (value >= 0 ? value * 2 : -value * 2 - 1)

function varLongSize(value: number): number {
  let v = zigzag64(value)
  let size = 1
  while (v >= 0x80) {
    v = Math.floor(v / 0x80)
    size++
  }
  return size
}

function writeVarLong(buf: Buffer, at: number, value: number): number {
  let v = zigzag64(value)
  while (v >= 0x80) {
    buf[at++] = (v % 0x80) | 0x80
    v = Math.floor(v / 0x80)
  }
  buf[at++] = v
  return at
}

const byteLength = (bytes: Bytes): number => (bytes === null ? -1 : typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.length)

const sizeOfBytes = (length: number): number => (length < 0 ? varIntSize(-1) : varIntSize(length) + length)

function writeBytes(buf: Buffer, at: number, bytes: Bytes, length: number): number {
  at = writeVarInt(buf, at, length)
  if (bytes === null) return at
  if (typeof bytes === 'string') return at + buf.write(bytes, at, length, 'utf8')
  bytes.copy(buf, at)
  return at + length
}

const NO_HEADERS: readonly HeaderPair[] = []

/** kafkajs' headers object as a list of key/value pairs (an array value is one header per element); undefined when a value is neither bytes nor text. */
function headerPairs(headers: Record<string, unknown> | undefined): readonly HeaderPair[] | undefined {
  if (headers === undefined) return NO_HEADERS
  const pairs: HeaderPair[] = []
  for (const key of Object.keys(headers)) {
    const raw = headers[key]
    for (const one of Array.isArray(raw) ? raw : [raw]) {
      // kafkajs refuses a null header value (it throws): left to it, so it still does.
      if (!Buffer.isBuffer(one) && typeof one !== 'string') return undefined
      pairs.push([key, one])
    }
  }
  return pairs
}

/** The record in kafkajs' wire form, or undefined when it is one to leave to kafkajs' encoder. */
export function encodeRecord(record: RecordFields): EncodedRecord | undefined {
  const offsetDelta = record.offsetDelta ?? 0
  const timestampDelta = record.timestampDelta ?? 0
  const key = bytesOf(record.key)
  const value = bytesOf(record.value)
  const headers = headerPairs(record.headers)
  if (
    key === undefined ||
    value === undefined ||
    headers === undefined ||
    typeof timestampDelta !== 'number' ||
    !Number.isInteger(timestampDelta) ||
    Math.abs(timestampDelta) >= LONG_IN_DOUBLE ||
    !Number.isInteger(offsetDelta)
  )
    return undefined
  const keyLength = byteLength(key)
  const valueLength = byteLength(value)
  let headersSize = varIntSize(headers.length)
  const headerLengths: number[] = []
  for (const [name, headerValue] of headers) {
    const nameLength = Buffer.byteLength(name, 'utf8')
    const valueBytes = byteLength(headerValue)
    headerLengths.push(nameLength, valueBytes)
    headersSize += sizeOfBytes(nameLength) + sizeOfBytes(valueBytes)
  }
  // Attributes (one byte, always 0), then the deltas, key, value and headers.
  const body = 1 + varLongSize(timestampDelta) + varIntSize(offsetDelta) + sizeOfBytes(keyLength) + sizeOfBytes(valueLength) + headersSize
  const buf = Buffer.allocUnsafe(varIntSize(body) + body)
  let at = writeVarInt(buf, 0, body)
  buf[at++] = 0
  at = writeVarLong(buf, at, timestampDelta)
  at = writeVarInt(buf, at, offsetDelta)
  at = writeBytes(buf, at, key, keyLength)
  at = writeBytes(buf, at, value, valueLength)
  at = writeVarInt(buf, at, headers.length)
  for (let i = 0; i < headers.length; i++) {
    at = writeBytes(buf, at, headers[i]![0], headerLengths[2 * i]!)
    at = writeBytes(buf, at, headers[i]![1], headerLengths[2 * i + 1]!)
  }
  return new EncodedRecord(buf)
}

const require = createRequire(import.meta.url)
const cache = require.cache

/** The module kafkajs would load from `path`, resolved from here; undefined when kafkajs has no such file. */
function kafkajsModule(path: string): string | undefined {
  try {
    return require.resolve(`kafkajs/src/protocol/${path}`)
  } catch {
    return undefined
  }
}

const INSTALLED = Symbol.for('sentinel-streams.record-encoder')

function installRecordEncoder(): boolean {
  const recordPath = kafkajsModule('recordBatch/record/v0/index.js')
  const producePath = kafkajsModule('requests/produce/v3/request.js')
  if (recordPath === undefined || producePath === undefined) return false
  // Produced with already (a kafkajs producer used before the runtime): its request holds kafkajs' encoder.
  if (cache[producePath]) return cache[recordPath]?.exports?.[INSTALLED] === true
  const kafkajsEncoder = require(recordPath) as (record: RecordFields) => unknown
  cache[recordPath]!.exports = Object.assign((record: RecordFields) => encodeRecord(record) ?? kafkajsEncoder(record), { [INSTALLED]: true })
  return true
}

/**
 * The record batch's CRC-32C from @node-rs/crc32 (native, hardware CRC instructions) in place of
 * kafkajs' table lookup per byte, ~3.5% of the Sentinel profile after the encoder above. Where the
 * package has no binary for the platform, kafkajs' own stays.
 */
function installBatchChecksum(): boolean {
  const checksumPath = kafkajsModule('recordBatch/crc32C/index.js')
  const batchPath = kafkajsModule('recordBatch/v0/index.js')
  if (checksumPath === undefined || batchPath === undefined) return false
  if (cache[batchPath]) return cache[checksumPath]?.exports?.[INSTALLED] === true
  let native: (data: Buffer) => number
  try {
    native = (require('@node-rs/crc32') as { crc32c: (data: Buffer) => number }).crc32c
  } catch {
    return false
  }
  require(checksumPath)
  cache[checksumPath]!.exports = Object.assign((buffer: Buffer) => native(buffer), { [INSTALLED]: true })
  return true
}

const encoderInstalled = installRecordEncoder()
const checksumInstalled = installBatchChecksum()

/** Whether kafkajs producers of this process use the encoder above. */
export const recordEncoderInstalled = (): boolean => encoderInstalled

/** Whether kafkajs producers of this process take record batch checksums from @node-rs/crc32. */
export const batchChecksumInstalled = (): boolean => checksumInstalled
