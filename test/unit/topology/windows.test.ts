import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { SessionWindows, TimeWindows } from '../../../topology/index.js'

/** Brute force: every epoch-aligned window start k*advance whose window [start, start+size) holds ts. */
function coveringWindows(ts: number, size: number, advance: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = []
  for (let start = 0; start <= ts; start += advance) if (ts < start + size) out.push({ start, end: start + size })
  return out
}

describe('TimeWindows.windowsFor', () => {
  test('tumbling: each timestamp lands in exactly the one window covering it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 20_000 }), (size, ts) => {
        const windows = TimeWindows.tumbling(size).windowsFor(ts)
        assert.deepEqual(windows, coveringWindows(ts, size, size))
        assert.equal(windows.length, 1)
      }),
      { numRuns: 300 },
    )
  })

  test('hopping: each timestamp lands in exactly the windows covering it, in start order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((advance) => fc.tuple(fc.constant(advance), fc.integer({ min: advance, max: advance * 6 }))),
        fc.integer({ min: 0, max: 5_000 }),
        ([advance, size], ts) => {
          assert.deepEqual(TimeWindows.hopping(size, advance).windowsFor(ts), coveringWindows(ts, size, advance))
        },
      ),
      { numRuns: 300 },
    )
  })

  test('a window closes at end + grace; sessions at end + gap + grace', () => {
    assert.equal(TimeWindows.tumbling(10, { graceMs: 5 }).closeTime({ start: 0, end: 10 }), 15)
    assert.equal(SessionWindows.withGap(10, { graceMs: 5 }).closeTime({ start: 0, end: 3 }), 18)
  })

  test('invalid sizes are rejected with the parameter named', () => {
    assert.throws(() => TimeWindows.tumbling(0), /size must be a positive integer/)
    assert.throws(() => TimeWindows.hopping(10, 20), /advance \(20\) must be <= size \(10\)/)
    assert.throws(() => TimeWindows.tumbling(10, { graceMs: -1 }), /graceMs must be a non-negative/)
    assert.throws(() => SessionWindows.withGap(-5), /gap must be a positive/)
  })
})
