import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { filterAbortedMessages, readCommittedFilterInstalled, type FilteredMessage } from '../../../state/changelog/read-committed-filter.js'

const rec = (offset: number, producerId: string, value: string, inTransaction = true): FilteredMessage & { value: string } => ({
  offset: String(offset),
  key: 'k',
  value,
  batchContext: { producerId, inTransaction },
})
const marker = (offset: number, producerId: string, kind: 'abort' | 'commit'): FilteredMessage & { value: string } => ({
  offset: String(offset),
  key: Buffer.from([0, 0, 0, kind === 'abort' ? 0 : 1]),
  value: kind,
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
})
const values = (ms: readonly { value: string; isControlRecord?: boolean }[]): string[] => ms.filter((m) => !m.isControlRecord).map((m) => m.value)

// X (producer 1) begins at 10 and aborts at 14; Y (producer 2) begins at 11 and aborts first, at 12.
// The broker lists aborted transactions in abort order: Y before X.
const log = [rec(10, '1', 'x0'), rec(11, '2', 'y0'), marker(12, '2', 'abort'), rec(13, '1', 'x1'), marker(14, '1', 'abort'), rec(15, '3', 'z0'), marker(16, '3', 'commit'), rec(17, '4', 'plain', false)]
const abortedInBrokerOrder = [
  { producerId: '2', firstOffset: '11' },
  { producerId: '1', firstOffset: '10' },
]

test('an aborted transaction that began before one aborted earlier is skipped whole (the broker lists them in abort order)', () => {
  assert.deepEqual(values(filterAbortedMessages({ messages: log, abortedTransactions: abortedInBrokerOrder })), ['z0', 'plain'])
})

test("kafkajs' own filter lets that transaction through: what the corrected one is for", () => {
  const require = createRequire(import.meta.url)
  // kafkajs' file itself, not the module cache entry the fix installs under its name.
  const path = require.resolve('kafkajs/src/consumer/filterAbortedMessages.js')
  const installed = require.cache[path]
  delete require.cache[path]
  const kafkajsFilter = require(path) as typeof filterAbortedMessages
  require.cache[path] = installed
  assert.deepEqual(values(kafkajsFilter({ messages: log, abortedTransactions: abortedInBrokerOrder })), ['x0', 'z0', 'plain'])
})

test('a fetch that starts inside several aborted transactions skips all of them', () => {
  // A (producer 1) and B (producer 2) both began before the fetch offset 22.
  const fetched = [rec(22, '2', 'b1'), rec(23, '1', 'a1'), marker(24, '2', 'abort'), marker(25, '1', 'abort'), rec(26, '3', 'c0'), marker(27, '3', 'commit')]
  const aborted = [
    { producerId: '1', firstOffset: '20' },
    { producerId: '2', firstOffset: '21' },
  ]
  assert.deepEqual(values(filterAbortedMessages({ messages: fetched, abortedTransactions: aborted })), ['c0'])
})

test('no aborted transactions: everything goes through', () => {
  assert.deepEqual(values(filterAbortedMessages({ messages: log, abortedTransactions: [] })), ['x0', 'y0', 'x1', 'z0', 'plain'])
})

test('installed into kafkajs when the runtime is loaded first (this test file imports no kafkajs before it)', async () => {
  assert.equal(readCommittedFilterInstalled(), true)
  const require = createRequire(import.meta.url)
  const kafkajsBatch = require('kafkajs/src/consumer/batch.js') as new (topic: string, fetchedOffset: string, partitionData: unknown) => { messages: { value: string }[] }
  const batch = new kafkajsBatch('t', '10', { partition: 0, highWatermark: '18', messages: log, abortedTransactions: abortedInBrokerOrder })
  assert.deepEqual(values(batch.messages), ['z0', 'plain'])
})
