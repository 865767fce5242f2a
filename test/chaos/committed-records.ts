/**
 * What a read_committed reader must see of one partition, worked out from everything in it (read
 * read_uncommitted, markers included) rather than from kafkajs' own read_committed filter, which
 * lets aborted records through: it walks the broker's aborted-transaction list in the order the
 * broker sends it (by abort, not by first offset) and opens at most one aborted transaction per
 * record, so an aborted transaction that began before another that was aborted first is not
 * skipped (chaos finding F9). Here each producer's transactional records wait for that producer's
 * next marker on the partition: a commit keeps them, an abort drops them, no marker yet (an open
 * transaction) drops them as a read_committed reader would not see them yet.
 */

export interface LogEntry<T> {
  offset: number
  producerId: string
  inTransaction: boolean
  /** A transaction marker: 'commit' or 'abort'. */
  marker?: 'commit' | 'abort'
  record?: T
}

export function committedRecords<T>(entries: readonly LogEntry<T>[]): { offset: number; record: T }[] {
  const kept: { offset: number; record: T }[] = []
  const open = new Map<string, { offset: number; record: T }[]>()
  for (const e of [...entries].sort((a, b) => a.offset - b.offset)) {
    if (e.marker !== undefined) {
      const pending = open.get(e.producerId) ?? []
      open.delete(e.producerId)
      if (e.marker === 'commit') kept.push(...pending)
      continue
    }
    if (e.record === undefined) continue
    if (!e.inTransaction) kept.push({ offset: e.offset, record: e.record })
    else open.set(e.producerId, [...(open.get(e.producerId) ?? []), { offset: e.offset, record: e.record }])
  }
  return kept.sort((a, b) => a.offset - b.offset)
}
