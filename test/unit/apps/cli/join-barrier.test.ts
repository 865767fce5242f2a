/**
 * The `--threads` join barrier: the first start lets no thread join until all are ready, a thread
 * that exits while waiting is waited for again, and once open (all arrived, or released by the
 * supervisor's timeout) every later arrival joins at once.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { JoinBarrier } from '../../../../apps/cli/join-barrier.js'

test('no thread joins until every thread is ready; then all join together', () => {
  const barrier = new JoinBarrier(3)
  assert.deepEqual(barrier.arrive(2), [])
  assert.deepEqual(barrier.arrive(0), [])
  assert.equal(barrier.isOpen, false)
  assert.deepEqual(barrier.arrive(1).sort(), [0, 1, 2])
  assert.equal(barrier.isOpen, true)
})

test('a thread that exits while waiting is waited for again: its restart completes the barrier', () => {
  const barrier = new JoinBarrier(2)
  assert.deepEqual(barrier.arrive(0), [])
  barrier.leave(0)
  assert.deepEqual(barrier.arrive(1), [], 'thread 0 left: thread 1 alone is not everyone')
  assert.deepEqual(barrier.arrive(0).sort(), [0, 1])
})

test('released before all arrive (the timeout), the waiting ones join, and every later arrival joins at once', () => {
  const barrier = new JoinBarrier(3)
  barrier.arrive(1)
  assert.deepEqual(barrier.release(), [1])
  assert.deepEqual(barrier.arrive(0), [0])
  assert.deepEqual(barrier.arrive(2), [2])
  // A thread restarted after a crash, long after the first start: nothing to wait for.
  barrier.leave(2)
  assert.deepEqual(barrier.arrive(2), [2])
})
