import { test } from 'node:test'
import assert from 'node:assert/strict'
import { committedRecords, type LogEntry } from '../../chaos/committed-records.js'

const rec = (offset: number, producerId: string, record: string, inTransaction = true): LogEntry<string> => ({ offset, producerId, inTransaction, record })
const mark = (offset: number, producerId: string, marker: 'commit' | 'abort'): LogEntry<string> => ({ offset, producerId, inTransaction: true, marker })

test('interleaved transactions: committed ones kept in offset order, aborted ones dropped, open ones not visible yet', () => {
  const log = [
    rec(0, 'A', 'a0'),
    rec(1, 'B', 'b0'),
    rec(2, 'plain', 'p0', false),
    rec(3, 'A', 'a1'),
    // B aborts before A commits: the shape kafkajs' filter gets wrong (its list is in abort order).
    mark(4, 'B', 'abort'),
    rec(5, 'C', 'c0'),
    mark(6, 'A', 'commit'),
    rec(7, 'B', 'b1'),
    mark(8, 'B', 'commit'),
    rec(9, 'C', 'c1'),
  ]
  assert.deepEqual(
    committedRecords(log).map((r) => r.record),
    ['a0', 'p0', 'a1', 'b1'],
  )
})

test('an aborted transaction that began before another aborted earlier is dropped whole', () => {
  const log = [rec(10, 'X', 'x0'), rec(11, 'Y', 'y0'), mark(12, 'Y', 'abort'), rec(13, 'X', 'x1'), mark(14, 'X', 'abort'), rec(15, 'Z', 'z0'), mark(16, 'Z', 'commit')]
  assert.deepEqual(committedRecords(log).map((r) => `${r.record}@${r.offset}`), ['z0@15'])
})
