import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import { after, describe, test } from 'node:test'
import { StandaloneStreams } from '../../../../runtime/standalone/standalone-streams.js'
import { StoreNotQueryableError, type IncomingRecord } from '../../../../runtime/streams-runtime.js'
import { DLQ_HEADERS } from '../../../../runtime/task/records.js'
import { TopologyTestDriver } from '../../../../runtime/testing/topology-test-driver.js'
import { Serdes } from '../../../../schemas/index.js'
import { StreamsBuilder, TimestampExtractors, TimeWindows, type Topology } from '../../../../topology/index.js'
import { rocksdbDirectories, rocksdbNativeOptions } from '../../state/rocksdb-native-options.js'

interface Request {
  tenant: string
  model: string
  ts: number
}

const requestSerde = Serdes.json<Request>({ name: 'json(Request)' })

/** Requests keyed by request id, regrouped by tenant (a repartition topic): per-minute counts, and per-model totals. */
function countsTopology(graceMs = 0): Topology {
  const b = new StreamsBuilder()
  const requests = b.stream('requests', { key: Serdes.string(), value: requestSerde, timestamp: TimestampExtractors.epochMillisField<Request>('ts') })
  requests
    .groupBy((_k, v) => v.tenant, { key: Serdes.string() })
    .windowedBy(TimeWindows.tumbling(60_000, { graceMs }))
    .count({ name: 'per-tenant-minute' })
    .toStream()
    .map((w, n): [string, string] => [`${w.key}@${w.window.start}`, String(n)])
    .to('tenant-counts', { key: Serdes.string(), value: Serdes.string() })
  requests
    .groupBy((_k, v) => v.model, { key: Serdes.string() })
    .count({ name: 'per-model' })
    .toStream()
    .mapValues((n) => String(n))
    .to('model-counts', { key: Serdes.string(), value: Serdes.string() })
  return b.build()
}

const tenants = ['acme', 'globex', 'initech']
const models = ['gpt-4o', 'claude', 'llama']
function requestsFor(n: number, seed = 1): [string, Request][] {
  let x = seed
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31)
  return Array.from({ length: n }, (_, i) => [`req-${i}`, { tenant: tenants[next() % 3]!, model: models[next() % 3]!, ts: 1_000 + i * 1_500 }])
}

const dirs: string[] = []
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'standalone-test-'))
  dirs.push(dir)
  return dir
}
const apps: StandaloneStreams[] = []
/** A runtime closed after the file's tests, even when a test fails before its own close. */
function standalone(...args: ConstructorParameters<typeof StandaloneStreams>): StandaloneStreams {
  const app = new StandaloneStreams(...args)
  apps.push(app)
  return app
}
after(async () => {
  await Promise.all(apps.map((a) => a.close()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const silent = { logger: false as const }
const decode = (records: readonly { key: Buffer | null; value: Buffer | null }[]) => records.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null])

/** Every record of a topic in the runtime's log, across partitions. */
function topicRecords(app: StandaloneStreams, topic: string) {
  const out = []
  for (let p = 0; p < (app.log.partitionCount(topic) ?? 0); p++) out.push(...app.log.read(topic, p, 0, 1e9))
  return out.sort((a, b) => a.sequence - b.sequence)
}

function collect(records: IncomingRecord[]): (batch: readonly IncomingRecord[]) => Promise<void> {
  return async (batch) => {
    records.push(...batch)
  }
}

describe('StandaloneStreams on RocksDB', () => {
  test('produces what the TopologyTestDriver produces for the same input (repartition topics, windows, two tasks)', async () => {
    const input = requestsFor(200)
    // A grace longer than the input: which upstream task runs first decides the interleaving on the
    // repartition topic, and must not decide which records are late.
    const driver = await TopologyTestDriver.create(countsTopology(600_000), { applicationId: 'counts', partitions: { requests: 2 } })
    await driver.createInputTopic('requests', Serdes.string(), requestSerde).pipeRecords(input.map(([key, value]) => ({ key, value, timestamp: value.ts })))
    const expectedTenant = decode(driver.records('tenant-counts'))
    const expectedModel = decode(driver.records('model-counts'))
    await driver.close()

    const app = standalone(
      countsTopology(600_000),
      { applicationId: 'counts', stateDir: stateDir(), partitions: { requests: 2 }, forwardingCacheMaxEntries: 0, commitIntervalMs: 50 },
      silent,
    )
    assert.equal(app.mode, 'standalone')
    assert.equal(app.config.storeEngine, 'rocksdb')
    await app.start()
    assert.equal(app.state, 'running')
    await app.send('requests', input.map(([key, value]) => ({ key, value: JSON.stringify(value), timestamp: value.ts })))
    await app.idle(10_000)
    // Two tasks per sub-topology: the order across tasks may differ, each key's sequence may not.
    const byKey = (rows: (string | null)[][]) => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]))
    assert.deepEqual(byKey(decode(topicRecords(app, 'tenant-counts'))), byKey(expectedTenant))
    assert.deepEqual(byKey(decode(topicRecords(app, 'model-counts'))), byKey(expectedModel))
    assert.equal(expectedModel.length, 200)
    await app.close()
    assert.equal(app.state, 'not-running')
  })

  test("the config's rocksdb settings reach every store's database", async () => {
    const dir = stateDir()
    const app = standalone(countsTopology(), { applicationId: 'native', stateDir: dir, commitIntervalMs: 50, rocksdb: { blockCache: true, maxOpenFiles: 50 } }, silent)
    await app.start()
    await app.send('requests', requestsFor(20).map(([key, value]) => ({ key, value: JSON.stringify(value) })))
    await app.idle(10_000)
    await app.close()
    const databases = await rocksdbDirectories(dir)
    assert.equal(databases.length, 2, 'one per store: per-tenant-minute and per-model')
    for (const db of databases) {
      const options = await rocksdbNativeOptions(db)
      assert.equal(options.get('max_open_files'), '50', db)
      assert.equal(options.get('no_block_cache'), 'false', db)
    }
  })

  test('a restart on the same stateDir keeps store contents (and stream time)', async () => {
    const dir = stateDir()
    const config = { applicationId: 'restart', stateDir: dir, commitIntervalMs: 50 }
    const first = standalone(countsTopology(), config, silent)
    await first.start()
    // Event times 1 000 .. 74 500: the first minute's window has closed (grace 0) by the end.
    await first.send('requests', requestsFor(50).map(([key, value]) => ({ key, value: JSON.stringify(value) })))
    await first.idle(10_000)
    const before = new Map<string, number>()
    for await (const [k, v] of first.keyValueStore<string, number>('per-model-store').all()) before.set(k, v)
    assert.equal([...before.values()].reduce((a, b) => a + b, 0), 50)
    await first.close()

    const second = standalone(countsTopology(), config, silent)
    await second.start()
    const perModel = second.keyValueStore<string, number>('per-model-store')
    for (const [model, count] of before) assert.equal(await perModel.get(model), count, `model ${model} after restart`)
    // The first record after the restart belongs to the closed window: late, because the stream
    // time was restored (a fresh task would accept it and emit acme@0 again).
    await second.send('requests', [{ key: 'req-late', value: JSON.stringify({ tenant: 'acme', model: 'claude', ts: 1_000 }) }])
    await second.idle(10_000)
    assert.deepEqual(decode(topicRecords(second, 'tenant-counts')), [], 'a window closed before the restart is not reopened')
    assert.equal(await perModel.get('claude'), (before.get('claude') ?? 0) + 1, 'the restored count goes on')
    const modelCounts = new Map(decode(topicRecords(second, 'model-counts')) as [string, string][])
    assert.equal(modelCounts.get('claude'), String((before.get('claude') ?? 0) + 1))
    await second.close()
  })

  test('a malformed record goes to the DLQ topic with the error headers; its neighbours are processed', async () => {
    const app = standalone(countsTopology(), { applicationId: 'bad', stateDir: stateDir(), storeEngine: 'memory', commitIntervalMs: 50, forwardingCacheMaxEntries: 0 }, silent)
    await app.start()
    await app.send('requests', [
      { key: 'r1', value: JSON.stringify({ tenant: 'acme', model: 'claude', ts: 1_000 }) },
      { key: 'r2', value: '{"tenant": "acme", "mod', headers: { origin: 'gateway' } },
      { key: 'r3', value: JSON.stringify({ tenant: 'acme', model: 'claude', ts: 2_000 }) },
    ])
    await app.idle(10_000)
    assert.deepEqual(decode(topicRecords(app, 'model-counts')), [['claude', '1'], ['claude', '2']])
    const dead: IncomingRecord[] = []
    const consumption = await app.consume(app.deadLetterTopic, { groupId: 'dlq-reader' }, collect(dead))
    while (dead.length === 0) await new Promise((r) => setTimeout(r, 10))
    await consumption.stop()
    assert.equal(dead.length, 1)
    const [d] = dead
    assert.equal(d!.topic, 'bad-dlq')
    assert.equal(d!.key!.toString(), 'r2')
    assert.equal(d!.value!.toString(), '{"tenant": "acme", "mod')
    assert.equal(d!.headers[DLQ_HEADERS.stage], 'deserialize')
    assert.equal(d!.headers[DLQ_HEADERS.sourceTopic], 'requests')
    assert.equal(d!.headers[DLQ_HEADERS.sourceOffset], '1')
    assert.match(d!.headers[DLQ_HEADERS.errorMessage]!, /invalid JSON/)
    assert.equal(d!.headers.origin, 'gateway')
    await app.close()
  })
})

describe('StandaloneStreams send / consume / IQ', () => {
  test('consume: commits after the handler resolves, retries a throwing handler, resumes per group', async () => {
    const app = standalone(countsTopology(), { applicationId: 'consume', storeEngine: 'memory', commitIntervalMs: 50 }, silent)
    await app.start()
    let calls = 0
    const seen: string[] = []
    const consumption = await app.consume('notes', { groupId: 'flaky' }, async (batch) => {
      calls++
      if (calls <= 2) throw new Error('receiver down')
      seen.push(...batch.map((r) => r.value!.toString()))
    })
    await app.send('notes', [
      { key: null, value: 'a', headers: { h: 'x' } },
      { key: 'k', value: Buffer.from('b') },
    ])
    const deadline = Date.now() + 5_000
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(seen, ['a', 'b'], 'the failed batch is redelivered, nothing skipped')
    assert.equal(calls, 3)
    assert.equal(app.log.committed('flaky', 'notes', 0), 2)
    await consumption.stop()

    await app.send('notes', [{ key: null, value: 'c' }])
    const resumed: IncomingRecord[] = []
    const again = await app.consume('notes', { groupId: 'flaky' }, collect(resumed))
    const latest: IncomingRecord[] = []
    const fromLatest = await app.consume('notes', { groupId: 'late-joiner', from: 'latest' }, collect(latest))
    await app.send('notes', [{ key: null, value: 'd', timestamp: 42 }])
    while (resumed.length < 2 || latest.length < 1) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(resumed.map((r) => r.value!.toString()), ['c', 'd'], 'the group resumes after its committed offset')
    assert.deepEqual(latest.map((r) => [r.value!.toString(), r.timestamp, r.offset]), [['d', 42, '3']])
    await again.stop()
    await fromLatest.stop()
    await app.close()
    await assert.rejects(app.send('notes', [{ key: null, value: 'x' }]), /not-running/)
  })

  test('send is paced by the topology: a send far larger than the log retention loses nothing', async () => {
    const app = standalone(countsTopology(600_000), { applicationId: 'paced', storeEngine: 'memory', commitIntervalMs: 20, logRetention: { maxRecords: 100 }, maxBatchRecords: 30 }, silent)
    await app.start()
    await app.send('requests', requestsFor(2_000).map(([key, value]) => ({ key, value: JSON.stringify(value) })))
    await app.idle(10_000)
    let total = 0
    for await (const [, n] of app.keyValueStore<string, number>('per-model-store').all()) total += n
    assert.equal(total, 2_000)
    assert.equal(app.recordsLost, 0)
    assert.equal(app.log.startOffset('requests', 0), 1_900, 'the log itself kept only its retention')
    for (const { name } of app.plan.internalTopics.filter((t) => t.role === 'repartition')) {
      assert.equal(app.log.startOffset(name, 0), app.log.endOffset(name, 0), `repartition topic ${name} purged up to the commit`)
      assert.ok(app.log.endOffset(name, 0) > 0)
    }
    await app.close()
  })

  test('close() processes what the log holds and lets consumers read the last outputs', async () => {
    const app = standalone(countsTopology(), { applicationId: 'drain', storeEngine: 'memory', commitIntervalMs: 60_000 }, silent)
    await app.start()
    const out: IncomingRecord[] = []
    await app.consume('model-counts', { groupId: 'printer' }, collect(out))
    await app.send('requests', requestsFor(50).map(([key, value]) => ({ key, value: JSON.stringify(value) })))
    await app.close()
    // The forwarding cache holds updates until commit: the final commit at close forwards them.
    const totals = new Map(decode(out) as [string, string][])
    assert.equal([...totals.values()].reduce((a, b) => a + Number(b), 0), 50)
  })

  test('interactive queries: key-value get/all, window fetch, metadata, hosts, errors', async () => {
    const app = standalone(countsTopology(600_000), { applicationId: 'iq', storeEngine: 'memory', commitIntervalMs: 50, applicationServer: 'localhost:8080' }, silent)
    await assert.rejects(async () => app.keyValueStore('per-model-store').get('x'), (e: Error) => e instanceof StoreNotQueryableError && /while the application is 'created'/.test(e.message))
    await app.start()
    await app.send('requests', [
      { key: 'a', value: JSON.stringify({ tenant: 'acme', model: 'claude', ts: 1_000 }) },
      { key: 'b', value: JSON.stringify({ tenant: 'acme', model: 'claude', ts: 61_000 }) },
      { key: 'c', value: JSON.stringify({ tenant: 'globex', model: 'llama', ts: 62_000 }) },
    ])
    await app.idle(10_000)
    const perModel = app.keyValueStore<string, number>('per-model-store')
    assert.equal(await perModel.get('claude'), 2)
    assert.equal(await perModel.get('missing'), undefined)
    const all: [string, number][] = []
    for await (const entry of perModel.all()) all.push(entry)
    assert.deepEqual(all.sort(), [['claude', 2], ['llama', 1]])
    assert.equal(await perModel.approximateCount(), 2)
    const windows: [number, number][] = []
    for await (const entry of app.windowStore<string, number>('per-tenant-minute-store').fetch('acme', 0, 120_000)) windows.push(entry)
    assert.deepEqual(windows, [[0, 1], [60_000, 1]])
    assert.deepEqual(app.queryMetadataForKey('per-model-store', 'claude', Serdes.string()), { active: { host: 'localhost', port: 8080 }, partition: 0, local: true })
    assert.deepEqual(app.allHosts(), [{ host: 'localhost', port: 8080 }])
    assert.throws(() => app.keyValueStore('nope'), /store 'nope' is not in this topology.*'per-model-store' \(key-value\)/)
    assert.throws(() => app.keyValueStore('per-tenant-minute-store'), /is a window store/)
    await app.close()
  })

  test('state changes: created -> rebalancing -> running -> pending-shutdown -> not-running', async () => {
    const app = standalone(countsTopology(), { applicationId: 'states', storeEngine: 'memory' }, silent)
    const states: string[] = []
    app.onStateChange((next) => states.push(next))
    await app.start()
    await app.waitForState('running', 1_000)
    await app.close()
    assert.deepEqual(states, ['rebalancing', 'running', 'pending-shutdown', 'not-running'])
    assert.deepEqual(app.allHosts(), [])
  })

  test('pipeJsonLines feeds a JSONL stream with a key field; idle() then sees it processed', async () => {
    const app = standalone(countsTopology(), { applicationId: 'jsonl', storeEngine: 'memory', commitIntervalMs: 50, forwardingCacheMaxEntries: 0 }, silent)
    await app.start()
    const lines = ['{"tenant":"acme","model":"claude","ts":1000,"id":"r1"}', '', 'not json', '{"tenant":"acme","model":"claude","ts":2000,"id":"r2"}'].join('\n')
    const result = await app.pipeJsonLines(Readable.from([lines]), 'requests', { keyField: 'id' })
    assert.deepEqual(result, { records: 3, malformed: 1 })
    await app.idle(10_000)
    assert.deepEqual(decode(app.log.read('requests', 0, 0)).map((r) => r[0]), ['r1', null, 'r2'])
    assert.equal(await app.keyValueStore<string, number>('per-model-store').get('claude'), 2)
    assert.equal(app.log.endOffset(app.deadLetterTopic, 0), 1)
    await app.close()
  })

  test("under the 'fail' policy a bad record stops the application: error, then not-running", async () => {
    const app = standalone(countsTopology(), { applicationId: 'failing', storeEngine: 'memory' }, { ...silent, errorPolicy: 'fail' })
    await app.start()
    const states: string[] = []
    const stopped = new Promise<void>((resolve) =>
      app.onStateChange((next) => {
        states.push(next)
        if (next === 'not-running') resolve()
      }),
    )
    await app.send('requests', [{ key: 'r1', value: 'not json' }])
    await stopped
    assert.deepEqual(states, ['error', 'pending-shutdown', 'not-running'])
    await assert.rejects(app.send('requests', [{ key: 'r2', value: '{}' }]), /not-running/)
  })

  test('a config error names the field', () => {
    assert.throws(() => new StandaloneStreams(countsTopology(), { applicationId: 'x', applicationServer: 'nohost' }, silent), /invalid config 'applicationServer'/)
    assert.throws(() => new StandaloneStreams(countsTopology(), { applicationId: 'x', partitions: { requests: 0 } }, silent), /invalid config 'partitions.requests'/)
    assert.throws(() => new StandaloneStreams(countsTopology(), { applicationId: 'bad id!' }, silent), /invalid config 'applicationId'/)
    assert.throws(() => new StandaloneStreams(countsTopology(), { applicationId: 'x', maxBlockMs: 0 }, silent), /invalid config 'maxBlockMs'/)
  })
})

describe('StandaloneStreams processing slices', () => {
  /** A topology whose every record takes `busyMs` of CPU (a synchronous processor, as a detector is). */
  function slowTopology(busyMs: number): Topology {
    const b = new StreamsBuilder()
    b.stream('in', { key: Serdes.string(), value: Serdes.string() })
      .mapValues((v) => {
        const until = performance.now() + busyMs
        while (performance.now() < until) {
          // Busy: the thread is held, as by real processing.
        }
        return v
      })
      .to('out', { key: Serdes.string(), value: Serdes.string() })
    return b.build()
  }

  test('a round lets timers and I/O in every maxBlockMs, not only after all of its records', async () => {
    const total = 300
    const app = standalone(slowTopology(1), { applicationId: 'slices', storeEngine: 'memory', maxBatchRecords: 1_000, maxBlockMs: 5, commitIntervalMs: 60_000 }, silent)
    await app.start()
    await app.send('in', Array.from({ length: total }, (_, i) => ({ key: `k${i}`, value: String(i) })))
    // What a timer sees of the output each time it gets a turn while the round runs.
    const seen: number[] = []
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const n = topicRecords(app, 'out').length
        seen.push(n)
        if (n >= total) resolve()
        else setTimeout(tick, 0)
      }
      setTimeout(tick, 0)
    })
    const midway = seen.filter((n) => n > 0 && n < total)
    assert.ok(midway.length >= 2, `timers ran only at ${JSON.stringify(seen)}: the round held the thread for all ${total} records`)
    assert.deepEqual(
      topicRecords(app, 'out').map((r) => r.value!.toString()),
      Array.from({ length: total }, (_, i) => String(i)),
      'every record once, in order, across slices',
    )
    await app.close()
  })
})
