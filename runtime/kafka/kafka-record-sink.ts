/**
 * The RecordSink of a task on Kafka: a collector's records go out with `sendBatch`, grouped by
 * topic and cut into requests kafkajs and the broker take (`request-chunks.ts`), one request after
 * another.
 *
 * Partitioning: a record with an explicit partition (changelogs) keeps it; one with a user
 * partitioner gets the partition it picks from the topic's partition count; the rest get kafkajs'
 * default partitioner's choice (murmur2 of the key, as the Java client; applied by the task's
 * `acknowledgedSender`), so repartition topics co-partition with what other Kafka clients write.
 */
import type { Message, ProducerBatch, RecordMetadata, TopicMessages } from 'kafkajs'
import type { OutputRecord } from '../task/records.js'
import type { AcknowledgedOffset, RecordSink } from '../task/record-sink.js'
import type { PartitionCounts } from './partition-counts.js'
import { type ChunkLimits, requestChunks } from './request-chunks.js'

/** A kafkajs Producer, or a Transaction under exactly-once. */
export interface BatchSender {
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>
}

export interface KafkaRecordSinkOptions {
  sender: BatchSender
  partitionCounts: PartitionCounts
  /** Called once a topic's records are acknowledged (the runtime's `produced` counter). */
  onProduced?: (topic: string, count: number) => void
  limits?: ChunkLimits
}

export class KafkaRecordSink implements RecordSink {
  constructor(private readonly options: KafkaRecordSinkOptions) {}

  async write(records: readonly OutputRecord[]): Promise<readonly AcknowledgedOffset[]> {
    const { partitionCounts } = this.options
    const needCounts = [...new Set(records.filter((r) => r.choosePartition && partitionCounts.get(r.topic) === undefined).map((r) => r.topic))]
    if (needCounts.length > 0) await partitionCounts.load(needCounts)
    const byTopic = new Map<string, Message[]>()
    for (const record of records) {
      let messages = byTopic.get(record.topic)
      if (!messages) byTopic.set(record.topic, (messages = []))
      const partition = record.partition ?? record.choosePartition?.(partitionCounts.get(record.topic) ?? 1)
      messages.push({
        key: record.key,
        value: record.value,
        timestamp: String(record.timestamp),
        headers: record.headers,
        ...(partition === undefined ? {} : { partition }),
      })
    }
    const acks = new Map<string, AcknowledgedOffset>()
    for (const chunk of requestChunks([...byTopic].map(([topic, messages]) => ({ topic, messages })), this.options.limits)) {
      const results = await this.options.sender.sendBatch({ topicMessages: chunk })
      for (const ack of acknowledgedOffsets(chunk, results)) acks.set(`${ack.topic}:${ack.partition}`, ack)
    }
    if (this.options.onProduced) for (const [topic, messages] of byTopic) this.options.onProduced(topic, messages.length)
    return [...acks.values()]
  }
}

/**
 * The next offset of each explicitly partitioned topic-partition of one request: its base offset
 * plus the request's records for it. A topic with records left to the default partitioner is not
 * counted (which partition each went to is the producer's business).
 */
function acknowledgedOffsets(chunk: readonly TopicMessages[], results: readonly RecordMetadata[]): AcknowledgedOffset[] {
  const counts = new Map<string, Map<number, number>>()
  for (const { topic, messages } of chunk) {
    if (messages.some((m) => m.partition === undefined)) continue
    const perPartition = new Map<number, number>()
    for (const m of messages) perPartition.set(m.partition!, (perPartition.get(m.partition!) ?? 0) + 1)
    counts.set(topic, perPartition)
  }
  const acks: AcknowledgedOffset[] = []
  for (const r of results) {
    const count = counts.get(r.topicName)?.get(r.partition)
    if (count === undefined || r.baseOffset === undefined) continue
    acks.push({ topic: r.topicName, partition: r.partition, nextOffset: Number(r.baseOffset) + count })
  }
  return acks
}
