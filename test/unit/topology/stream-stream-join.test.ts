/**
 * KStream-KStream windowed joins through the driver. The cases and expected outputs are Kafka
 * Streams' own (KStreamKStreamLeftJoinTest, KStreamKStreamOuterJoinTest, 3.9), keys as strings.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import { engines } from '../../../state/index.js'
import { JoinWindows, StreamsBuilder } from '../../../topology/index.js'

type Kind = 'join' | 'leftJoin' | 'outerJoin'
/** Kafka Streams' MockValueJoiner.TOSTRING_JOINER, a missing side printed as null. */
const toStringJoiner = (l: unknown, r: unknown): string => `${l ?? 'null'}+${r ?? 'null'}`

async function joinDriver(kind: Kind, windows: JoinWindows, options: { engine?: 'memory' | 'rocksdb'; stateDir?: string; cacheMaxBytes?: number } = {}) {
  const b = new StreamsBuilder()
  const left = b.stream('left', { key: Serdes.string(), value: Serdes.string() })
  const right = b.stream('right', { key: Serdes.string(), value: Serdes.long() })
  const joined =
    kind === 'join'
      ? left.join(right, toStringJoiner, windows, { name: 'j' })
      : kind === 'leftJoin'
        ? left.leftJoin(right, toStringJoiner, windows, { name: 'j' })
        : left.outerJoin(right, toStringJoiner, windows, { name: 'j' })
  joined.to('out', { value: Serdes.string() })
  const driver = await TopologyTestDriver.create(b.build(), {
    engine: options.engine === 'rocksdb' ? engines.rocksdb() : engines.memory(),
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    ...(options.cacheMaxBytes === undefined ? {} : { cacheMaxBytes: options.cacheMaxBytes }),
  })
  const l = driver.createInputTopic('left', Serdes.string(), Serdes.string())
  const r = driver.createInputTopic('right', Serdes.string(), Serdes.long())
  const out = driver.createOutputTopic('out', Serdes.string(), Serdes.string())
  return {
    driver,
    left: (key: string | number, value: string, timestamp: number) => l.pipe(String(key), value, { timestamp }),
    right: (key: string | number, value: number, timestamp: number) => r.pipe(String(key), value, { timestamp }),
    /** What was emitted since the last call, as Kafka Streams' checkAndClearProcessResult sees it. */
    results: (): string[] => out.readRecords().map((rec) => `${rec.key}:${rec.value}@${rec.timestamp}`),
  }
}

describe('stream-stream leftJoin: Kafka Streams test cases', () => {
  test('testLeftJoinDuplicates: duplicates emitted once the window closed, joined duplicates at once, nothing twice', async () => {
    const { driver, left, right, results } = await joinDriver('leftJoin', JoinWindows.ofTimeDifferenceAndGrace(100, 10))
    await left(0, 'A0', 0)
    await left(0, 'A0-0', 0)
    await right(1, 0, 111) // a right record without partner: never emitted by a left join
    await right(2, 0, 500) // bumps stream time
    assert.deepEqual(results(), ['0:A0+null@0', '0:A0-0+null@0'])
    await left(2, 'A2', 1000)
    await left(2, 'A2-0', 1000)
    await right(2, 2, 1001)
    assert.deepEqual(results(), ['2:A2+2@1001', '2:A2-0+2@1001'])
    await right(3, 3, 315)
    assert.deepEqual(results(), [], 'joined records are not emitted again as non-joined')
    await driver.close()
  })

  for (const bySide of ['left', 'right'] as const) {
    test(`testLeftExpiredNonJoinedRecordsAreEmittedByThe${bySide === 'left' ? 'Left' : 'Right'}Processor`, async () => {
      const { driver, left, right, results } = await joinDriver('leftJoin', JoinWindows.ofTimeDifferenceAndGrace(100, 0))
      await left(0, 'A0', 1)
      await left(1, 'A1', 2)
      await left(0, 'A0-0', 3)
      assert.deepEqual(results(), [])
      await right(1, 1, 3)
      assert.deepEqual(results(), ['1:A1+1@3'])
      if (bySide === 'left') await left(2, 'dummy', 401)
      else await right(2, 0, 401)
      assert.deepEqual(results(), ['0:A0+null@1', '0:A0-0+null@3'])
      if (bySide === 'left') await right(2, 0, 401)
      else await left(2, 'dummy', 402)
      assert.deepEqual(results(), [bySide === 'left' ? '2:dummy+0@401' : '2:dummy+0@402'])
      await driver.close()
    })
  }

  test('testGracePeriod: a partner after the window but within grace does not join; the left record is emitted after grace', async () => {
    const { driver, left, right, results } = await joinDriver('leftJoin', JoinWindows.ofTimeDifferenceAndGrace(100, 10))
    await left(0, 'A0', 0)
    await left(1, 'A1', 0)
    assert.deepEqual(results(), [])
    for (const k of [0, 1, 2, 3]) await right(k, k, 101)
    assert.deepEqual(results(), [])
    await right(0, 9, 1201)
    assert.deepEqual(results(), ['0:A0+null@0', '1:A1+null@0'])
    await driver.close()
  })

  test('shouldNotEmitLeftJoinResultForAsymmetricWindow (before 0)', async () => {
    const { driver, left, right, results } = await joinDriver('leftJoin', JoinWindows.ofTimeDifferenceWithNoGrace(100).before(0))
    await left(0, 'A0', 0)
    await left(1, 'A1', 1)
    assert.deepEqual(results(), [])
    await right(0, 0, 100)
    assert.deepEqual(results(), ['0:A0+0@100'])
    await right(1, 1, 102)
    assert.deepEqual(results(), ['1:A1+null@1'])
    await driver.close()
  })
})

describe('stream-stream outerJoin: Kafka Streams test cases', () => {
  for (const engine of ['memory', 'rocksdb'] as const) {
    test(`testOuterJoinDuplicates, ${engine} engine`, async () => {
      const { driver, left, right, results } = await joinDriver('outerJoin', JoinWindows.ofTimeDifferenceAndGrace(100, 10), { engine })
      await left(0, 'A0', 0)
      await left(0, 'A0-0', 0)
      await right(1, 11, 0)
      await right(1, 12, 0)
      await right(1, 10, 111)
      await right(3, 100, 211)
      assert.deepEqual(results(), ['1:null+11@0', '1:null+12@0', '0:A0+null@0', '0:A0-0+null@0'])
      await left(2, 'A2', 200)
      await left(2, 'A2-0', 200)
      await right(2, 13, 201)
      await right(2, 14, 201)
      assert.deepEqual(results(), ['2:A2+13@201', '2:A2-0+13@201', '2:A2+14@201', '2:A2-0+14@201'])
      await right(3, 100, 1500)
      assert.deepEqual(results(), ['1:null+10@111', '3:null+100@211'])
      await driver.close()
    })
  }

  test('testOrdering: closed non-joined records come before the join of the record that closed them', async () => {
    const { driver, left, right, results } = await joinDriver('outerJoin', JoinWindows.ofTimeDifferenceWithNoGrace(100))
    await left(0, 'A0', 0)
    await left(1, 'A1', 100)
    assert.deepEqual(results(), [])
    await right(1, 11, 110)
    assert.deepEqual(results(), ['0:A0+null@0', '1:A1+11@110'])
    await driver.close()
  })

  test('testGracePeriod', async () => {
    const { driver, left, right, results } = await joinDriver('outerJoin', JoinWindows.ofTimeDifferenceAndGrace(100, 10))
    await left(0, 'A0', 0)
    await right(1, 11, 0)
    assert.deepEqual(results(), [])
    await left(1, 'A1', 101)
    await right(0, 10, 101)
    assert.deepEqual(results(), [])
    await right(0, 100, 112)
    assert.deepEqual(results(), ['1:null+11@0', '0:A0+null@0'])
    await driver.close()
  })

  test('testEmitAllNonJoinedResultsForAsymmetricWindow (before 5, after 20)', async () => {
    const { driver, left, right, results } = await joinDriver('outerJoin', JoinWindows.ofTimeDifferenceWithNoGrace(5).after(20))
    await left(0, 'A0', 29)
    await left(1, 'A1', 30)
    await right(2, 12, 31)
    await right(3, 13, 36)
    assert.deepEqual(results(), [])
    await right(4, 14, 37)
    assert.deepEqual(results(), ['2:null+12@31'])
    await right(5, 15, 50)
    assert.deepEqual(results(), ['0:A0+null@29', '3:null+13@36', '4:null+14@37'])
    await driver.close()
  })
})

describe('stream-stream joins: out of order, restarts, the definition', () => {
  test('a late partner within grace still joins, and the record it joins is not emitted as non-joined', async () => {
    const { driver, left, right, results } = await joinDriver('leftJoin', JoinWindows.ofTimeDifferenceAndGrace(10, 50))
    await left('req-1', 'gpt-4o', 1000)
    await left('req-2', 'claude', 1030)
    await right('req-1', 7, 1005) // out of order: stream time is 1030
    assert.deepEqual(results(), ['req-1:gpt-4o+7@1005'])
    await right('x', 0, 1200) // closes both windows
    assert.deepEqual(results(), ['req-2:claude+null@1030'])
    await driver.close()
  })

  test('the non-joined buffer and both windows survive a restart (RocksDB state directory)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const stateDir = mkdtempSync(join(tmpdir(), 'ssj-'))
    try {
      const first = await joinDriver('outerJoin', JoinWindows.ofTimeDifferenceAndGrace(100, 0), { engine: 'rocksdb', stateDir })
      await first.left('a', 'A', 0)
      await first.right('b', 1, 10)
      assert.deepEqual(first.results(), [])
      await first.driver.close()
      const second = await joinDriver('outerJoin', JoinWindows.ofTimeDifferenceAndGrace(100, 0), { engine: 'rocksdb', stateDir })
      await second.right('a', 2, 50) // joins the left record stored before the restart
      await second.left('c', 'C', 500) // closes what is left
      assert.deepEqual(second.results(), ['a:A+2@50', 'b:null+1@10'])
      await second.driver.close()
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('inner join in any arrival order within grace: exactly the pairs within the window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ side: fc.constantFrom('L', 'R'), key: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: 300 }) }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        async (records, before, after) => {
          const { driver, left, right, results } = await joinDriver('join', JoinWindows.ofTimeDifferenceAndGrace(0, 10_000).after(after).before(before))
          const tagged = records.map((r, i) => ({ ...r, id: i }))
          for (const r of tagged) {
            if (r.side === 'L') await left(r.key, `L${r.id}`, r.ts)
            else await right(r.key, r.id, r.ts)
          }
          const expected: string[] = []
          for (const l of tagged.filter((r) => r.side === 'L')) {
            for (const r of tagged.filter((x) => x.side === 'R' && x.key === l.key && x.ts >= l.ts - before && x.ts <= l.ts + after)) {
              expected.push(`${l.key}:L${l.id}+${r.id}@${Math.max(l.ts, r.ts)}`)
            }
          }
          const actual = results()
          await driver.close()
          assert.deepEqual(actual.sort(), expected.sort())
        },
      ),
      { numRuns: 60 },
    )
  })

  test('leftJoin with records in time order: each pair within the window, and each left record without one once, after its window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ side: fc.constantFrom('L', 'R'), key: fc.constantFrom('a', 'b', 'c'), ts: fc.integer({ min: 0, max: 300 }) }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.boolean(),
        async (records, before, after, tinyCache) => {
          const windows = JoinWindows.ofTimeDifferenceAndGrace(0, 5).after(after).before(before)
          // A tiny record cache evicts after every record: windows are read back from the engine.
          const { driver, left, right, results } = await joinDriver('leftJoin', windows, tinyCache ? { cacheMaxBytes: 300 } : {})
          const tagged = records.map((r, i) => ({ ...r, id: i })).sort((x, y) => x.ts - y.ts)
          for (const r of tagged) {
            if (r.side === 'L') await left(r.key, `L${r.id}`, r.ts)
            else await right(r.key, r.id, r.ts)
          }
          await right('z', 0, 10_000) // closes every window
          const expected: string[] = []
          for (const l of tagged.filter((r) => r.side === 'L')) {
            const partners = tagged.filter((x) => x.side === 'R' && x.key === l.key && x.ts >= l.ts - before && x.ts <= l.ts + after)
            for (const r of partners) expected.push(`${l.key}:L${l.id}+${r.id}@${Math.max(l.ts, r.ts)}`)
            if (partners.length === 0) expected.push(`${l.key}:L${l.id}+null@${l.ts}`)
          }
          const actual = results()
          await driver.close()
          assert.deepEqual(actual.sort(), expected.sort())
        },
      ),
      { numRuns: 60 },
    )
  })
})

test('describe() shows the join in Kafka Streams layout: windowed processors, join processors, merge, three stores', () => {
  const b = new StreamsBuilder()
  const left = b.stream('requests', { key: Serdes.string(), value: Serdes.string() })
  const right = b.stream('responses', { key: Serdes.string(), value: Serdes.string() })
  left.leftJoin(right, (l, r) => `${l}${r}`, JoinWindows.ofTimeDifferenceAndGrace(60_000, 5_000)).to('out', { value: Serdes.string() })
  const text = b.build().describe()
  for (const line of [
    'Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])',
    'Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-OUTEROTHER-0000000005-store])',
    'Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-OUTEROTHER-0000000005-store, KSTREAM-OUTERSHARED-0000000004-store])',
    'Processor: KSTREAM-OUTEROTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store, KSTREAM-OUTERSHARED-0000000004-store])',
    'Processor: KSTREAM-MERGE-0000000006 (stores: [])',
  ]) {
    assert.ok(text.includes(line), `${line}\nin\n${text}`)
  }
  assert.match(text, /KSTREAM-JOINTHIS-0000000004-store \(window, key=string, value=list\(string\), retention=125000ms/)
})
