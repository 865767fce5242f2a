import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { RuntimeMetrics } from '../../../runtime/kafka/runtime-metrics.js'
import type { MemtableBudgetStats, StorageEngine } from '../../../state/index.js'

const engineWith = (stats: MemtableBudgetStats): StorageEngine => ({
  kind: 'rocksdb',
  memtableBudget: stats,
  open: () => Promise.reject(new Error('not opened in this test')),
  destroy: () => Promise.resolve(),
})

async function value(registry: Registry, name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  assert.ok(metric, `${name} is not registered`)
  return (metric.values[0]?.value as number | undefined) ?? 0
}

describe('RocksDB memtable budget metrics', () => {
  test("the instance's memtable bytes and the budget's flushes are read from its engine at each scrape; a new engine's count carries on", async () => {
    const registry = new Registry()
    const metrics = new RuntimeMetrics(registry)
    assert.equal(await value(registry, 'sentinel_streams_rocksdb_memtable_bytes'), 0)

    const stats: MemtableBudgetStats = { checks: 4, flushes: 3, flushedBytes: 9 << 20, lastTotalBytes: 130 << 20 }
    metrics.watchEngine(engineWith(stats))
    assert.equal(await value(registry, 'sentinel_streams_rocksdb_memtable_bytes'), 130 << 20)
    assert.equal(await value(registry, 'sentinel_streams_rocksdb_memtable_budget_flushes_total'), 3)
    stats.flushes = 5
    stats.lastTotalBytes = 100 << 20
    assert.equal(await value(registry, 'sentinel_streams_rocksdb_memtable_bytes'), 100 << 20)
    assert.equal(await value(registry, 'sentinel_streams_rocksdb_memtable_budget_flushes_total'), 5)

    // A restart brings a new engine counting from 0: the counter never goes back.
    const next: MemtableBudgetStats = { checks: 1, flushes: 1, flushedBytes: 1 << 20, lastTotalBytes: 10 << 20 }
    metrics.watchEngine(engineWith(next))
    assert.equal(await value(registry, 'sentinel_streams_rocksdb_memtable_budget_flushes_total'), 5)
    next.flushes = 3
    assert.equal(await value(registry, 'sentinel_streams_rocksdb_memtable_budget_flushes_total'), 7)
  })
})
