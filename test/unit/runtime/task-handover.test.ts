import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TaskHandover } from '../../../runtime/kafka/task-handover.js'

const deferred = (): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } => {
  let resolve!: () => void
  let reject!: (e: Error) => void
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

test('a task given back waits until every revoked incarnation released its state, failed closes included', async () => {
  const handover = new TaskHandover()
  const first = deferred()
  const second = deferred()
  handover.retire('0_1', first.promise)
  handover.retire('0_1', second.promise)
  let released = false
  const waiting = handover.released('0_1').then(() => (released = true))
  second.reject(new Error('closing commit failed'))
  await new Promise((r) => setTimeout(r, 10))
  assert.equal(released, false, 'the first incarnation still holds the state')
  first.resolve()
  await waiting
  assert.equal(released, true)
  await new Promise((r) => setTimeout(r, 0))
  assert.deepEqual(handover.pending, [])
})

test('other tasks and tasks never retired do not wait', async () => {
  const handover = new TaskHandover()
  handover.retire('0_1', new Promise(() => undefined))
  await handover.released('0_2')
  await handover.released('1_1')
  assert.deepEqual(handover.pending, ['0_1'])
})
