/**
 * Cuts a send into requests that kafkajs and the broker both take:
 *
 * - At most `maxPerTopic` messages per topic: kafkajs groups a send's messages per partition by
 *   copying the partition's array once per message (`[...current, message]` in
 *   groupMessagesPerPartition), which is quadratic in the messages per partition of one call: a
 *   10,000-record batch to a one-partition changelog costs ~50M copies.
 * - At most `maxRequestBytes` of keys, values and headers: the broker refuses a record batch over
 *   `message.max.bytes` (1 MB by default) whole, and kafkajs does not split it. Without this, a few
 *   large records in one batch (dead letters of oversized input, say) fail every retry of the
 *   commit, and the task never gets past them.
 *
 * The sink sends the requests one after another, which also keeps each partition's order under
 * retries. A single message over the byte budget goes alone (the broker judges it against its own
 * limit).
 */
import type { Message, TopicMessages } from 'kafkajs'

export const DEFAULT_MAX_PER_TOPIC = 500
/** Below the broker's default 1 MB record batch limit, with room for the batch's own framing. */
export const DEFAULT_MAX_REQUEST_BYTES = 900_000

/** Framing of one record in a batch (varints, attributes, deltas): an upper bound is enough here. */
const RECORD_OVERHEAD_BYTES = 32

export interface ChunkLimits {
  readonly maxPerTopic?: number
  readonly maxRequestBytes?: number
}

function byteLength(value: Message['value'] | Message['key']): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length
}

function messageBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(message.key) + byteLength(message.value)
  if (message.headers) {
    for (const [name, value] of Object.entries(message.headers)) {
      bytes += Buffer.byteLength(name)
      if (Array.isArray(value)) for (const v of value) bytes += byteLength(v as Buffer | string)
      else bytes += byteLength(value as Buffer | string | undefined)
    }
  }
  return bytes
}

function totalBytes(topics: readonly TopicMessages[]): number {
  let bytes = 0
  for (const { messages } of topics) for (const m of messages) bytes += messageBytes(m)
  return bytes
}

/** Requests of at most `maxPerTopic` messages per topic and `maxRequestBytes` in all, each topic in order. */
export function* requestChunks(topics: readonly TopicMessages[], limits: ChunkLimits = {}): Generator<TopicMessages[]> {
  const max = limits.maxPerTopic ?? DEFAULT_MAX_PER_TOPIC
  const maxBytes = limits.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES
  if (topics.every((t) => t.messages.length <= max) && totalBytes(topics) <= maxBytes) {
    yield [...topics]
    return
  }
  const next = topics.map(() => 0)
  for (;;) {
    const chunk: TopicMessages[] = []
    let bytes = 0
    let count = 0
    for (const [t, { topic, messages }] of topics.entries()) {
      const from = next[t]!
      let to = from
      while (to < messages.length && to - from < max) {
        const size = messageBytes(messages[to]!)
        if (count > 0 && bytes + size > maxBytes) break
        bytes += size
        count++
        to++
      }
      if (to > from) chunk.push({ topic, messages: messages.slice(from, to) })
      next[t] = to
      if (count > 0 && bytes >= maxBytes) break
    }
    if (chunk.length === 0) return
    yield chunk
  }
}
