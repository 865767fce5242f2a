import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StartTogether } from '../../../runtime/kafka/start-together.js'

const settledWithin = async (p: Promise<void>, ms: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([p.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))])
  clearTimeout(timer)
  return outcome
}

test('a task that arrived first waits until every task of its assignment arrived', async () => {
  const together = new StartTogether(['0_0', '0_1', '1_0'])
  together.arrived('0_0')
  const first = together.all(60_000)
  assert.equal(await settledWithin(first, 30), false, 'released while two tasks were still initialising')
  together.arrived('0_1')
  assert.equal(await settledWithin(first, 30), false, 'released while one task was still initialising')
  together.arrived('1_0')
  assert.equal(await settledWithin(first, 1_000), true)
  // Arriving again (a task's finally after it already arrived) changes nothing, and a later wait returns at once.
  together.arrived('1_0')
  assert.equal(await settledWithin(together.all(60_000), 1_000), true)
})

test('a task whose restore is long holds the others back only for the bound', async () => {
  const together = new StartTogether(['0_0', '0_1'])
  together.arrived('0_0')
  const began = Date.now()
  await together.all(80)
  assert.ok(Date.now() - began >= 70, 'released before the bound')
})

test('an assignment without new tasks, or with one, never waits', async () => {
  assert.equal(await settledWithin(new StartTogether([]).all(60_000), 1_000), true)
  const single = new StartTogether(['2_3'])
  single.arrived('2_3')
  assert.equal(await settledWithin(single.all(60_000), 1_000), true)
})
