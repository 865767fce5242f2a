/**
 * `--print <topic>`: a topic's records as JSON lines on stdout, one object per record:
 *
 *   {"topic":"anomalies","partition":0,"offset":"3","timestamp":1700000000000,"key":"app-1","value":{...}}
 *
 * When the topology writes or reads the topic, its serdes decode keys and values (an Avro sink prints
 * as the record it is, not as bytes). Otherwise, and for bytes those serdes cannot read, keys and values
 * that parse as JSON are printed as that JSON; other UTF-8 text as a string; other bytes as base64, with
 * `"keyEncoding"`/`"valueEncoding": "base64"` beside them so a reader can tell. Headers are printed
 * when the record has any.
 */
import type { Writable } from 'node:stream'
import type { IncomingRecord } from '../../runtime/streams-runtime.js'
import type { Serde } from '../../schemas/serde.js'
import { isTopicRef } from '../../topology/graph.js'
import type { Topology } from '../../topology/topology.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The serdes the topology uses for a topic; either may be absent. */
export interface TopicSerdes {
  readonly key?: Serde<unknown>
  readonly value?: Serde<unknown>
}

type Decoded = { value: unknown; base64: boolean }

function decodeGuessing(bytes: Buffer): Decoded {
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

function decode(bytes: Buffer | null, topic: string, serde: Serde<unknown> | undefined): Decoded {
  if (bytes === null) return { value: null, base64: false }
  if (serde) {
    try {
      return { value: serde.deserialize(bytes, topic), base64: false }
    } catch {
      // Records another producer wrote in another format still print, guessed like an unknown topic's.
    }
  }
  return decodeGuessing(bytes)
}

/** Avro longs may decode as bigint, and bytes fields as Buffers: print them as JSON can carry them. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('base64')
  }
  return value
}

export function recordLine(record: IncomingRecord, serdes: TopicSerdes = {}): string {
  const key = decode(record.key, record.topic, serdes.key)
  const value = decode(record.value, record.topic, serdes.value)
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
  return JSON.stringify(line, jsonSafe)
}

/**
 * The serdes of the topology's sink writing `topic` (what is on the topic is what the sink wrote),
 * else of its source reading it; none for a topic the topology does not name.
 */
export function topicSerdes(topology: Topology, topic: string): TopicSerdes {
  const subtopologies = topology.subtopologies
  for (const sub of subtopologies) {
    for (const sink of sub.sinks) if (isTopicRef(sink.topic) && sink.topic.name === topic) return { key: sink.key, value: sink.value }
  }
  for (const sub of subtopologies) {
    for (const source of sub.sources) if (source.topics.some((t) => t.name === topic)) return { key: source.key, value: source.value }
  }
  return {}
}

/** A `consume` handler writing each batch to `out`, waiting for the stream to drain when it is full. */
export function printRecords(out: Writable, serdes: TopicSerdes = {}): (records: readonly IncomingRecord[]) => Promise<void> {
  return async (records) => {
    if (records.length === 0) return
    const text = records.map((record) => recordLine(record, serdes)).join('\n') + '\n'
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve))
  }
}
