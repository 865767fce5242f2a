import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { SegmentKeyFilter } from '../../../state/stores/segment-key-filter.js'

test('a key added as bytes is found by its latin1 string (a map key), and the other way round', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 0, maxLength: 24 }), fc.boolean()), { maxLength: 300 }),
      (writes) => {
        const filter = new SegmentKeyFilter(true)
        const asString = (key: Uint8Array): string => Buffer.from(key).toString('latin1')
        for (const [segment, key, bytes] of writes) filter.add(segment, bytes ? Buffer.from(key) : asString(key))
        for (const [segment, key, bytes] of writes) assert.ok(filter.mayHold(segment, bytes ? asString(key) : Buffer.from(key)))
      },
    ),
  )
  const filter = new SegmentKeyFilter(true)
  for (let i = 0; i < 2000; i++) filter.add(1, Buffer.from(`event-${i}`))
  let falsePositives = 0
  for (let i = 2000; i < 4000; i++) if (filter.mayHold(1, `event-${i}`)) falsePositives++
  assert.ok(falsePositives < 100, `strings of keys never added are mostly absent (${falsePositives} of 2000 said may hold)`)
})

test('a key filter never answers absent for a key it was given, across segments and growth', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 0, maxLength: 24 })), { maxLength: 300 }), (writes) => {
      const filter = new SegmentKeyFilter(true)
      for (const [segment, key] of writes) filter.add(segment, Buffer.from(key))
      for (const [segment, key] of writes) assert.ok(filter.mayHold(segment, Buffer.from(key)))
    }),
  )
})

test('a key filter answers absent for most keys never given; forgets dropped segments; untracked segments may hold anything', () => {
  const filter = new SegmentKeyFilter(true)
  for (let i = 0; i < 20_000; i++) filter.add(1, Buffer.from(`event-${i}`))
  let falsePositives = 0
  for (let i = 20_000; i < 40_000; i++) if (filter.mayHold(1, Buffer.from(`event-${i}`))) falsePositives++
  assert.ok(falsePositives < 20_000 * 0.03, `false positives: ${falsePositives} of 20000`)
  assert.equal(filter.mayHold(2, Buffer.from('event-1')), false, 'another segment')
  filter.dropBelow(2)
  assert.equal(filter.mayHold(1, Buffer.from('event-1')), false, 'a dropped segment holds nothing')

  const reopened = new SegmentKeyFilter(false)
  assert.equal(reopened.ready, false)
  assert.equal(reopened.mayHold(9, Buffer.from('x')), true, 'not known yet: may hold')
  reopened.trackAbove(5)
  assert.equal(reopened.mayHold(5, Buffer.from('x')), true, 'held at open: may hold')
  assert.equal(reopened.mayHold(6, Buffer.from('x')), false)
  reopened.reset()
  assert.equal(reopened.mayHold(5, Buffer.from('x')), false, 'wiped: empty')
})
