/**
 * Everything committed in a topic, read from its beginning until every partition reached the
 * offsets the topic had when the read began and nothing more came for a while. In a topic written by
 * transactions the last offset of a partition is a transaction marker that kafkajs may never hand
 * over, so there "reached" allows for it.
 *
 * A topic written by transactions is read read_uncommitted, markers included, and what a
 * read_committed reader sees is worked out here (`committedRecords`): kafkajs' own read_committed
 * filter lets aborted records through (chaos finding F9). `onKafkajsFilterDiffers` reports how many
 * records kafkajs' filter would have shown differently, from a second, read_committed read.
 */
import { randomBytes } from 'node:crypto'
import type { Kafka, KafkaMessage } from 'kafkajs'
import { committedRecords, type LogEntry } from './committed-records.js'

export interface DumpedRecord {
  partition: number
  offset: number
  key: string
  value: string
}

interface DumpOptions {
  transactional: boolean
  quietMs?: number
  timeoutMs?: number
  /** Records the consumer was handed twice (a range fetched again), counted once. */
  onRereads?(count: number): void
  /** How many records kafkajs' read_committed filter shows that a correct one does not (extra), or hides that it shows (missing). */
  onKafkajsFilterDiffers?(extra: number, missing: number): void
}

/** What kafkajs keeps of a message that is not in its types: the batch's producer and flags. */
type RawMessage = KafkaMessage & {
  isControlRecord?: boolean
  batchContext?: { producerId: string; inTransaction: boolean }
}

const ABORT_KEY = Buffer.from([0, 0, 0, 0])

export async function dumpTopic(kafka: Kafka, topic: string, options: DumpOptions): Promise<DumpedRecord[]> {
  if (!options.transactional) return (await readTopic(kafka, topic, options, false)).records
  const [raw, kafkajsView] = await Promise.all([readTopic(kafka, topic, options, true), readTopic(kafka, topic, options, false)])
  const byPartition = new Map<number, LogEntry<DumpedRecord>[]>()
  for (const e of raw.entries) {
    let entries = byPartition.get(e.partition)
    if (!entries) byPartition.set(e.partition, (entries = []))
    entries.push(e)
  }
  const records = [...byPartition.values()].flatMap((entries) => committedRecords(entries).map((r) => r.record))
  if (options.onKafkajsFilterDiffers) {
    const key = (r: DumpedRecord): string => `${r.partition}@${r.offset}`
    const correct = new Set(records.map(key))
    const shown = new Set(kafkajsView.records.map(key))
    const extra = [...shown].filter((k) => !correct.has(k)).length
    const missing = [...correct].filter((k) => !shown.has(k)).length
    if (extra + missing > 0) options.onKafkajsFilterDiffers(extra, missing)
  }
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}

async function readTopic(
  kafka: Kafka,
  topic: string,
  options: DumpOptions,
  uncommitted: boolean,
): Promise<{ records: DumpedRecord[]; entries: (LogEntry<DumpedRecord> & { partition: number })[] }> {
  const admin = kafka.admin()
  await admin.connect()
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]))
  await admin.disconnect()
  const records: DumpedRecord[] = []
  const entries: (LogEntry<DumpedRecord> & { partition: number })[] = []
  const reached = new Map<number, number>()
  const seenUpTo = new Map<number, number>()
  let rereads = 0
  let lastAt = Date.now()
  const consumer = kafka.consumer({ groupId: `chaos-dump-${randomBytes(4).toString('hex')}`, maxBytes: 16 << 20, readUncommitted: uncommitted })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      // Read uncommitted, the markers are wanted too: kafkajs keeps them in `messagesWithinOffset`.
      const messages = uncommitted ? ((batch as unknown as { messagesWithinOffset: RawMessage[] }).messagesWithinOffset ?? []) : (batch.messages as RawMessage[])
      for (const m of messages) {
        // An offset is one record: a consumer that fetches a range again must not count it twice.
        const offset = Number(m.offset)
        if (offset <= (seenUpTo.get(batch.partition) ?? -1)) {
          rereads++
          continue
        }
        seenUpTo.set(batch.partition, offset)
        if (!uncommitted) {
          records.push({ partition: batch.partition, offset, key: String(m.key), value: String(m.value) })
          continue
        }
        const context = m.batchContext ?? { producerId: '-1', inTransaction: false }
        if (m.isControlRecord) {
          entries.push({ partition: batch.partition, offset, producerId: context.producerId, inTransaction: true, marker: m.key && Buffer.from(m.key).equals(ABORT_KEY) ? 'abort' : 'commit' })
        } else {
          const record = { partition: batch.partition, offset, key: String(m.key), value: String(m.value) }
          entries.push({ partition: batch.partition, offset, producerId: context.producerId, inTransaction: context.inTransaction, record })
        }
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
  if (rereads > 0 && !uncommitted) options.onRereads?.(rereads)
  return { records: records.sort((a, b) => a.partition - b.partition || a.offset - b.offset), entries }
}
