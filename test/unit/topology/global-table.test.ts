/**
 * Global tables and KStream-GlobalKTable joins through the driver. The join sequences follow Kafka
 * Streams' KStreamGlobalKTableJoinTest and KStreamGlobalKTableLeftJoinTest (3.9): stream values
 * "X<i>,FKey<j>" join the global row of "FKey<j>".
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import type { KeyValueStore } from '../../../state/index.js'
import { type Processor, type ProcessorContext, StreamsBuilder } from '../../../topology/index.js'

const foreignKey = (_key: number, value: string): string | null => value.split(',')[1] ?? null

async function globalJoin(kind: 'join' | 'leftJoin', partitions: Record<string, number> = {}) {
  const b = new StreamsBuilder()
  const stream = b.stream('stream', { key: Serdes.int(), value: Serdes.string() })
  const global = b.globalTable('global', { key: Serdes.string(), value: Serdes.nullable(Serdes.string()), name: 'ref' })
  const joiner = (value: string, row: string | null | undefined): string => `${value}+${row ?? 'null'}`
  const joined = kind === 'join' ? stream.join(global, foreignKey, joiner) : stream.leftJoin(global, foreignKey, joiner)
  joined.to('out', { key: Serdes.int(), value: Serdes.string() })
  const topology = b.build()
  const driver = await TopologyTestDriver.create(topology, { partitions })
  const streamIn = driver.createInputTopic('stream', Serdes.int(), Serdes.string())
  const globalIn = driver.createInputTopic('global', Serdes.string(), Serdes.nullable(Serdes.string()))
  const out = driver.createOutputTopic('out', Serdes.int(), Serdes.string())
  return {
    topology,
    driver,
    stream: async (keys: number[], value: (k: number) => string) => {
      for (const k of keys) await streamIn.pipe(k, value(k))
    },
    global: async (keys: number[], value: (k: number) => string | null) => {
      for (const k of keys) await globalIn.pipe(`FKey${k}`, value(k))
    },
    results: (): string[] => out.readKeyValues().map(([k, v]) => `${k}:${v}`),
  }
}

test('join: only records whose computed key has a global row join, with the row current at the time (KStreamGlobalKTableJoinTest)', async () => {
  const { driver, stream, global, results } = await globalJoin('join')
  await stream([0, 1], (k) => `X${k},FKey${k}`)
  assert.deepEqual(results(), [], 'no global rows yet')
  await global([0, 1], (k) => `Y${k}`)
  assert.deepEqual(results(), [], 'a global update triggers nothing: only the stream side drives the join')
  await stream([0, 1, 2, 3], (k) => `X${k},FKey${k}`)
  assert.deepEqual(results(), ['0:X0,FKey0+Y0', '1:X1,FKey1+Y1'])
  await global([0, 1, 2, 3], (k) => `YY${k}`)
  await stream([0, 1, 2, 3], (k) => `X${k},FKey${k}`)
  assert.deepEqual(results(), ['0:X0,FKey0+YY0', '1:X1,FKey1+YY1', '2:X2,FKey2+YY2', '3:X3,FKey3+YY3'])
  await global([0, 1], () => null)
  await stream([0, 1, 2, 3], (k) => `XX${k},FKey${k}`)
  assert.deepEqual(results(), ['2:XX2,FKey2+YY2', '3:XX3,FKey3+YY3'], 'deleted rows join nothing')
  await stream([4], () => 'X4') // the selector finds no key: dropped
  assert.deepEqual(results(), [])
  await driver.close()
})

test('leftJoin: every record, with undefined for a missing row or key (KStreamGlobalKTableLeftJoinTest)', async () => {
  const { driver, stream, global, results } = await globalJoin('leftJoin')
  await stream([0, 1], (k) => `X${k},FKey${k}`)
  assert.deepEqual(results(), ['0:X0,FKey0+null', '1:X1,FKey1+null'])
  await global([0, 1], (k) => `Y${k}`)
  await stream([0, 1, 2, 3], (k) => `X${k},FKey${k}`)
  assert.deepEqual(results(), ['0:X0,FKey0+Y0', '1:X1,FKey1+Y1', '2:X2,FKey2+null', '3:X3,FKey3+null'])
  await global([1], () => null)
  await stream([0, 1], (k) => `XX${k},FKey${k}`)
  await stream([4], () => 'X4')
  assert.deepEqual(results(), ['0:XX0,FKey0+Y0', '1:XX1,FKey1+null', '4:X4+null'])
  await driver.close()
})

test('every task sees every row, whatever the partitions of the stream and of the global topic', async () => {
  const { driver, stream, global, results } = await globalJoin('join', { stream: 4, global: 3 })
  await global([0, 1, 2, 3, 4, 5, 6, 7], (k) => `Y${k}`)
  await stream([0, 1, 2, 3, 4, 5, 6, 7], (k) => `X${k},FKey${7 - k}`)
  assert.deepEqual(results().sort(), [0, 1, 2, 3, 4, 5, 6, 7].map((k) => `${k}:X${k},FKey${7 - k}+Y${7 - k}`))
  assert.deepEqual((await driver.readKeyValueStore<string, string>('ref-store')).length, 8, 'one store holds all rows')
  await driver.close()
})

test('the global store is readable by any processor, and read-only to them', async () => {
  const b = new StreamsBuilder()
  b.globalTable('tiers', { key: Serdes.string(), value: Serdes.string(), store: 'tiers' })
  const seen: (string | undefined)[] = []
  class Reader implements Processor<string, string> {
    private store!: KeyValueStore<string, string>
    init(context: ProcessorContext<never, never>): void {
      this.store = context.getStateStore<KeyValueStore<string, string>>('tiers')
    }
    process(record: { key: string; value: string }): void {
      seen.push(this.store.get(record.value))
      if (record.key === 'write') this.store.put(record.value, 'x')
    }
  }
  b.stream('in', { key: Serdes.string(), value: Serdes.string() }).process(() => new Reader())
  const driver = await TopologyTestDriver.create(b.build(), { errorPolicy: 'dlq' })
  await driver.createInputTopic('tiers', Serdes.string(), Serdes.string()).pipe('acme', 'gold')
  const input = driver.createInputTopic('in', Serdes.string(), Serdes.string())
  await input.pipe('read', 'acme')
  await input.pipe('read', 'nobody')
  await input.pipe('write', 'acme')
  assert.deepEqual(seen, ['gold', undefined, 'gold'])
  const [dead] = driver.deadLetters()
  assert.match(dead!.headers['sentinel.error.message']!, /global table's store: it follows its source topic/)
  await driver.close()
})

test('a global row that cannot be deserialized is skipped; the others apply', async () => {
  const b = new StreamsBuilder()
  const g = b.globalTable('g', { key: Serdes.string(), value: Serdes.json<{ tier: string }>(), store: 'g' })
  b.stream('in', { key: Serdes.string(), value: Serdes.string() })
    .leftJoin(g, (_k, v) => v, (v, row) => `${v}:${row?.tier ?? '-'}`)
    .to('out', { key: Serdes.string(), value: Serdes.string() })
  const driver = await TopologyTestDriver.create(b.build())
  await driver.pipeRaw('g', [
    { key: Buffer.from('a'), value: Buffer.from('{not json') },
    { key: Buffer.from('b'), value: Buffer.from('{"tier":"gold"}') },
    { key: null, value: Buffer.from('{"tier":"keyless"}') },
  ])
  const input = driver.createInputTopic('in', Serdes.string(), Serdes.string())
  await input.pipe('1', 'a')
  await input.pipe('2', 'b')
  assert.deepEqual(driver.createOutputTopic('out', Serdes.string(), Serdes.string()).readValues(), ['a:-', 'b:gold'])
  assert.equal(driver.getStore<KeyValueStore<string, unknown>>('g').constructor.name, 'GlobalKeyValueStore')
  await driver.close()
})

test('describe() shows the global table as a sub-topology of its own that generates no tasks, and its store', async () => {
  const { topology, driver } = await globalJoin('join')
  const description = topology.describe()
  assert.match(
    description,
    / {3}Sub-topology: 1 for global store \(will not generate tasks\)\n {4}Source: ref \(topics: \[global\]\)\n {6}--> ref-materialize\n {4}Processor: ref-materialize \(stores: \[ref-store\]\)\n {6}--> none\n {6}<-- ref\n/,
  )
  assert.match(description, /Processor: KSTREAM-JOIN-\d+ \(stores: \[\]\)/)
  assert.match(description, /ref-store \(key-value, key=string, value=nullable\(string\), global, restores from global\)/)
  assert.equal(topology.subtopologies.length, 1, 'no task sub-topology for the global table')
  assert.deepEqual(
    topology.plan('app').globalStores.map((g) => [g.name, g.topic]),
    [['ref-store', 'global']],
  )
  assert.ok(!topology.plan('app').internalTopics.some((t) => t.name.includes('ref')), 'no changelog: the topic is the changelog')
  await driver.close()
})

test('build-time errors: a global topic read twice, a join with another builder\'s global table, a missing serde', () => {
  const b = new StreamsBuilder()
  b.globalTable('g', { key: Serdes.string(), value: Serdes.string() })
  assert.throws(() => b.stream('g', { key: Serdes.string(), value: Serdes.string() }), /topic 'g' is read by both/)
  const other = new StreamsBuilder().globalTable('h', { key: Serdes.string(), value: Serdes.string() })
  const s = b.stream('s', { key: Serdes.string(), value: Serdes.string() })
  assert.throws(() => s.join(other, (k) => k, (v) => v), /another StreamsBuilder/)
  assert.throws(() => b.globalTable('x', { key: Serdes.string() } as never), /value serde is missing/)
})
