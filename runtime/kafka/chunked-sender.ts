/**
 * kafkajs groups a send's messages per partition by copying the partition's array once per message
 * (`[...current, message]` in groupMessagesPerPartition), which is quadratic in the messages per
 * partition of one call: a 10,000-record batch to a one-partition changelog costs ~50M copies. So
 * sends are cut into requests of at most `maxPerTopic` messages per topic, sent one after another
 * (which also keeps each partition's order under retries).
 */
import type { Message, ProducerBatch, RecordMetadata, TopicMessages } from 'kafkajs'
import type { BatchSender } from './kafka-record-collector.js'

export const DEFAULT_MAX_PER_TOPIC = 500

export function chunkedSender(sender: BatchSender, maxPerTopic = DEFAULT_MAX_PER_TOPIC): BatchSender {
  return {
    async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
      const topics = batch.topicMessages ?? []
      if (topics.every((t) => t.messages.length <= maxPerTopic)) return sender.sendBatch(batch)
      const results: RecordMetadata[] = []
      for (const chunk of chunks(topics, maxPerTopic)) results.push(...(await sender.sendBatch({ ...batch, topicMessages: chunk })))
      return results
    },
  }
}

/** Requests of at most `max` messages per topic, in order. */
function* chunks(topics: readonly TopicMessages[], max: number): Generator<TopicMessages[]> {
  let offset = 0
  for (;;) {
    const chunk: TopicMessages[] = []
    for (const { topic, messages } of topics) {
      const slice: Message[] = messages.slice(offset, offset + max)
      if (slice.length > 0) chunk.push({ topic, messages: slice })
    }
    if (chunk.length === 0) return
    yield chunk
    offset += max
  }
}
