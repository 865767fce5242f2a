import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { DLQ_HEADERS } from '../../../../runtime/task/index.js'
import { BadRecordWarnings } from '../../../../runtime/task/bad-record-warnings.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { type EventTimeBounds, StreamsBuilder, TimeWindows, TimestampExtractors, type Topology } from '../../../../topology/index.js'

interface Call {
  id: string
  tenant: string
  at: string
}
const calls = { key: Serdes.string(), value: Serdes.json<Call>({ name: 'json(Call)' }) }
const NOW = Date.parse('2026-06-01T12:00:00Z')
const MINUTE = 60_000
const iso = (ms: number) => new Date(ms).toISOString()

/** Calls per tenant and minute, from a source with the given guards. */
function countsPerMinute(guards: { eventTime?: EventTimeBounds; dedup?: boolean }): Topology {
  const b = new StreamsBuilder()
  b.stream('calls', {
    ...calls,
    timestamp: TimestampExtractors.isoField<Call>('at'),
    ...(guards.eventTime ? { eventTime: guards.eventTime } : {}),
    ...(guards.dedup ? { deduplicate: { id: (call: Call) => call.id, horizonMs: 24 * 60 * MINUTE } } : {}),
  })
    .groupByKey()
    .windowedBy(TimeWindows.tumbling(MINUTE, { graceMs: 0 }))
    .count({ name: 'per-minute' })
    .toStream()
    .map((w, n): [string, string] => [w.key, `${iso(w.window.start)} ${n}`])
    .to('counts', { key: Serdes.string(), value: Serdes.string() })
  return b.build()
}

describe('event-time bounds on a source', () => {
  const bounds: EventTimeBounds = { maxAheadMs: 5 * MINUTE, maxBehindMs: 60 * MINUTE }

  for (const [label, at] of [
    ['one hour ahead', NOW + 60 * MINUTE],
    ['ten years ahead', NOW + 10 * 365 * 24 * 60 * MINUTE],
    ['in year 0001', Date.parse('0001-01-01T00:00:00Z')],
    ['two hours behind', NOW - 120 * MINUTE],
  ] as const) {
    test(`a record ${label} is dead-lettered with the reason and changes nothing for the records after it`, async () => {
      const driver = await TopologyTestDriver.create(countsPerMinute({ eventTime: bounds }), { startWallClockMs: NOW })
      const input = driver.createInputTopic('calls', calls.key, calls.value)
      await input.pipe('acme', { id: '1', tenant: 'acme', at: iso(NOW - 30_000) })
      await input.pipe('rogue', { id: '2', tenant: 'rogue', at: iso(at) })
      await input.pipe('acme', { id: '3', tenant: 'acme', at: iso(NOW - 20_000) })

      assert.equal(driver.streamTime(), NOW - 20_000, 'stream time moved only with accepted records')
      assert.deepEqual(driver.createOutputTopic('counts', Serdes.string(), Serdes.string()).readValues(), [`${iso(NOW - 60_000)} 1`, `${iso(NOW - 60_000)} 2`], 'the window stayed open for the later record')
      const [dead, ...more] = driver.deadLetters()
      assert.equal(more.length, 0)
      assert.equal(dead!.key!.toString(), 'rogue')
      assert.equal(dead!.headers[DLQ_HEADERS.stage], 'timestamp')
      if (at < NOW && at >= 0) {
        assert.equal(dead!.headers[DLQ_HEADERS.errorClass], 'EventTimeOutOfBoundsError')
        assert.match(dead!.headers[DLQ_HEADERS.errorMessage]!, /behind the wall clock/)
        assert.deepEqual(driver.metrics().outOfBounds, { ahead: 0, behind: 1 })
      } else if (at < 0) {
        // Before 1970: not an epoch-ms event time at all, refused by the extractor check first.
        assert.match(dead!.headers[DLQ_HEADERS.errorMessage]!, /event time must be epoch ms >= 0/)
      } else {
        assert.equal(dead!.headers[DLQ_HEADERS.errorClass], 'EventTimeOutOfBoundsError')
        assert.match(dead!.headers[DLQ_HEADERS.errorMessage]!, /ahead of the wall clock/)
        assert.deepEqual(driver.metrics().outOfBounds, { ahead: 1, behind: 0 })
      }
      await driver.close()
    })
  }

  test('without bounds the same future record closes the window and the later record is dropped as late (why bounds exist)', async () => {
    const driver = await TopologyTestDriver.create(countsPerMinute({}), { startWallClockMs: NOW })
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    await input.pipe('acme', { id: '1', tenant: 'acme', at: iso(NOW - 30_000) })
    await input.pipe('rogue', { id: '2', tenant: 'rogue', at: iso(NOW + 60 * MINUTE) })
    await input.pipe('acme', { id: '3', tenant: 'acme', at: iso(NOW - 20_000) })
    assert.equal(driver.metrics().late, 1)
    await driver.close()
  })

  test('the bound follows the wall clock, not stream time: records within it are accepted as the clock moves', async () => {
    const driver = await TopologyTestDriver.create(countsPerMinute({ eventTime: bounds }), { startWallClockMs: NOW })
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    await input.pipe('acme', { id: '1', tenant: 'acme', at: iso(NOW + 4 * MINUTE) })
    await input.pipe('acme', { id: '2', tenant: 'acme', at: iso(NOW + 10 * MINUTE) })
    await driver.advanceWallClockTime(6 * MINUTE)
    await input.pipe('acme', { id: '3', tenant: 'acme', at: iso(NOW + 10 * MINUTE) })
    assert.deepEqual(driver.metrics().outOfBounds, { ahead: 1, behind: 0 })
    assert.equal(driver.streamTime(), NOW + 10 * MINUTE)
    await driver.close()
  })

  test('bad bounds fail when the topology is built, naming the field', () => {
    assert.throws(() => countsPerMinute({ eventTime: { maxAheadMs: -1 } }), /eventTime\.maxAheadMs must be a number of ms >= 0/)
    assert.throws(() => countsPerMinute({ eventTime: { maxAheadMs: 1000, maxBehindMs: Number.NaN } }), /eventTime\.maxBehindMs/)
  })
})

describe('deduplication on a source', () => {
  test('a batch sent three times counts once; copies inside one batch too', async () => {
    const driver = await TopologyTestDriver.create(countsPerMinute({ dedup: true }), { startWallClockMs: NOW })
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    const batch = [1, 2, 3].map((i) => ({ key: 'acme', value: { id: `call-${i}`, tenant: 'acme', at: iso(NOW - 50_000 + i * 1000) } }))
    for (let send = 0; send < 3; send++) await input.pipeRecords(batch)
    await input.pipeRecords([batch[0]!, batch[0]!])
    const counts = driver.createOutputTopic('counts', Serdes.string(), Serdes.string()).readValues()
    assert.deepEqual(counts, [1, 2, 3].map((n) => `${iso(NOW - 60_000)} ${n}`))
    assert.equal(driver.metrics().duplicates, 8)
    await driver.close()
  })

  test('records without an id pass unchecked; an id seen more than two horizons earlier counts again', async () => {
    const b = new StreamsBuilder()
    b.stream('calls', { ...calls, timestamp: TimestampExtractors.isoField<Call>('at'), deduplicate: { id: (c: Call) => (c.id === '' ? null : c.id), horizonMs: MINUTE } }).to('out', calls)
    const driver = await TopologyTestDriver.create(b.build())
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    await input.pipe('k', { id: '', tenant: 'a', at: iso(NOW) })
    await input.pipe('k', { id: '', tenant: 'a', at: iso(NOW) })
    await input.pipe('k', { id: 'x', tenant: 'a', at: iso(NOW) })
    await input.pipe('k', { id: 'x', tenant: 'a', at: iso(NOW + 30_000) })
    await input.pipe('k', { id: 'x', tenant: 'a', at: iso(NOW + 3 * MINUTE) })
    assert.equal(driver.createOutputTopic('out', calls.key, calls.value).readValues().length, 4)
    await driver.close()
  })

  test('the ids survive a restart on the same state directory', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'dedup-restart-'))
    try {
      const run = async (ids: string[]): Promise<number> => {
        const driver = await TopologyTestDriver.create(countsPerMinute({ dedup: true }), { engine: engines.rocksdb(), stateDir, startWallClockMs: NOW })
        const input = driver.createInputTopic('calls', calls.key, calls.value)
        for (const id of ids) await input.pipe('acme', { id, tenant: 'acme', at: iso(NOW - 30_000) })
        const duplicates = driver.metrics().duplicates
        await driver.close()
        return duplicates
      }
      assert.equal(await run(['a', 'b']), 0)
      assert.equal(await run(['a', 'b', 'c']), 2, 'a and b were remembered across the restart')
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('a bad horizon fails at build time', () => {
    const b = new StreamsBuilder()
    assert.throws(() => b.stream('calls', { ...calls, deduplicate: { id: (c: Call) => c.id, horizonMs: 0 } }), /deduplicate\.horizonMs must be a positive integer/)
  })
})

describe('bad record warnings', () => {
  test('one warn line per stage per interval, carrying how many were not logged', () => {
    const lines: { fields: Record<string, unknown>; message: string }[] = []
    const log = { warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }) } as unknown as ConstructorParameters<typeof BadRecordWarnings>[0]
    let now = 0
    const warnings = new BadRecordWarnings(log, () => now, 10_000)
    for (let i = 0; i < 5; i++) warnings.warn('deserialize', { offset: i }, 'bad record dead-lettered')
    warnings.warn('timestamp', { offset: 9 }, 'bad record dead-lettered')
    now = 10_000
    warnings.warn('deserialize', { offset: 10 }, 'bad record dead-lettered')
    assert.deepEqual(
      lines.map((l) => [l.fields.stage, l.fields.offset, l.fields.suppressed]),
      [
        ['deserialize', 0, undefined],
        ['timestamp', 9, undefined],
        ['deserialize', 10, 4],
      ],
    )
  })
})
