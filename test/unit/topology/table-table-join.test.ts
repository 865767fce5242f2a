/**
 * KTable-KTable joins through the driver. The outer-join sequence and its expected values are Kafka
 * Streams' KTableKTableOuterJoinTest.testJoin (3.9); deletes are not in the outputs because
 * `toStream()` here drops them (Kafka Streams forwards them as null values).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder } from '../../../topology/index.js'

type Kind = 'join' | 'leftJoin' | 'outerJoin'
const toStringJoiner = (l: unknown, r: unknown): string => `${l ?? 'null'}+${r ?? 'null'}`

async function tableJoin(kind: Kind) {
  const b = new StreamsBuilder()
  const t1 = b.table('t1', { key: Serdes.string(), value: Serdes.string(), name: 'table1' })
  const t2 = b.table('t2', { key: Serdes.string(), value: Serdes.string(), name: 'table2' })
  const joined = kind === 'join' ? t1.join(t2, toStringJoiner) : kind === 'leftJoin' ? t1.leftJoin(t2, toStringJoiner) : t1.outerJoin(t2, toStringJoiner)
  joined.toStream().to('out', { key: Serdes.string(), value: Serdes.string() })
  const driver = await TopologyTestDriver.create(b.build())
  const in1 = driver.createInputTopic('t1', Serdes.string(), Serdes.nullable(Serdes.string()))
  const in2 = driver.createInputTopic('t2', Serdes.string(), Serdes.nullable(Serdes.string()))
  const out = driver.createOutputTopic('out', Serdes.string(), Serdes.string())
  return {
    driver,
    left: (key: number, value: string | null, timestamp: number) => in1.pipe(String(key), value, { timestamp }),
    right: (key: number, value: string | null, timestamp: number) => in2.pipe(String(key), value, { timestamp }),
    results: (): string[] => out.readKeyValues().map(([k, v]) => `${k}:${v}`),
  }
}

test('outerJoin: Kafka Streams KTableKTableOuterJoinTest.testJoin', async () => {
  const { driver, left, right, results } = await tableJoin('outerJoin')
  const keys = [0, 1, 2, 3]
  for (const i of [0, 1]) await left(i, `X${i}`, 5 + i)
  assert.deepEqual(results(), ['0:X0+null', '1:X1+null'])
  for (const i of [0, 1]) await right(i, `Y${i}`, 10 * i)
  assert.deepEqual(results(), ['0:X0+Y0', '1:X1+Y1'])
  for (const k of keys) await left(k, `XX${k}`, 7)
  assert.deepEqual(results(), ['0:XX0+Y0', '1:XX1+Y1', '2:XX2+null', '3:XX3+null'])
  for (const k of keys) await right(k, `YY${k}`, k * 5)
  assert.deepEqual(results(), ['0:XX0+YY0', '1:XX1+YY1', '2:XX2+YY2', '3:XX3+YY3'])
  await right(0, null, 5)
  await right(1, null, 7)
  assert.deepEqual(results(), ['0:XX0+null', '1:XX1+null'])
  for (const k of keys) await left(k, `XXXX${k}`, 13)
  assert.deepEqual(results(), ['0:XXXX0+null', '1:XXXX1+null', '2:XXXX2+YY2', '3:XXXX3+YY3'])
  for (const k of keys) await left(k, null, 20)
  assert.deepEqual(results(), ['2:null+YY2', '3:null+YY3'], 'keys 0 and 1 are deleted (not shown by toStream)')
  await driver.close()
})

test('join: a row only where both tables have the key; either side updates it', async () => {
  const { driver, left, right, results } = await tableJoin('join')
  await left(0, 'X0', 1)
  await left(1, 'X1', 2)
  assert.deepEqual(results(), [])
  await right(0, 'Y0', 3)
  await right(2, 'Y2', 4)
  assert.deepEqual(results(), ['0:X0+Y0'])
  await left(0, 'XX0', 5)
  await right(0, 'YY0', 6)
  await left(2, 'X2', 7)
  assert.deepEqual(results(), ['0:XX0+Y0', '0:XX0+YY0', '2:X2+Y2'])
  await left(0, null, 8)
  await right(0, 'YYY0', 9)
  assert.deepEqual(results(), [], 'the left row is gone: no joined row any more')
  await driver.close()
})

test('leftJoin: a row per left key; right updates only where the left row exists', async () => {
  const { driver, left, right, results } = await tableJoin('leftJoin')
  await left(0, 'X0', 1)
  await right(1, 'Y1', 2)
  assert.deepEqual(results(), ['0:X0+null'])
  await right(0, 'Y0', 3)
  await left(1, 'X1', 4)
  assert.deepEqual(results(), ['0:X0+Y0', '1:X1+Y1'])
  await right(0, null, 5)
  assert.deepEqual(results(), ['0:X0+null'])
  await driver.close()
})

test('joining a table that is not materialized fails at build time, naming the side and the fix', () => {
  const b = new StreamsBuilder()
  const t1 = b.table('t1', { key: Serdes.string(), value: Serdes.string() })
  const t2 = b.table('t2', { key: Serdes.string(), value: Serdes.string() }).filter(() => true)
  assert.throws(() => t1.join(t2, (a, c) => `${a}${c}`, { name: 'both' }), /table join\(\) 'both': the right table is not materialized; join tables from builder.table\(\) or aggregations/)
})

test('describe() shows the join processors and the merge in Kafka Streams layout', () => {
  const b = new StreamsBuilder()
  const t1 = b.table('t1', { key: Serdes.string(), value: Serdes.string(), name: 'table1' })
  const t2 = b.table('t2', { key: Serdes.string(), value: Serdes.string(), name: 'table2' })
  t1.leftJoin(t2, toStringJoiner).toStream().to('out', { value: Serdes.string() })
  const text = b.build().describe()
  assert.match(text, /Processor: KTABLE-LEFTTHIS-\d{10} \(stores: \[table2-store\]\)\n {6}--> KTABLE-MERGE-\d{10}/)
  assert.match(text, /Processor: KTABLE-LEFTOTHER-\d{10} \(stores: \[table1-store\]\)/)
})
