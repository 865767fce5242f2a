import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { EmbeddedLog } from '../../../../runtime/standalone/embedded-log.js'

const rec = (value: string, key: string | null = null, partition?: number) => ({
  key: key === null ? null : Buffer.from(key),
  value: Buffer.from(value),
  timestamp: 1000,
  ...(partition === undefined ? {} : { partition }),
})

describe('EmbeddedLog', () => {
  test('appends at consecutive offsets per partition and reads from an offset', () => {
    const log = new EmbeddedLog()
    log.createTopic('t', 2)
    const a = log.append('t', rec('a', null, 0))
    const b = log.append('t', rec('b', null, 1))
    const c = log.append('t', rec('c', null, 0))
    assert.deepEqual([a.offset, b.offset, c.offset], [0, 0, 1])
    assert.deepEqual(log.read('t', 0, 1).map((r) => r.value!.toString()), ['c'])
    assert.deepEqual(log.read('t', 0, 0, 1).map((r) => r.value!.toString()), ['a'])
    assert.equal(log.endOffset('t', 0), 2)
    assert.ok(a.sequence < b.sequence && b.sequence < c.sequence)
  })

  test('creates a topic on first append with the default partition count; topics grow, never shrink', () => {
    const log = new EmbeddedLog({ defaultPartitions: 3 })
    log.append('auto', rec('x'))
    assert.equal(log.partitionCount('auto'), 3)
    assert.equal(log.createTopic('auto', 1), 3)
    assert.equal(log.createTopic('auto', 5), 5)
    assert.throws(() => log.append('auto', rec('y', null, 7)), /partition 7 does not exist in topic 'auto' \(5 partitions\)/)
  })

  test('keys go to the partition Kafka would choose, the same one every time', () => {
    const log = new EmbeddedLog()
    log.createTopic('k', 4)
    const partitions = ['tenant-a', 'tenant-b', 'tenant-c', 'tenant-a', 'tenant-b'].map((k) => log.append('k', rec('v', k)).partition)
    assert.equal(partitions[0], partitions[3])
    assert.equal(partitions[1], partitions[4])
    assert.equal(partitions[0], log.partitionForKey('k', Buffer.from('tenant-a'), 4))
  })

  test('keeps committed offsets per group', () => {
    const log = new EmbeddedLog()
    log.append('t', rec('a'))
    assert.equal(log.committed('g1', 't', 0), undefined)
    log.commit('g1', 't', 0, 1)
    log.commit('g2', 't', 0, 0)
    assert.equal(log.committed('g1', 't', 0), 1)
    assert.equal(log.committed('g2', 't', 0), 0)
    assert.throws(() => log.commit('g1', 't', 3, 0), /no such partition/)
  })

  test('retention by records and bytes drops the oldest', () => {
    const log = new EmbeddedLog({ retention: { maxRecords: 3 } })
    for (let i = 0; i < 5; i++) log.append('t', rec(`v${i}`))
    assert.equal(log.startOffset('t', 0), 2)
    assert.equal(log.endOffset('t', 0), 5)
    assert.deepEqual(log.read('t', 0, 0).map((r) => [r.offset, r.value!.toString()]), [[2, 'v2'], [3, 'v3'], [4, 'v4']])

    const bytes = new EmbeddedLog({ retention: { maxBytes: 3 * (64 + 100) } })
    for (let i = 0; i < 10; i++) bytes.append('b', { key: null, value: Buffer.alloc(100, i) })
    assert.equal(bytes.endOffset('b', 0) - bytes.startOffset('b', 0), 3)
    assert.deepEqual(bytes.read('b', 0, 0).map((r) => r.value![0]), [7, 8, 9])
  })

  test('deleteRecordsBefore drops a partition head, never past its end, and keeps offsets', () => {
    const log = new EmbeddedLog()
    log.createTopic('t', 2)
    for (const v of ['a', 'b', 'c', 'd']) log.append('t', rec(v, null, 0))
    log.append('t', rec('other', null, 1))
    assert.equal(log.deleteRecordsBefore('t', 0, 3), 3)
    assert.equal(log.startOffset('t', 0), 3)
    assert.deepEqual(log.read('t', 0, 0).map((r) => [r.offset, r.value!.toString()]), [[3, 'd']])
    assert.equal(log.deleteRecordsBefore('t', 0, 2), 0, 'an offset already deleted is a no-op')
    assert.equal(log.deleteRecordsBefore('t', 0, 99), 1, 'never past the end')
    assert.equal(log.startOffset('t', 0), 4)
    assert.equal(log.append('t', rec('e', null, 0)).offset, 4, 'the next append keeps the offset sequence')
    assert.equal(log.startOffset('t', 1), 0, 'other partitions untouched')
    assert.throws(() => log.deleteRecordsBefore('t', 5, 1), /no such partition/)
  })

  test('subscribers are woken on append to their topics only', () => {
    const log = new EmbeddedLog()
    const seen: string[] = []
    const off = log.subscribe(['a'], (topic, partition) => seen.push(`${topic}-${partition}`))
    const all: string[] = []
    log.subscribe(null, (topic) => all.push(topic))
    log.append('a', rec('1'))
    log.append('b', rec('2'))
    off()
    log.append('a', rec('3'))
    assert.deepEqual(seen, ['a-0'])
    assert.deepEqual(all, ['a', 'b', 'a'])
  })

  test('property: reads return what was appended, in order, within retention', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.string({ maxLength: 8 })), { maxLength: 300 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 40 }),
        (appends, maxRecords, batch) => {
          const log = new EmbeddedLog({ retention: { maxRecords } })
          log.createTopic('p', 3)
          const expected: string[][] = [[], [], []]
          for (const [partition, value] of appends) {
            log.append('p', { key: null, value: Buffer.from(value), partition })
            expected[partition]!.push(value)
          }
          for (let p = 0; p < 3; p++) {
            const kept = expected[p]!.slice(-maxRecords)
            const got: string[] = []
            let offset = 0
            for (let chunk = log.read('p', p, offset, batch); chunk.length > 0; chunk = log.read('p', p, offset, batch)) {
              for (const r of chunk) {
                assert.ok(r.offset >= offset)
                got.push(r.value!.toString())
                offset = r.offset + 1
              }
            }
            assert.deepEqual(got, kept)
            assert.equal(log.endOffset('p', p), expected[p]!.length)
          }
        },
      ),
      { numRuns: 100 },
    )
  })

  test('compacts its arrays under sustained retention without losing order', () => {
    const log = new EmbeddedLog({ retention: { maxRecords: 10 } })
    for (let i = 0; i < 5000; i++) log.append('t', { key: null, value: Buffer.from(String(i)) })
    assert.deepEqual(
      log.read('t', 0, 0).map((r) => Number(r.value!.toString())),
      Array.from({ length: 10 }, (_, i) => 4990 + i),
    )
    assert.equal(log.read('t', 0, 4995)[0]!.offset, 4995)
  })
})
