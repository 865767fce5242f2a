/**
 * The stores' key memos (`KeyMemo`) keep thousands of small key Buffers between batches. A kept view
 * into Node's shared 8 KiB allocation pool pins the whole pool block: in the soak's heap snapshots
 * the memos of one instance held 90 MiB of pool blocks for ~3 MiB of keys. These tests put keys the
 * way a running instance does, with other small allocations in between (each key then lands in a
 * pool block of its own), and measure the ArrayBuffer memory still held after a full collection.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createRecordCache, openKeyValueStore, openWindowStore, engines } from '../../../state/index.js'
import type { StoreOpenContext } from '../../../state/index.js'
import { RecordingChangelog, jsonSerde, stringSerde, tempDir } from './fixtures.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const KEYS = 4000
/** Two pool-sized allocations per key, so each key's bytes share their pool block with nothing kept. */
const churn = (): number => Buffer.allocUnsafe(4000).length + Buffer.allocUnsafe(4000).length

/** ArrayBuffer memory after full collections (V8 frees backing stores on a concurrent sweeper: settle twice). */
async function settledArrayBuffers(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return process.memoryUsage().arrayBuffers
}

async function arrayBufferGrowth(putAll: () => Promise<unknown>): Promise<number> {
  const before = await settledArrayBuffers()
  const kept = await putAll()
  const grown = (await settledArrayBuffers()) - before
  assert.ok(kept !== undefined)
  return grown
}

const context = (dir: string, taskId: string): StoreOpenContext => ({
  applicationId: 'app',
  taskId,
  stateDir: dir,
  engine: engines.memory(),
  // Large enough that nothing is flushed to the engine: what is measured is the store's own keeping.
  cache: createRecordCache(256 << 20),
  changelog: new RecordingChangelog(),
})

test('a window store keeps its memoised keys without pinning pool blocks', async () => {
  const dir = await tempDir('memo-win-')
  try {
    const spec = { name: 'dedup', keySerde: stringSerde, valueSerde: jsonSerde<number>(), retentionMs: 1_000_000, windowSizeMs: 1_000_000 }
    const store = await openWindowStore(spec, context(dir.path, '0_0'))
    const grown = await arrayBufferGrowth(async () => {
      for (let i = 0; i < KEYS; i++) {
        churn()
        store.put(`event-${i}-${'x'.repeat(24)}`, i, 0)
      }
      return store
    })
    // Pinned blocks would be ~KEYS x 8 KiB (31 MiB); the keys themselves are ~200 KiB.
    assert.ok(grown < 4 << 20, `ArrayBuffer memory grew ${(grown / 2 ** 20).toFixed(1)} MiB for ${KEYS} keys`)
    await store.close()
  } finally {
    await dir.remove()
  }
})

test('a key-value store keeps its memoised keys without pinning pool blocks', async () => {
  const dir = await tempDir('memo-kv-')
  try {
    const store = await openKeyValueStore({ name: 'totals', keySerde: stringSerde, valueSerde: jsonSerde<number>() }, context(dir.path, '0_1'))
    const grown = await arrayBufferGrowth(async () => {
      for (let i = 0; i < KEYS; i++) {
        churn()
        store.put(`user-${i}-${'x'.repeat(24)}`, i)
      }
      return store
    })
    assert.ok(grown < 4 << 20, `ArrayBuffer memory grew ${(grown / 2 ** 20).toFixed(1)} MiB for ${KEYS} keys`)
    await store.close()
  } finally {
    await dir.remove()
  }
})
