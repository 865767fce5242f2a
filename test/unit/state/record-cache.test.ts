import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CacheBudget, createRecordCache, engines, openKeyValueStore, type RecordCache } from '../../../state/index.js'
import { retainedCopy } from '../../../state/retained-bytes.js'
import { jsonSerde, stringSerde } from './fixtures.js'

const openCounts = (cache: RecordCache, taskId: string) =>
  openKeyValueStore(
    { name: 'counts', keySerde: stringSerde, valueSerde: jsonSerde<string>(), logged: false },
    { applicationId: 'app', taskId, stateDir: '/nonexistent', engine: engines.memory(), cache },
  )

async function fill(cache: RecordCache, taskId: string, entries: number): Promise<Awaited<ReturnType<typeof openCounts>>> {
  const store = await openCounts(cache, taskId)
  for (let i = 0; i < entries; i++) store.put(`key-${i}`, 'v'.repeat(100))
  await store.flush()
  return store
}

test('the budget is the instance’s: tasks together stay within it, not each', async () => {
  const budget = new CacheBudget(200_000)
  const caches = Array.from({ length: 4 }, () => createRecordCache(budget))
  // Each task alone (about 100 KB) is under the budget; together they are twice over it.
  const stores = await Promise.all(caches.map((cache, i) => fill(cache, `0_${i}`, 140)))
  assert.ok(budget.sizeBytes > 2 * budget.maxBytes, `filled ${budget.sizeBytes}`)
  for (const cache of caches) await cache.maintain()
  assert.ok(budget.sizeBytes <= budget.maxBytes, `after maintain: ${budget.sizeBytes} of ${budget.maxBytes}`)
  // Each gave back down to its share, the last one only until the instance was under budget.
  for (const cache of caches) assert.ok(cache.sizeBytes <= budget.share * 1.05, `each task near its share: ${cache.sizeBytes} of ${budget.share}`)
  await Promise.all(stores.map((s) => s.close()))
  assert.equal(budget.sizeBytes, 0, 'closed stores give their bytes back')
})

test('a task may exceed its share while the instance is under budget', async () => {
  const budget = new CacheBudget(200_000)
  const busy = createRecordCache(budget)
  const idle = createRecordCache(budget)
  const busyStore = await fill(busy, '0_0', 150)
  const idleStore = await fill(idle, '0_1', 1)
  assert.ok(busy.sizeBytes > budget.share && budget.sizeBytes < budget.maxBytes)
  const before = busy.stats()
  assert.equal(await busy.maintain(), false, 'nothing to give back')
  assert.deepEqual(busy.stats(), before, 'no entry evicted')
  await busyStore.close()
  await idleStore.close()
})

test('over budget, a task under its fair share keeps its entries; the big one gives back', async () => {
  const budget = new CacheBudget(200_000)
  const big = createRecordCache(budget)
  const small = createRecordCache(budget)
  const tiny = createRecordCache(budget)
  const bigStore = await fill(big, '0_0', 300)
  const smallStore = await fill(small, '0_1', 100)
  const tinyStore = await fill(tiny, '0_2', 5)
  // small (~75 KB) is over the even share (~67 KB) but under what tiny leaves to the two others.
  assert.ok(small.sizeBytes > budget.share && small.sizeBytes < (budget.maxBytes - tiny.sizeBytes) / 2, `small ${small.sizeBytes}`)
  assert.ok(budget.overBudget)
  assert.equal(await small.maintain(), false, 'under its fair share: nothing to give back')
  assert.equal(small.stats().evictions, 0)
  assert.equal(await big.maintain(), true)
  assert.ok(big.stats().evictions > 0)
  assert.ok(budget.sizeBytes <= budget.maxBytes, `after maintain: ${budget.sizeBytes} of ${budget.maxBytes}`)
  assert.equal(budget.fairShare(), budget.maxBytes, 'under budget: no member is limited')
  await Promise.all([bigStore.close(), smallStore.close(), tinyStore.close()])
})

test('the share follows the caches with a store open', async () => {
  const budget = new CacheBudget(90_000)
  const a = createRecordCache(budget)
  const b = createRecordCache(budget)
  const storeA = await openCounts(a, '0_0')
  assert.equal(budget.share, 90_000)
  const storeB = await openCounts(b, '0_1')
  assert.equal(budget.share, 45_000)
  await storeB.close()
  assert.equal(budget.share, 90_000, 'a closed task no longer takes a share')
  await storeA.close()
})

test('kept bytes own their allocation instead of pinning a pooled block', () => {
  const pooled = Buffer.from('small key')
  assert.ok(pooled.buffer.byteLength > pooled.length, 'Buffer.from of a short string is a view into the shared pool')
  const kept = retainedCopy(pooled)
  assert.equal(kept.buffer.byteLength, kept.length)
  assert.deepEqual(kept, pooled)
  assert.equal(retainedCopy(kept), kept, 'a buffer that owns its allocation is kept as is')
})
