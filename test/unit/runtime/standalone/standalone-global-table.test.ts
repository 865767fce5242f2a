/**
 * Global tables in the standalone runtime: loaded before the tasks start, kept current while they
 * run, queryable, and kept on disk across a restart (the embedded log itself is not).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { StandaloneStreams } from '../../../../runtime/standalone/standalone-streams.js'
import { StoreNotQueryableError } from '../../../../runtime/streams-runtime.js'
import { Serdes } from '../../../../schemas/index.js'
import { StreamsBuilder, type Topology } from '../../../../topology/index.js'

const dir = mkdtempSync(join(tmpdir(), 'standalone-global-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Calls priced by their model: `calls` (key: call id, value: model) left-joined with the global `prices`. */
function pricing(): Topology {
  const b = new StreamsBuilder()
  const prices = b.globalTable('prices', { key: Serdes.string(), value: Serdes.nullable(Serdes.double()), store: 'prices' })
  b.stream('calls', { key: Serdes.string(), value: Serdes.string() })
    .leftJoin(prices, (_id, model) => model, (model, price) => `${model}=${price ?? 'unknown'}`)
    .to('priced', { key: Serdes.string(), value: Serdes.string() })
  return b.build()
}

const config = { applicationId: 'pricing', stateDir: dir, storeEngine: 'rocksdb' as const, commitIntervalMs: 20, partitions: { calls: 3, prices: 2 } }
const silent = { logger: false as const }

async function pricedAfter(app: StandaloneStreams, calls: [string, string][]): Promise<string[]> {
  const before = new Set<string>()
  for (let p = 0; p < 3; p++) for (const r of app.log.read('priced', p, 0, 1e9)) before.add(`${p}@${r.offset}`)
  await app.send('calls', calls.map(([key, value]) => ({ key, value })))
  await app.idle(10_000)
  const out: string[] = []
  for (let p = 0; p < (app.log.partitionCount('priced') ?? 0); p++) {
    for (const r of app.log.read('priced', p, 0, 1e9)) if (!before.has(`${p}@${r.offset}`)) out.push(`${r.key}:${r.value}`)
  }
  return out.sort()
}

test('a global table is loaded before the tasks run, follows its topic, answers queries, and survives a restart on disk', async () => {
  const app = new StandaloneStreams(pricing(), config, silent)
  // Appended before start(): the tasks' first records must already see these rows.
  await app.send('prices', [
    { key: 'gpt-4o', value: Serdes.double().serialize(5) },
    { key: 'claude', value: Serdes.double().serialize(3) },
  ])
  await app.send('calls', [{ key: 'c0', value: 'gpt-4o' }])
  await app.start()
  await app.idle(10_000)
  assert.deepEqual(
    app.log.read('priced', 0, 0, 10).concat(app.log.read('priced', 1, 0, 10), app.log.read('priced', 2, 0, 10)).map((r) => r.value?.toString()),
    ['gpt-4o=5'],
  )
  assert.deepEqual(await pricedAfter(app, [['c1', 'claude'], ['c2', 'llama'], ['c3', 'gpt-4o']]), ['c1:claude=3', 'c2:llama=unknown', 'c3:gpt-4o=5'])
  await app.send('prices', [{ key: 'llama', value: Serdes.double().serialize(1) }, { key: 'claude', value: null }])
  assert.deepEqual(await pricedAfter(app, [['c4', 'claude'], ['c5', 'llama']]), ['c4:claude=unknown', 'c5:llama=1'])

  const view = app.keyValueStore<string, number>('prices')
  assert.equal(await view.get('gpt-4o'), 5)
  const rows: [string, number][] = []
  for await (const row of view.all()) rows.push(row)
  assert.deepEqual(rows, [['gpt-4o', 5], ['llama', 1]])
  assert.deepEqual(app.queryMetadataForKey('prices', 'gpt-4o', Serdes.string()), { active: null, partition: -1, local: true })
  assert.throws(() => app.windowStore('prices'), (e: Error) => e instanceof StoreNotQueryableError && /global table's store \(key-value\)/.test(e.message))
  await app.close()

  // A new process on the same state directory: the log starts empty, the table does not.
  const again = new StandaloneStreams(pricing(), config, silent)
  await again.start()
  assert.deepEqual(await pricedAfter(again, [['c6', 'gpt-4o'], ['c7', 'claude']]), ['c6:gpt-4o=5', 'c7:claude=unknown'])
  await again.close()
})
