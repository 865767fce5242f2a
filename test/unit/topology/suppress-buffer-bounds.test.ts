/** suppress(untilWindowCloses) with a bounded buffer: shutDownWhenFull and emitEarlyWhenFull. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import type { Windowed } from '../../../state/index.js'
import { BufferConfig, StreamsBuilder, Suppressed, TimeWindows } from '../../../topology/index.js'

const windowedKey = Serdes.windowed(Serdes.string())

/** Counts per key and 10 ms window, grace 100 ms: windows stay buffered long enough to fill it. */
async function countsDriver(buffer: BufferConfig, errorPolicy: 'dlq' | 'fail' = 'dlq') {
  const b = new StreamsBuilder()
  b.stream('in', { key: Serdes.string(), value: Serdes.string() })
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(10, { graceMs: 100 }))
    .count({ name: 'counts' })
    .suppress(Suppressed.untilWindowCloses({ name: 'final', buffer }))
    .toStream()
    .to('out', { key: windowedKey, value: Serdes.long() })
  const driver = await TopologyTestDriver.create(b.build(), { errorPolicy })
  const input = driver.createInputTopic('in', Serdes.string(), Serdes.string())
  const out = driver.createOutputTopic('out', windowedKey, Serdes.long())
  const read = (): string[] => out.readKeyValues().map(([w, n]: [Windowed<string>, number]) => `${w.key}@${w.window.start}=${n}`)
  return { driver, pipe: (key: string, timestamp: number) => input.pipe(key, 'x', { timestamp }), read }
}

test('shutDownWhenFull: one window over maxRecords stops the task with an error naming the bound and the fix, whatever the error policy', async () => {
  const { driver, pipe, read } = await countsDriver(BufferConfig.maxRecords(2).shutDownWhenFull())
  await pipe('a', 0)
  await pipe('b', 1)
  await pipe('a', 5) // same window: still two windows buffered
  await assert.rejects(
    pipe('c', 2),
    (err: Error) => /suppress 'final': the buffer holds 3 windows .* over its bound \(maxRecords 2, maxBytes Infinity\) with shutDownWhenFull; raise the bound/.test(err.message),
  )
  assert.equal(driver.deadLetters().length, 0, 'not a bad record: nothing dead-lettered')
  assert.deepEqual(read(), [])
  await driver.close().catch(() => undefined)
})

test('shutDownWhenFull with maxBytes: bytes are key, value and timestamp as stored', async () => {
  // A windowed string key of 1 char is 17 bytes, a count 8, a timestamp 8: 33 bytes per window.
  const { driver, pipe } = await countsDriver(BufferConfig.maxBytes(70))
  await pipe('a', 0)
  await pipe('b', 0)
  await assert.rejects(pipe('c', 0), /holds 3 windows \(99 bytes\)/)
  await driver.close().catch(() => undefined)
})

test('emitEarlyWhenFull: the windows closing soonest leave early; the rest stay final', async () => {
  const { driver, pipe, read } = await countsDriver(BufferConfig.maxRecords(2).emitEarlyWhenFull())
  await pipe('a', 0)
  await pipe('a', 1)
  await pipe('b', 15)
  assert.deepEqual(read(), [])
  await pipe('c', 25) // three windows buffered: a@0 closes first, so it leaves now
  assert.deepEqual(read(), ['a@0=2'])
  await pipe('a', 3) // a@0 again, within grace: buffered again and still the soonest to close, so out again
  assert.deepEqual(read(), ['a@0=3'])
  await pipe('z', 500) // closes everything
  assert.deepEqual(read().sort(), ['b@10=1', 'c@20=1'])
  assert.equal(driver.deadLetters().length, 0)
  await driver.close()
})

test('bad bounds fail when configured, naming the method and the value', () => {
  assert.throws(() => BufferConfig.maxRecords(0), /BufferConfig.maxRecords: expected a positive integer, got 0/)
  assert.throws(() => BufferConfig.unbounded().emitEarlyWhenFull(), /an unbounded buffer is never full/)
})
