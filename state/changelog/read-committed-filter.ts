/**
 * kafkajs' read_committed filter, corrected, and installed in its place.
 *
 * kafkajs 2.2.4 (`consumer/filterAbortedMessages.js`) lets records of aborted transactions through
 * to a read_committed consumer. It walks the fetch response's aborted-transaction list in the order
 * the broker sends it, which is the order the transactions were aborted (the broker's transaction
 * index), not of their first offsets, and opens at most one aborted transaction per record. An
 * aborted transaction that began before another one that was aborted first is then never skipped:
 * after a broker kill, the aborted outputs of a task that re-initialised showed up beside the
 * outputs of its retry (chaos finding F9). The runtime reads with read_committed where this matters
 * under exactly-once: changelog restores, repartition topics, `consume()` of an exactly-once output.
 *
 * The filter below is the Java consumer's: aborted transactions by first offset, every one starting
 * at or before a record opened before the record is judged, a producer's abort marker closing its
 * transaction. kafkajs' batch module takes the filter at load time, so the corrected one goes into
 * Node's module cache under kafkajs' own file name before kafkajs is loaded; the runtime's entry
 * points import this module first. `readCommittedFilterInstalled()` says whether that happened.
 */
import Module, { createRequire } from 'node:module'

export interface FilteredMessage {
  offset: string
  key?: Buffer | string | null
  isControlRecord?: boolean
  batchContext?: { producerId: string; inTransaction: boolean }
}

export interface AbortedTransaction {
  producerId: string
  firstOffset: string
}

const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0])
const isAbortMarker = (m: FilteredMessage): boolean => m.isControlRecord === true && m.key !== null && m.key !== undefined && Buffer.from(m.key).equals(ABORT_MARKER_KEY)

/** The records of `messages` (one partition, offset order) not in an aborted transaction; control records are kept (kafkajs drops them next). */
export function filterAbortedMessages<M extends FilteredMessage>({ messages, abortedTransactions }: { messages: M[]; abortedTransactions?: AbortedTransaction[] }): M[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages
  const byFirstOffset = [...abortedTransactions].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0))
  const abortedProducers = new Set<string>()
  let next = 0
  return messages.filter((message) => {
    const offset = BigInt(message.offset)
    while (next < byFirstOffset.length && BigInt(byFirstOffset[next]!.firstOffset) <= offset) abortedProducers.add(String(byFirstOffset[next++]!.producerId))
    const producerId = String(message.batchContext?.producerId)
    if (isAbortMarker(message)) {
      abortedProducers.delete(producerId)
      return true
    }
    return !(message.batchContext?.inTransaction === true && abortedProducers.has(producerId))
  })
}

const require = createRequire(import.meta.url)

function install(): boolean {
  let filterPath: string
  let batchPath: string
  try {
    filterPath = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js')
    batchPath = require.resolve('kafkajs/src/consumer/batch.js')
  } catch {
    return false
  }
  const cache = require.cache
  // Loaded already (kafkajs imported before the runtime): its batch module holds the old filter.
  if (cache[batchPath]) return cache[filterPath]?.exports === filterAbortedMessages
  const module = new Module(filterPath)
  module.filename = filterPath
  module.loaded = true
  module.exports = filterAbortedMessages
  cache[filterPath] = module
  return true
}

const installed = install()

/** Whether kafkajs consumers of this process use the corrected filter. */
export const readCommittedFilterInstalled = (): boolean => installed
