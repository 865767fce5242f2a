/**
 * `--print <topic>`: a topic's records as JSON lines on stdout, one object per record:
 *
 *   {"topic":"anomalies","partition":0,"offset":"3","timestamp":1700000000000,"key":"app-1","value":{...}}
 *
 * Keys and values that parse as JSON are printed as that JSON; other UTF-8 text as a string; bytes
 * that are not UTF-8 (Avro, say) as base64, with `"keyEncoding"`/`"valueEncoding": "base64"` beside
 * them so a reader can tell. Headers are printed when the record has any.
 */
import type { Writable } from 'node:stream'
import type { IncomingRecord } from '../../runtime/streams-runtime.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })

type Decoded = { value: unknown; base64: boolean }

function decode(bytes: Buffer | null): Decoded {
  if (bytes === null) return { value: null, base64: false }
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return { value: bytes.toString('base64'), base64: true }
  }
  try {
    return { value: JSON.parse(text), base64: false }
  } catch {
    return { value: text, base64: false }
  }
}

export function recordLine(record: IncomingRecord): string {
  const key = decode(record.key)
  const value = decode(record.value)
  const line: Record<string, unknown> = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: key.value,
    value: value.value,
  }
  if (key.base64) line.keyEncoding = 'base64'
  if (value.base64) line.valueEncoding = 'base64'
  if (Object.keys(record.headers).length > 0) line.headers = record.headers
  return JSON.stringify(line)
}

/** A `consume` handler writing each batch to `out`, waiting for the stream to drain when it is full. */
export function printRecords(out: Writable): (records: readonly IncomingRecord[]) => Promise<void> {
  return async (records) => {
    if (records.length === 0) return
    const text = records.map(recordLine).join('\n') + '\n'
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve))
  }
}
