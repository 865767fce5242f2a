import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Serdes } from '../../../schemas/index.js'
import { engines, GlobalKeyValueStore } from '../../../state/index.js'

const spec = { name: 'prices', keySerde: Serdes.string(), valueSerde: Serdes.json<{ usd: number }>() }
const row = (key: string, usd: number | null) => ({ key: Buffer.from(key), value: usd === null ? null : Buffer.from(JSON.stringify({ usd })) })

test('a global store answers every key from memory, and reopens from its engine with the same rows', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'global-store-'))
  try {
    const ctx = { applicationId: 'app', taskId: 'global', stateDir, engine: engines.rocksdb() }
    const store = await GlobalKeyValueStore.open(spec, ctx)
    assert.equal(store.localState, 'new')
    await store.restoreBatch([row('gpt-4o', 5), row('claude', 3), row('llama', 1), row('llama', null), row('gpt-4o', 6)])
    assert.deepEqual(store.get('gpt-4o'), { usd: 6 })
    assert.equal(store.get('llama'), undefined, 'deleted')
    assert.equal(store.get('never-seen'), undefined, 'absent, not a cache miss')
    await store.close()

    const reopened = await GlobalKeyValueStore.open(spec, ctx)
    assert.equal(reopened.localState, 'existing')
    const rows: [string, unknown][] = []
    for await (const entry of reopened.all()) rows.push(entry)
    assert.deepEqual(rows, [['claude', { usd: 3 }], ['gpt-4o', { usd: 6 }]], 'in key order')
    const ranged: string[] = []
    for await (const [k] of reopened.range('d', 'z')) ranged.push(k)
    assert.deepEqual(ranged, ['gpt-4o'])
    await reopened.wipe()
    assert.equal(reopened.get('claude'), undefined)
    assert.equal(await reopened.approximateCount(), 0)
    await reopened.close()
  } finally {
    await rm(stateDir, { recursive: true, force: true })
  }
})
