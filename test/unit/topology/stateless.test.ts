import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder, type Topology } from '../../../topology/index.js'

interface Call {
  tenant: string
  model: string
  tokens: number
}
const calls = { key: Serdes.string(), value: Serdes.json<Call>() }
const call = (tenant: string, tokens: number, model = 'gpt-4o'): Call => ({ tenant, model, tokens })

async function run(topology: Topology, feed: (pipe: (key: string, value: Call, timestamp?: number) => Promise<void>) => Promise<void>) {
  const driver = await TopologyTestDriver.create(topology, { applicationId: 'app' })
  const input = driver.createInputTopic('calls', calls.key, calls.value)
  await feed((key, value, timestamp = 1000) => input.pipe(key, value, { timestamp }))
  return driver
}

describe('stateless operators through the driver', () => {
  test('filter, filterNot, mapValues, map and to()', async () => {
    const b = new StreamsBuilder()
    const s = b.stream('calls', calls)
    s.filter((_k, v) => v.tokens >= 100).mapValues((v) => v.tokens).to('big', { value: Serdes.long() })
    s.filterNot((_k, v) => v.tokens >= 100).map((k, v): [string, string] => [`${k}/${v.model}`, v.model]).to('small', { key: Serdes.string(), value: Serdes.string() })
    const driver = await run(b.build(), async (pipe) => {
      await pipe('a', call('a', 150))
      await pipe('b', call('b', 20, 'claude'))
      await pipe('c', call('c', 100))
    })
    assert.deepEqual(driver.createOutputTopic('big', Serdes.string(), Serdes.long()).readKeyValues(), [['a', 150], ['c', 100]])
    assert.deepEqual(driver.createOutputTopic('small', Serdes.string(), Serdes.string()).readKeyValues(), [['b/claude', 'claude']])
    await driver.close()
  })

  test('flatMap and flatMapValues emit zero or more records, keeping the timestamp', async () => {
    const b = new StreamsBuilder()
    const s = b.stream('calls', calls)
    s.flatMapValues((v) => Array.from({ length: v.tokens }, (_, i) => i)).to('expanded', { value: Serdes.int() })
    s.flatMap((k, v): [string, string][] => (v.tokens > 1 ? [[`${k}-1`, v.model], [`${k}-2`, v.model]] : [])).to('pairs', {
      key: Serdes.string(),
      value: Serdes.string(),
    })
    const driver = await run(b.build(), async (pipe) => {
      await pipe('a', call('a', 3), 42)
      await pipe('b', call('b', 0), 43)
    })
    const expanded = driver.createOutputTopic('expanded', Serdes.string(), Serdes.int()).readRecords()
    assert.deepEqual(expanded.map((r) => [r.key, r.value, r.timestamp]), [['a', 0, 42], ['a', 1, 42], ['a', 2, 42]])
    assert.deepEqual(driver.createOutputTopic('pairs', Serdes.string(), Serdes.string()).readKeyValues(), [['a-1', 'gpt-4o'], ['a-2', 'gpt-4o']])
    await driver.close()
  })

  test('selectKey changes the key (and so the output partition); peek and foreach see every record', async () => {
    const seen: string[] = []
    const each: number[] = []
    const b = new StreamsBuilder()
    const s = b.stream('calls', calls)
    s.peek((k) => seen.push(k)).selectKey((_k, v) => v.model).to('by-model', { key: Serdes.string() })
    s.foreach((_k, v) => each.push(v.tokens))
    const driver = await run(b.build(), async (pipe) => {
      await pipe('a', call('a', 1, 'm1'))
      await pipe('b', call('b', 2, 'm2'))
    })
    assert.deepEqual(driver.createOutputTopic('by-model', Serdes.string(), calls.value).readKeyValues(), [['m1', call('a', 1, 'm1')], ['m2', call('b', 2, 'm2')]])
    assert.deepEqual(seen, ['a', 'b'])
    assert.deepEqual(each, [1, 2])
    await driver.close()
  })

  test('split routes each record to the first matching branch, the rest to the default branch', async () => {
    const b = new StreamsBuilder()
    const branches = b
      .stream('calls', calls)
      .split({ name: 'route' })
      .branch('huge', (_k, v) => v.tokens > 1000)
      .branch('big', (_k, v) => v.tokens > 100)
      .defaultBranch('rest')
    branches.huge.to('huge')
    branches.big.to('big')
    branches.rest.to('rest')
    const driver = await run(b.build(), async (pipe) => {
      for (const [k, t] of [['a', 5000], ['b', 500], ['c', 5], ['d', 101]] as const) await pipe(k, call(k, t))
    })
    const keys = (topic: string) => driver.createOutputTopic(topic, calls.key, calls.value).readKeyValues().map(([k]) => k)
    assert.deepEqual(keys('huge'), ['a'])
    assert.deepEqual(keys('big'), ['b', 'd'])
    assert.deepEqual(keys('rest'), ['c'])
    assert.deepEqual(driver.plan.subtopologies[0]!.sinkTopics, ['huge', 'big', 'rest'])
    await driver.close()
  })

  test('split without a default branch drops unmatched records; branch names must be unique', async () => {
    const b = new StreamsBuilder()
    const split = b.stream('calls', calls).split()
    const { only } = split.branch('only', (_k, v) => v.tokens === 1).noDefaultBranch()
    only.to('only')
    assert.throws(() => split.branch('only', () => true), /branch 'only' is defined twice/)
    const driver = await run(b.build(), async (pipe) => {
      await pipe('a', call('a', 1))
      await pipe('b', call('b', 2))
    })
    assert.deepEqual(driver.createOutputTopic('only', calls.key, calls.value).readKeyValues(), [['a', call('a', 1)]])
    await driver.close()
  })

  test('merge combines two streams in arrival order', async () => {
    const b = new StreamsBuilder()
    const first = b.stream('calls', calls)
    const second = b.stream('retries', calls)
    first.merge(second).mapValues((v) => v.tenant).to('all', { value: Serdes.string() })
    const driver = await TopologyTestDriver.create(b.build())
    const c = driver.createInputTopic('calls', calls.key, calls.value)
    const r = driver.createInputTopic('retries', calls.key, calls.value)
    await c.pipe('1', call('x', 1))
    await r.pipe('2', call('y', 1))
    await c.pipe('3', call('z', 1))
    assert.deepEqual(driver.createOutputTopic('all', Serdes.string(), Serdes.string()).readValues(), ['x', 'y', 'z'])
    await driver.close()
  })

  test('repartition writes through <applicationId>-<name>-repartition, partitioned by the new key', async () => {
    const b = new StreamsBuilder()
    b.stream('calls', calls)
      .selectKey((_k, v) => v.tenant)
      .repartition({ name: 'by-tenant', partitions: 3, key: Serdes.string() })
      .to('out')
    const driver = await TopologyTestDriver.create(b.build(), { applicationId: 'app' })
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    await input.pipeRecords(['t1', 't2', 't3', 't1'].map((tenant, i) => ({ key: `req-${i}`, value: call(tenant, i) })))
    const internal = driver.records('app-by-tenant-repartition')
    assert.equal(internal.length, 4)
    const partitionOf = new Map<string, number>()
    for (const r of internal) {
      const k = r.key!.toString()
      assert.equal(partitionOf.get(k) ?? r.partition, r.partition, 'a key always lands in the same partition')
      partitionOf.set(k, r.partition)
    }
    const out = driver.createOutputTopic('out', calls.key, calls.value).readRecords()
    assert.deepEqual(out.map((r) => r.key).sort(), ['t1', 't1', 't2', 't3'])
    assert.deepEqual(out.map((r) => r.value.tokens).sort(), [0, 1, 2, 3])
    await driver.close()
  })

  test('to() with a function picks the topic per record, and a partitioner picks the partition', async () => {
    const b = new StreamsBuilder()
    b.stream('calls', calls).to((_k, v) => `tenant-${v.tenant}`, { partitioner: (_k, v, count) => v.tokens % count })
    const driver = await TopologyTestDriver.create(b.build(), { partitions: { 'tenant-a': 4 } })
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    await input.pipe('1', call('a', 6))
    await input.pipe('2', call('b', 7))
    const a = driver.createOutputTopic('tenant-a', calls.key, calls.value).readRecords()
    assert.deepEqual(a.map((r) => [r.key, r.partition]), [['1', 2]])
    assert.equal(driver.createOutputTopic('tenant-b', calls.key, calls.value).readRecords().length, 1)
    await driver.close()
  })

  test('headers and timestamps flow from input to output', async () => {
    const b = new StreamsBuilder()
    b.stream('calls', calls).mapValues((v) => v.tokens).to('out', { value: Serdes.long() })
    const driver = await TopologyTestDriver.create(b.build())
    await driver.createInputTopic('calls', calls.key, calls.value).pipe('k', call('a', 5), { timestamp: 777, headers: { trace: 'abc' } })
    const [record] = driver.createOutputTopic('out', Serdes.string(), Serdes.long()).readRecords()
    assert.equal(record?.timestamp, 777)
    assert.equal(String(record?.headers.trace), 'abc')
    await driver.close()
  })

  test('null keys need a nullable key serde; with one they flow as null', async () => {
    const b = new StreamsBuilder()
    b.stream('calls', { key: Serdes.nullable(Serdes.string()), value: calls.value })
      .selectKey((_k, v) => v.tenant)
      .to('keyed', { key: Serdes.string() })
    const driver = await TopologyTestDriver.create(b.build())
    await driver.createInputTopic('calls', Serdes.nullable(Serdes.string()), calls.value).pipeValue(call('acme', 1))
    assert.deepEqual(driver.createOutputTopic('keyed', Serdes.string(), calls.value).readKeyValues(), [['acme', call('acme', 1)]])
    await driver.close()

    const strict = new StreamsBuilder()
    strict.stream('calls', calls).to('out')
    const d2 = await TopologyTestDriver.create(strict.build())
    await d2.pipeRaw('calls', [{ key: null, value: Buffer.from('{}') }])
    assert.match(d2.deadLetters()[0]!.headers['sentinel.error.message']!, /null key, but the key serde string does not accept null; declare it Serdes\.nullable\(string\)/)
    await d2.close()
  })
})
