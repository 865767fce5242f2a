/**
 * Feeds a JSON Lines stream (a file, stdin) into a topic through any runtime's `send`: each
 * non-blank line is one record value, as is. Lines go out in batches, and the next batch is read
 * only once the previous one was sent, so a slow topology slows the reader instead of filling memory.
 */
import type { Readable } from 'node:stream'
import { createInterface } from 'node:readline'
import type { OutgoingRecord, StreamsRuntime } from '../streams-runtime.js'

export interface JsonLinesOptions {
  /** A top-level field of each line whose value (stringified) becomes the record key; default: null keys. */
  readonly keyField?: string
  /** Lines per `send` (default 500). */
  readonly batchSize?: number
}

export interface JsonLinesResult {
  /** Records sent. */
  readonly records: number
  /**
   * Lines that are not JSON objects (sent anyway, with a null key: the topology's deserializer
   * decides, and its error policy sends them to the DLQ).
   */
  readonly malformed: number
}

export async function pipeJsonLines(
  runtime: Pick<StreamsRuntime, 'send'>,
  stream: Readable,
  topic: string,
  options: JsonLinesOptions = {},
): Promise<JsonLinesResult> {
  const batchSize = options.batchSize ?? 500
  let batch: OutgoingRecord[] = []
  let records = 0
  let malformed = 0
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  for await (const raw of lines) {
    const line = raw.trim()
    if (line.length === 0) continue
    let key: string | null = null
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      parsed = undefined
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) malformed++
    else if (options.keyField !== undefined) key = keyOf((parsed as Record<string, unknown>)[options.keyField])
    batch.push({ key, value: line })
    if (batch.length >= batchSize) {
      await runtime.send(topic, batch)
      records += batch.length
      batch = []
    }
  }
  if (batch.length > 0) {
    await runtime.send(topic, batch)
    records += batch.length
  }
  return { records, malformed }
}

function keyOf(value: unknown): string | null {
  if (value === undefined || value === null) return null
  return typeof value === 'string' ? value : JSON.stringify(value)
}
