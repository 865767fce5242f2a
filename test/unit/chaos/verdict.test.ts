/** The fault suite's checker must see each kind of damage, and must not blame the runtime for windows stream time never closed. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChaosRecord, ChaosTotal } from '../../chaos/topology.js'
import { coordinatorPartition, javaHashCode } from '../../chaos/coordinators.js'
import { expectedWindows, judge, passes, type ChaosOutputs } from '../../chaos/verdict.js'

const spec = { sizeMs: 1_000, graceMs: 0 }
const rec = (seq: number, key: string, ts: number, amount = 1): ChaosRecord => ({ seq, key, ts, amount })

/** What a correct exactly-once run outputs for `input`. */
function perfect(input: Map<number, ChaosRecord[]>): ChaosOutputs {
  const totals = new Map<string, ChaosTotal[]>()
  for (const records of input.values()) {
    for (const r of records) {
      const last = totals.get(r.key)?.at(-1) ?? { count: 0, sum: 0 }
      totals.set(r.key, [...(totals.get(r.key) ?? []), { count: last.count + 1, sum: last.sum + r.amount }])
    }
  }
  const windows = new Map([...expectedWindows(input, spec)].map(([id, n]) => [id, [n]]))
  return { input, echo: [...input.values()].flat().map((r) => r.seq), totals, windows }
}

const input = (): Map<number, ChaosRecord[]> =>
  new Map([
    [0, [rec(1, 'a', 100), rec(2, 'a', 900), rec(3, 'a', 1_500), rec(4, 'a', 2_100)]],
    [1, [rec(5, 'b', 200), rec(6, 'b', 1_200)]],
  ])

test('a correct run passes under both guarantees', () => {
  const v = judge(perfect(input()), 'eos', spec)
  assert.deepEqual([v.lost, v.dup, v.wrong], [0, 0, 0])
  assert.ok(passes(v, 'eos') && passes(judge(perfect(input()), 'alos', spec), 'alos'))
})

test('only windows whose close time stream time reached are expected', () => {
  // Partition 0 reached 2100: windows 0 and 1000 closed, 2000 open. Partition 1 reached 1200: only window 0.
  assert.deepEqual([...expectedWindows(input(), spec)].sort(), [['a@0', 2], ['a@1000', 1], ['b@0', 1]])
})

test('a late record (its window closed by stream time) is dropped as the aggregate drops it', () => {
  const late = new Map([[0, [rec(1, 'a', 100), rec(2, 'a', 2_500), rec(3, 'a', 200), rec(4, 'a', 3_100)]]])
  assert.deepEqual([...expectedWindows(late, spec)].sort(), [['a@0', 1], ['a@2000', 1]])
})

test('a missing echo record is lost; an extra one is a duplicate that fails exactly-once only', () => {
  const missing = perfect(input())
  assert.equal(judge({ ...missing, echo: missing.echo.slice(1) }, 'eos', spec).lost, 1)
  const doubled = { ...missing, echo: [...missing.echo, 3] }
  assert.equal(judge(doubled, 'eos', spec).dup, 1)
  assert.equal(passes(judge(doubled, 'eos', spec), 'eos'), false)
  assert.equal(passes(judge(doubled, 'alos', spec), 'alos'), true)
})

test('an input record written twice (a re-sent batch) must be echoed and counted twice', () => {
  const twice = input()
  twice.get(1)!.push(rec(6, 'b', 1_200), rec(7, 'b', 2_500))
  const outputs = perfect(twice)
  assert.deepEqual(judge(outputs, 'eos', spec), { lost: 0, dup: 0, wrong: 0, examples: [] })
  assert.equal(judge({ ...outputs, echo: outputs.echo.slice(0, -2).concat(7) }, 'eos', spec).lost, 1)
})

test('a window emitted twice, a double-counted total and a short window', () => {
  const outputs = perfect(input())
  const windows = new Map(outputs.windows)
  windows.set('a@0', [2, 2])
  assert.equal(judge({ ...outputs, windows }, 'eos', spec).dup, 1)

  const totals = new Map(outputs.totals)
  totals.set('a', [...totals.get('a')!, { count: 5, sum: 5 }])
  const doubled = judge({ ...outputs, totals }, 'eos', spec)
  assert.equal(doubled.wrong, 1)
  assert.equal(judge({ ...outputs, totals }, 'alos', spec).wrong, 0, 'at-least-once may count a replay twice')

  const short = new Map(outputs.windows)
  short.set('a@0', [1])
  assert.equal(judge({ ...outputs, windows: short }, 'alos', spec).wrong, 1)
  short.delete('b@0')
  assert.equal(judge({ ...outputs, windows: short }, 'alos', spec).lost, 1)
})

test('a window result for a window stream time never closed is wrong', () => {
  const outputs = perfect(input())
  const windows = new Map(outputs.windows)
  windows.set('a@2000', [1])
  assert.equal(judge({ ...outputs, windows }, 'eos', spec).wrong, 1)
})

test("coordinator placement follows Java's String.hashCode", () => {
  // "hello".hashCode() in Java is 99162322.
  assert.equal(javaHashCode('hello'), 99162322)
  assert.equal(javaHashCode(''), 0)
  assert.equal(coordinatorPartition('hello', 10), 2)
})
