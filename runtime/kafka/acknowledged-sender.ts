/**
 * A send that resolves only once the broker acknowledged every partition it carried.
 *
 * kafkajs 2.2.4 can resolve a send that never wrote some of its records. Its retry
 * (`producer/sendMessages.js`) remembers which brokers already answered and re-sends only to the
 * others: when a broker dies mid-send, its partitions move to a surviving broker, and if that broker
 * already acknowledged its own share of the request, the moved partitions are never sent again. The
 * send resolves, their records are gone (kafkajs issue 1303, open; PR 1798). Under at-least-once the
 * offsets then commit past output that does not exist; under exactly-once the transaction commits
 * without it. Chaos findings F8 (at-least-once) and the lost echo records of an exactly-once leader
 * kill (test/chaos/README.md).
 *
 * The check needs to know each record's partition before the send, so records without one get it
 * here from the topic's partition count, as kafkajs' default partitioner would pick it
 * (`RecordPartitioner`: murmur2 of the key, round robin for a null key). A partition missing from the
 * send's acknowledgements is sent again, alone, in order: kafkajs sends all of a partition's records
 * of one request to its leader in one piece, so a missing partition is missing whole, and sending it
 * again does not reorder it. A missing partition may still have been written (its broker died
 * after appending, before answering): an idempotent producer's resend carries the sequence kafkajs
 * rolled back and the broker drops it as a duplicate; a plain producer's (at-least-once, the chaos
 * load) may write it twice, which those allow.
 */
import type { Message, ProducerBatch, RecordMetadata } from 'kafkajs'
import { RecordPartitioner } from '../query/key-partition.js'
import type { BatchSender } from './kafka-record-sink.js'
import type { PartitionCounts } from './partition-counts.js'

/** Sends of the missing partitions before the send fails: one is the usual case after a leader move. */
export const MAX_RESENDS = 5

export interface AcknowledgedSenderOptions {
  /** Told of every partition sent again, with how many records; for a log line. */
  onResend?(missing: { topic: string; partition: number; records: number }[]): void
  maxResends?: number
  /**
   * Asked before each resend: false when the records' task was abandoned meanwhile, and the send
   * fails instead. A resend of a dead incarnation could land after the next owner's records.
   */
  stillWanted?(): boolean
}

export function acknowledgedSender(sender: BatchSender, partitionCounts: PartitionCounts, options: AcknowledgedSenderOptions = {}): BatchSender {
  const partitioner = new RecordPartitioner()
  const maxResends = options.maxResends ?? MAX_RESENDS
  return {
    async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
      // acks 0: the broker says nothing, there is nothing to check.
      if (batch.acks === 0) return sender.sendBatch(batch)
      const topics = batch.topicMessages ?? []
      const needCounts = topics.filter((t) => t.messages.some((m) => m.partition === undefined || m.partition === null) && partitionCounts.get(t.topic) === undefined)
      if (needCounts.length > 0) await partitionCounts.load([...new Set(needCounts.map((t) => t.topic))])
      let pending = topics.map(({ topic, messages }) => ({ topic, messages: messages.map((m) => withPartition(partitioner, partitionCounts, topic, m)) }))
      const results: RecordMetadata[] = []
      for (let resends = 0; ; resends++) {
        const acknowledged = await sender.sendBatch({ ...batch, topicMessages: pending })
        results.push(...acknowledged)
        const acked = new Set(acknowledged.map((r) => `${r.topicName}\u0000${r.partition}`))
        const missing = pending
          .map(({ topic, messages }) => ({ topic, messages: messages.filter((m) => !acked.has(`${topic}\u0000${m.partition!}`)) }))
          .filter((t) => t.messages.length > 0)
        if (missing.length === 0) return results
        const report = missing.flatMap(({ topic, messages }) => [...countByPartition(messages)].map(([partition, records]) => ({ topic, partition, records })))
        if (resends >= maxResends) {
          throw new Error(`the broker never acknowledged ${report.map((m) => `${m.topic}[${m.partition}]`).join(', ')} after ${maxResends} sends of their records`)
        }
        if (options.stillWanted?.() === false) {
          throw new Error(`not sent again: ${report.map((m) => `${m.topic}[${m.partition}]`).join(', ')} belong to a task abandoned meanwhile`)
        }
        options.onResend?.(report)
        pending = missing
      }
    },
  }
}

function withPartition(partitioner: RecordPartitioner, counts: PartitionCounts, topic: string, message: Message): Message {
  if (message.partition !== undefined && message.partition !== null) return message
  const key = message.key === undefined || message.key === null ? null : Buffer.isBuffer(message.key) ? message.key : Buffer.from(message.key)
  return { ...message, partition: partitioner.partition(topic, counts.get(topic)!, key, undefined) }
}

function countByPartition(messages: readonly Message[]): Map<number, number> {
  const counts = new Map<number, number>()
  for (const m of messages) counts.set(m.partition!, (counts.get(m.partition!) ?? 0) + 1)
  return counts
}
