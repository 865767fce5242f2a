import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { TopologyTestDriver } from '../../../runtime/test-driver.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder } from '../../../topology/index.js'

interface Call {
  tenant: string
  user: string
  tokens: number
}
const calls = { key: Serdes.string(), value: Serdes.json<Call>() }
const call = (tenant: string, user: string, tokens: number): Call => ({ tenant, user, tokens })

describe('grouped aggregations', () => {
  test('groupByKey: count, reduce and aggregate emit every update and keep state in named stores', async () => {
    const b = new StreamsBuilder()
    const grouped = b.stream('calls', calls).groupByKey()
    grouped.count({ name: 'calls-per-user' }).toStream().to('counts', { value: Serdes.long() })
    grouped
      .reduce((max, v) => (v.tokens > max.tokens ? v : max), { name: 'largest' })
      .toStream()
      .mapValues((v) => v.tokens)
      .to('largest', { value: Serdes.long() })
    grouped
      .aggregate(() => ({ n: 0, tokens: 0 }), (_k, v, agg) => ({ n: agg.n + 1, tokens: agg.tokens + v.tokens }), {
        name: 'usage',
        value: Serdes.json<{ n: number; tokens: number }>(),
      })
      .toStream()
      .to('usage')
    const driver = await TopologyTestDriver.create(b.build(), { applicationId: 'app' })
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    await input.pipe('u1', call('t', 'u1', 10))
    await input.pipe('u2', call('t', 'u2', 5))
    await input.pipe('u1', call('t', 'u1', 30))
    await input.pipe('u1', call('t', 'u1', 20))
    assert.deepEqual(driver.createOutputTopic('counts', Serdes.string(), Serdes.long()).readKeyValues(), [['u1', 1], ['u2', 1], ['u1', 2], ['u1', 3]])
    assert.deepEqual(driver.createOutputTopic('largest', Serdes.string(), Serdes.long()).readValues(), [10, 5, 30, 30])
    assert.deepEqual(driver.createOutputTopic('usage', Serdes.string(), Serdes.json<{ n: number; tokens: number }>()).readKeyValues().at(-1), [
      'u1',
      { n: 3, tokens: 60 },
    ])
    assert.deepEqual(await driver.readKeyValueStore('calls-per-user-store'), [['u1', 3], ['u2', 1]])
    assert.equal(driver.records('app-calls-per-user-store-changelog').length > 0, true)
    await driver.close()
  })

  test('groupBy repartitions through an internal topic so each new key is aggregated in one task', async () => {
    const b = new StreamsBuilder()
    b.stream('calls', calls)
      .groupBy((_k, v) => v.tenant, { key: Serdes.string(), name: 'by-tenant' })
      .aggregate(() => 0, (_k, v, sum) => sum + v.tokens, { name: 'tokens-per-tenant', value: Serdes.long() })
      .toStream()
      .to('tenant-tokens', { value: Serdes.long() })
    const driver = await TopologyTestDriver.create(b.build(), { applicationId: 'app', partitions: { calls: 4 } })
    const input = driver.createInputTopic('calls', calls.key, calls.value)
    const records = Array.from({ length: 40 }, (_, i) => ({ key: `user-${i}`, value: call(`tenant-${i % 3}`, `user-${i}`, i) }))
    await input.pipeRecords(records)
    assert.equal(driver.records('app-by-tenant-repartition').length, 40)
    const latest = new Map(driver.createOutputTopic('tenant-tokens', Serdes.string(), Serdes.long()).readKeyValues())
    const expected = new Map<string, number>()
    for (const r of records) expected.set(r.value.tenant, (expected.get(r.value.tenant) ?? 0) + r.value.tokens)
    assert.deepEqual(latest, expected)
    // The store is spread over 4 tasks, each key in exactly one.
    const entries = await driver.readKeyValueStore<string, number>('tokens-per-tenant-store')
    assert.deepEqual(new Map(entries), expected)
    assert.equal(entries.length, 3)
    await driver.close()
  })
})

describe('partitioning does not change results', () => {
  test('property: groupBy + aggregate gives the same totals for any partition count of the input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ user: fc.constantFrom('u1', 'u2', 'u3', 'u4'), tenant: fc.constantFrom('t1', 't2', 't3'), tokens: fc.nat(100) }), { maxLength: 30 }),
        fc.constantFrom(1, 2, 3, 5),
        async (rows, partitions) => {
          const b = new StreamsBuilder()
          b.stream('calls', calls)
            .groupBy((_k, v) => v.tenant, { key: Serdes.string(), name: 'by-tenant' })
            .aggregate(() => 0, (_k, v, sum) => sum + v.tokens, { name: 'totals', value: Serdes.long() })
          const driver = await TopologyTestDriver.create(b.build(), { partitions: { calls: partitions } })
          await driver.createInputTopic('calls', calls.key, calls.value).pipeRecords(rows.map((r) => ({ key: r.user, value: call(r.tenant, r.user, r.tokens) })))
          const expected = new Map<string, number>()
          for (const r of rows) expected.set(r.tenant, (expected.get(r.tenant) ?? 0) + r.tokens)
          const actual = await driver.readKeyValueStore<string, number>('totals-store')
          assert.equal(actual.length, expected.size, 'each tenant in exactly one task')
          assert.deepEqual(new Map(actual), expected)
          await driver.close()
        },
      ),
      { numRuns: 20 },
    )
  })
})

describe('tables and the stream-table join', () => {
  test('table(): latest value per key, deletes by null; filter turns dropped rows into deletes; mapValues; toStream', async () => {
    const b = new StreamsBuilder()
    const limits = b.table('limits', { key: Serdes.string(), value: Serdes.long(), name: 'limits' })
    limits.filter((_k, v) => v > 10).mapValues((v) => `limit=${v}`, { value: Serdes.string() }).toStream().to('big-limits')
    const driver = await TopologyTestDriver.create(b.build())
    const input = driver.createInputTopic('limits', Serdes.string(), Serdes.nullable(Serdes.long()))
    await input.pipe('a', 100)
    await input.pipe('b', 5)
    await input.pipe('a', null)
    await input.pipe('c', 50)
    assert.deepEqual(driver.createOutputTopic('big-limits', Serdes.string(), Serdes.string()).readKeyValues(), [['a', 'limit=100'], ['c', 'limit=50']])
    assert.deepEqual(await driver.readKeyValueStore('limits-store'), [['b', 5], ['c', 50]])
    await driver.close()
  })

  test('leftJoin enriches with the current table value (undefined when absent); join drops misses', async () => {
    const b = new StreamsBuilder()
    const thresholds = b.table('thresholds', { key: Serdes.string(), value: Serdes.long() })
    const byTenant = b.stream('calls', calls).selectKey((_k, v) => v.tenant)
    byTenant
      .leftJoin(thresholds, (v, limit) => ({ ...v, limit: limit ?? null }), { name: 'enrich' })
      .to('enriched', { value: Serdes.json<Call & { limit: number | null }>() })
    const driver = await TopologyTestDriver.create(b.build(), { applicationId: 'app' })
    const t = driver.createInputTopic('thresholds', Serdes.string(), Serdes.long())
    const c = driver.createInputTopic('calls', calls.key, calls.value)
    await t.pipe('acme', 100)
    await c.pipe('r1', call('acme', 'u', 1))
    await c.pipe('r2', call('globex', 'u', 2))
    await t.pipe('globex', 7)
    await c.pipe('r3', call('globex', 'u', 3))
    const out = driver.createOutputTopic('enriched', Serdes.string(), Serdes.json<Call & { limit: number | null }>()).readKeyValues()
    assert.deepEqual(out.map(([k, v]) => [k, v.tokens, v.limit]), [['acme', 1, 100], ['globex', 2, null], ['globex', 3, 7]])
    assert.equal(driver.records('app-enrich-repartition').length, 3, 'the re-keyed stream went through a repartition topic')
    await driver.close()

    const inner = new StreamsBuilder()
    const th = inner.table('thresholds', { key: Serdes.string(), value: Serdes.long() })
    inner.stream('calls', calls).join(th, (v, limit) => v.tokens * limit).to('scaled', { value: Serdes.long() })
    const d2 = await TopologyTestDriver.create(inner.build())
    await d2.createInputTopic('thresholds', Serdes.string(), Serdes.long()).pipe('k1', 10)
    const c2 = d2.createInputTopic('calls', calls.key, calls.value)
    await c2.pipe('k1', call('x', 'u', 2))
    await c2.pipe('k2', call('x', 'u', 3))
    assert.deepEqual(d2.createOutputTopic('scaled', Serdes.string(), Serdes.long()).readKeyValues(), [['k1', 20]])
    await d2.close()
  })
})
