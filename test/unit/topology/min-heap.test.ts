import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { MinHeap } from '../../../topology/processors/min-heap.js'

test('MinHeap: pops in priority order; forEachUpTo visits exactly the items of priority <= max, removing none', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 200 }), fc.integer({ min: -1, max: 101 }), (priorities, max) => {
      const heap = new MinHeap<number>()
      priorities.forEach((p, i) => heap.push(p, i))
      const visited: number[] = []
      heap.forEachUpTo(max, (p, i) => {
        assert.equal(p, priorities[i])
        visited.push(i)
      })
      const expected = priorities.flatMap((p, i) => (p <= max ? [i] : []))
      assert.deepEqual(
        visited.sort((a, b) => a - b),
        expected,
      )
      assert.equal(heap.size, priorities.length)
      const popped: number[] = []
      for (let p = heap.peekPriority(); p !== undefined; p = heap.peekPriority()) popped.push(priorities[heap.pop()!]!)
      assert.deepEqual(
        popped,
        [...priorities].sort((a, b) => a - b),
      )
    }),
  )
})
