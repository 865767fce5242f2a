/**
 * Everything committed in a topic, read from its beginning with read_committed (the consumer
 * default), until every partition reached the offsets the topic had when the read began and nothing
 * more came for a while. In a topic written by transactions the last offset of a partition is a
 * transaction marker that kafkajs may never hand over, so there "reached" allows for it.
 */
import { randomBytes } from 'node:crypto'
import type { Kafka } from 'kafkajs'

export interface DumpedRecord {
  partition: number
  offset: number
  key: string
  value: string
}

export async function dumpTopic(kafka: Kafka, topic: string, options: { transactional: boolean; quietMs?: number; timeoutMs?: number; onRereads?(count: number): void }): Promise<DumpedRecord[]> {
  const admin = kafka.admin()
  await admin.connect()
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]))
  await admin.disconnect()
  const records: DumpedRecord[] = []
  const reached = new Map<number, number>()
  const seenUpTo = new Map<number, number>()
  let rereads = 0
  let lastAt = Date.now()
  const consumer = kafka.consumer({ groupId: `chaos-dump-${randomBytes(4).toString('hex')}`, maxBytes: 16 << 20 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        // An offset is one record: a consumer that fetches a range again must not count it twice.
        const offset = Number(m.offset)
        const seen = seenUpTo.get(batch.partition) ?? -1
        if (offset <= seen) {
          rereads++
          continue
        }
        seenUpTo.set(batch.partition, offset)
        records.push({ partition: batch.partition, offset, key: String(m.key), value: String(m.value) })
      }
      // The batch's last offset covers control records too.
      reached.set(batch.partition, Math.max(reached.get(batch.partition) ?? 0, Number(batch.lastOffset()) + 1))
      lastAt = Date.now()
    },
  })
  const quietMs = options.quietMs ?? 3_000
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  const slack = options.transactional ? 1 : 0
  const caughtUp = (): boolean => [...ends].every(([p, end]) => end === 0 || (reached.get(p) ?? 0) >= end - slack)
  while (Date.now() < deadline && !(caughtUp() && Date.now() - lastAt >= quietMs)) await new Promise((r) => setTimeout(r, 200))
  await consumer.disconnect()
  if (rereads > 0) options.onRereads?.(rereads)
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}
