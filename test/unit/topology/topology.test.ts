import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Serdes } from '../../../schemas/index.js'
import { resolvePartitions, Stores, StreamsBuilder, Suppressed, TimeWindows } from '../../../topology/index.js'

interface Event {
  tenant: string
  latency: number
}
const source = { key: Serdes.string(), value: Serdes.json<Event>() }

function enrichmentTopology() {
  const builder = new StreamsBuilder()
  const thresholds = builder.table('tenant-thresholds', { key: Serdes.string(), value: Serdes.double(), name: 'thresholds' })
  const events = builder.stream('events', source)
  events
    .selectKey((_k, v) => v.tenant, { name: 'by-tenant' })
    .leftJoin(thresholds, (event, threshold) => ({ ...event, threshold: threshold ?? 1000 }), { name: 'with-threshold' })
    .filter((_k, v) => v.latency > v.threshold)
    .to('slow-calls', { value: Serdes.json<Event & { threshold: number }>() })
  events
    .groupBy((_k, v) => v.tenant, { key: Serdes.string(), name: 'per-tenant' })
    .windowedBy(TimeWindows.tumbling(60_000, { graceMs: 1000 }))
    .count({ name: 'calls' })
    .suppress(Suppressed.untilWindowCloses({ name: 'final-calls' }))
    .toStream()
    .to('calls-per-minute')
  return builder.build()
}

describe('describe()', () => {
  test('lists sub-topologies, nodes with their links, stores and repartition topics like Kafka Streams', () => {
    const text = enrichmentTopology().describe()
    assert.match(text, /^Topologies:\n {3}Sub-topology: 0\n/)
    assert.match(text, / {4}Source: KSTREAM-SOURCE-\d{10} \(topics: \[events\]\)\n {6}--> by-tenant, per-tenant-key-select\n/)
    assert.match(text, / {4}Processor: with-threshold \(stores: \[thresholds-store\]\)\n {6}--> KSTREAM-FILTER-\d{10}\n {6}<-- with-threshold-repartition-source\n/)
    assert.match(text, /Sink: per-tenant-repartition-sink \(topic: per-tenant-repartition\)/)
    assert.match(text, / {3}Sub-topology: 2\n/)
    assert.match(text, /calls-store \(window, key=string, value=long, retention=61000ms, changelog calls-store-changelog\)/)
    assert.match(text, /thresholds-store \(key-value, key=string, value=double, restores from tenant-thresholds\)/)
    assert.match(text, /Repartition topics \(prefixed with the application id\):\n {3}with-threshold-repartition\n {3}per-tenant-repartition/)
  })

  test('unnamed operators get numbered Kafka Streams-like names, stable for the same code', () => {
    const build = () => {
      const b = new StreamsBuilder()
      b.stream('in', source).filter(() => true).groupByKey().count().toStream().to('out')
      return b.build().describe()
    }
    const text = build()
    assert.match(text, /Source: KSTREAM-SOURCE-0000000000/)
    assert.match(text, /Processor: KSTREAM-FILTER-0000000001/)
    assert.match(text, /Processor: KSTREAM-AGGREGATE-0000000002 \(stores: \[KSTREAM-AGGREGATE-STATE-STORE-0000000002\]\)/)
    assert.equal(build(), text)
  })
})

describe('plan(): what the runtime needs', () => {
  test('per sub-topology: source topics (user and repartition), sinks, stores with specs, co-partitioning', () => {
    const plan = enrichmentTopology().plan('sentinel')
    assert.equal(plan.subtopologies.length, 3)
    const withSource = (topic: string) => plan.subtopologies.find((s) => s.sourceTopics.includes(topic))!
    const first = withSource('events')
    const join = withSource('tenant-thresholds')
    const windowed = withSource('sentinel-per-tenant-repartition')
    assert.deepEqual(plan.subtopologies.map((s) => s.id), [0, 1, 2])
    assert.equal(join.id, 0, 'numbered in creation order: the table source came first')
    assert.deepEqual(first!.userSourceTopics, ['events'])
    assert.deepEqual(first!.repartitionSinkTopics, ['sentinel-with-threshold-repartition', 'sentinel-per-tenant-repartition'])
    assert.deepEqual(first!.stores, [])

    assert.deepEqual(join!.sourceTopics.slice().sort(), ['sentinel-with-threshold-repartition', 'tenant-thresholds'])
    assert.deepEqual(join!.repartitionSourceTopics, ['sentinel-with-threshold-repartition'])
    assert.equal(join!.requiresCoPartitioning, true)
    assert.deepEqual(join!.coPartitionGroups.map((g) => g.slice().sort()), [['sentinel-with-threshold-repartition', 'tenant-thresholds']])
    assert.deepEqual(join!.sinkTopics, ['slow-calls'])
    const table = join!.stores[0]!
    assert.equal(table.name, 'thresholds-store')
    assert.equal(table.changelogTopic, 'tenant-thresholds')
    assert.equal(table.restoresFromSourceTopic, true)

    assert.deepEqual(windowed!.repartitionSourceTopics, ['sentinel-per-tenant-repartition'])
    assert.deepEqual(windowed!.stores.map((s) => [s.name, s.kind, s.changelogTopic, s.retentionMs]), [
      ['calls-store', 'window', 'sentinel-calls-store-changelog', 61_000],
      ['final-calls-store', 'key-value', 'sentinel-final-calls-store-changelog', undefined],
    ])
    assert.equal(windowed!.stores[0]!.definition.key.name, 'string')
    assert.equal(windowed!.requiresCoPartitioning, false)
  })

  test('internal topics carry their role, partition rule and configs', () => {
    const plan = enrichmentTopology().plan('sentinel')
    const byName = new Map(plan.internalTopics.map((t) => [t.name, t]))
    assert.deepEqual(byName.get('sentinel-per-tenant-repartition')?.partitions, { kind: 'tasks-of', subtopology: 1 })
    assert.equal(byName.get('sentinel-per-tenant-repartition')?.configs['cleanup.policy'], 'delete')
    assert.deepEqual(byName.get('sentinel-calls-store-changelog')?.configs, { 'cleanup.policy': 'compact,delete', 'retention.ms': String(61_000 + 86_400_000) })
    assert.deepEqual(byName.get('sentinel-final-calls-store-changelog')?.configs, { 'cleanup.policy': 'compact' })
    assert.equal(byName.get('sentinel-dlq')?.role, 'dlq')
    assert.equal(byName.has('tenant-thresholds'), false, 'a table source topic is not an internal topic')
  })

  test('resolvePartitions derives internal partition counts from the sources and checks co-partitioning', () => {
    const plan = enrichmentTopology().plan('sentinel')
    const ok = resolvePartitions(plan, (t) => ({ events: 4, 'tenant-thresholds': 4 })[t])
    assert.deepEqual([...ok.tasksPerSubtopology.values()], [4, 4, 4])
    assert.equal(ok.topicPartitions.get('sentinel-per-tenant-repartition'), 4)
    assert.equal(ok.topicPartitions.get('sentinel-calls-store-changelog'), 4)
    assert.throws(
      () => resolvePartitions(plan, (t) => ({ events: 4, 'tenant-thresholds': 2 })[t]),
      /not co-partitioned \(.*tenant-thresholds=2.*\); give them the same partition count, or repartition\(\)/,
    )
    assert.throws(() => resolvePartitions(plan, (t) => ({ events: 4 })[t]), /source topic 'tenant-thresholds' .* does not exist/)
  })

  test('repartition({ partitions }) fixes the internal topic partition count', () => {
    const b = new StreamsBuilder()
    b.stream('in', source).repartition({ name: 'spread', partitions: 8 }).to('out')
    const plan = b.build().plan('app')
    assert.deepEqual(plan.internalTopics[0], {
      name: 'app-spread-repartition',
      role: 'repartition',
      partitions: { kind: 'fixed', count: 8 },
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * 24 * 3600 * 1000) },
    })
    assert.equal(resolvePartitions(plan, () => 2).tasksPerSubtopology.get(1), 8)
  })
})

describe('validation at build time names the operator and the fix', () => {
  test('a missing serde after the value type changed', () => {
    const b = new StreamsBuilder()
    const mapped = b.stream('in', source).mapValues((v) => v.latency, { name: 'latency-only' })
    assert.throws(() => mapped.to('out'), /to\('out'\): the value serde is unknown .*; pass \{ value: Serdes\.<type>\(\) \}/)
    const rekeyed = b.stream('in2', source).map((_k, v): [number, Event] => [v.latency, v])
    assert.throws(() => rekeyed.groupByKey().count({ name: 'by-latency' }), /count\(\) 'by-latency': the grouping key serde is unknown.*pass \{ key: Serdes\.<type>\(\) \} to groupByKey\(\)/)
  })

  test('an unknown store', () => {
    const b = new StreamsBuilder()
    b.stream('in', source).process(() => ({ process() {} }), { name: 'custom', stores: ['nope'] })
    assert.throws(() => b.build(), /processor 'custom' uses store 'nope', which is not defined; add it with builder\.addStateStore/)
  })

  test('a windowed operation without a window', () => {
    const b = new StreamsBuilder()
    const table = b.stream('in', source).groupByKey().count({ name: 'plain' })
    assert.throws(() => table.suppress(Suppressed.untilWindowCloses()), /untilWindowCloses needs a windowed table; call windowedBy\(\.\.\.\)/)
  })

  test('a name used twice, and a topic read twice', () => {
    const b = new StreamsBuilder()
    const s = b.stream('in', source)
    s.filter(() => true, { name: 'dup' })
    assert.throws(() => s.filter(() => true, { name: 'dup' }), /the name 'dup' is already used by filter\(\) 'dup'/)
    assert.throws(() => b.stream('in', source), /topic 'in' is read by both/)
    assert.throws(() => b.addStateStore(Stores.keyValue('dup', Serdes.string(), Serdes.long())), /'dup' is already used/)
  })

  test('a missing source serde and an invalid name', () => {
    const b = new StreamsBuilder()
    assert.throws(() => b.stream('in', { key: Serdes.string() } as unknown as typeof source), /value serde is missing/)
    assert.throws(() => b.stream('in2', source).filter(() => true, { name: 'a b' }), /name 'a b' is invalid/)
  })

  test('co-partitioning that cannot hold fails when partitions are known', () => {
    const b = new StreamsBuilder()
    const t = b.table('config', { key: Serdes.string(), value: Serdes.string() })
    b.stream('in', source).join(t, (v, c) => `${v.tenant}:${c}`).to('out', { value: Serdes.string() })
    const plan = b.build().plan('app')
    assert.throws(() => resolvePartitions(plan, (topic) => (topic === 'in' ? 3 : 1)), /not co-partitioned \(in=3, config=1\)/)
  })
})
