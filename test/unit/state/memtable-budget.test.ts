import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemtableBudget, type MemtableHolder } from '../../../state/engines/memtable-budget.js'
import { engines, type EngineStore } from '../../../state/index.js'

const MiB = 1024 * 1024

/** A store whose memtable is a number; a flush empties it (or fails, when told to). */
class FakeStore implements MemtableHolder {
  flushes = 0
  constructor(
    readonly path: string,
    public bytes: number,
    private readonly failFlush = false,
  ) {}
  async memtableBytes(): Promise<number> {
    return this.bytes
  }
  async flushMemtable(): Promise<void> {
    if (this.failFlush) throw new Error('disk full')
    this.flushes++
    this.bytes = 0
  }
}

const budgetOf = (budgetBytes: number, minFlushBytes = MiB): MemtableBudget => new MemtableBudget(budgetBytes, minFlushBytes, 60_000)

describe('MemtableBudget', () => {
  test('under the budget nothing is flushed', async () => {
    const budget = budgetOf(10 * MiB)
    const stores = [new FakeStore('a', 4 * MiB), new FakeStore('b', 5 * MiB)]
    for (const s of stores) budget.add(s)
    await budget.check()
    assert.deepEqual(
      stores.map((s) => s.flushes),
      [0, 0],
    )
    assert.equal(budget.stats.lastTotalBytes, 9 * MiB)
    for (const s of stores) budget.remove(s)
  })

  test('over the budget the largest memtables are flushed first, only until the sum is back under it', async () => {
    const budget = budgetOf(10 * MiB)
    const stores = [new FakeStore('small', 2 * MiB), new FakeStore('largest', 6 * MiB), new FakeStore('middle', 4 * MiB), new FakeStore('mid2', 3 * MiB)]
    for (const s of stores) budget.add(s)
    await budget.check() // 15 MiB: flushing the largest (6) leaves 9, under 10
    assert.deepEqual(
      stores.map((s) => s.flushes),
      [0, 1, 0, 0],
    )
    assert.equal(budget.stats.flushes, 1)
    assert.equal(budget.stats.flushedBytes, 6 * MiB)
    for (const s of stores) budget.remove(s)
  })

  test('memtables under minFlushBytes are never flushed, even over the budget', async () => {
    const budget = budgetOf(2 * MiB, MiB)
    const stores = Array.from({ length: 8 }, (_, i) => new FakeStore(`s${i}`, MiB / 2))
    stores.push(new FakeStore('big', 3 * MiB))
    for (const s of stores) budget.add(s)
    await budget.check() // 7 MiB: only the 3 MiB one is worth a table file
    assert.deepEqual(
      stores.map((s) => s.flushes),
      [0, 0, 0, 0, 0, 0, 0, 0, 1],
    )
    for (const s of stores) budget.remove(s)
  })

  test('a removed (closing) store is not flushed; a failed flush is skipped and the next one tried', async () => {
    const budget = budgetOf(MiB)
    const closing = new FakeStore('closing', 9 * MiB)
    const failing = new FakeStore('failing', 8 * MiB, true)
    const ok = new FakeStore('ok', 7 * MiB)
    for (const s of [closing, failing, ok]) budget.add(s)
    budget.remove(closing)
    await budget.check()
    assert.equal(closing.flushes, 0)
    assert.equal(failing.flushes, 0)
    assert.equal(ok.flushes, 1)
    budget.remove(failing)
    budget.remove(ok)
  })

  test('a budget of 0 holds no stores and flushes nothing', async () => {
    const budget = budgetOf(0)
    const store = new FakeStore('a', 100 * MiB)
    budget.add(store)
    await budget.check()
    assert.equal(store.flushes, 0)
    assert.equal(budget.stats.lastTotalBytes, 0)
  })
})

describe('RocksDB engine with a memtable budget', () => {
  type WithMemtable = EngineStore & { memtableBytes(): Promise<number> }
  const sstFiles = async (dir: string): Promise<number> => (await readdir(dir)).filter((f) => f.endsWith('.sst')).length

  test('stores over the budget are flushed to table files by the engine within a check interval; their data stays readable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'memtable-budget-'))
    // 256 KiB write buffers: a memtable is worth a flush from 64 KiB; the budget of 1 MiB is exceeded below.
    const engine = engines.rocksdb({ writeBufferSize: 256 * 1024, memtableBudgetBytes: MiB })
    const stores = (await Promise.all([0, 1, 2, 3, 4, 5].map((i) => engine.open(join(dir, `s${i}`))))) as WithMemtable[]
    try {
      const value = Buffer.alloc(100, 7)
      // ~200 KiB per store (under its own 256 KiB buffer, so RocksDB alone would not flush), 1.2 MiB of data plus arena blocks.
      for (const [i, store] of stores.entries()) {
        await store.write(Array.from({ length: 1500 }, (_, k) => ({ type: 'put' as const, key: Buffer.from(`s${i}-k${k}`), value })))
      }
      const before = await Promise.all(stores.map((s) => s.memtableBytes()))
      assert.ok(before.reduce((a, b) => a + b, 0) > MiB, `memtables ${before.join(', ')} should exceed the 1 MiB budget`)
      assert.equal(
        (await Promise.all(stores.map((_, i) => sstFiles(join(dir, `s${i}`))))).reduce((a, b) => a + b, 0),
        0,
      )
      const deadline = Date.now() + 12_000
      let tables = 0
      while (Date.now() < deadline) {
        tables = (await Promise.all(stores.map((_, i) => sstFiles(join(dir, `s${i}`))))).reduce((a, b) => a + b, 0)
        if (tables > 0) break
        await new Promise((r) => setTimeout(r, 250))
      }
      assert.ok(tables > 0, 'no store was flushed to a table file within 12 s (check interval 5 s)')
      const after = await Promise.all(stores.map((s) => s.memtableBytes()))
      assert.ok(after.reduce((a, b) => a + b, 0) < before.reduce((a, b) => a + b, 0), `memtables ${after.join(', ')} did not shrink from ${before.join(', ')}`)
      for (const [i, store] of stores.entries()) {
        const [v] = await store.getMany([Buffer.from(`s${i}-k1499`)])
        assert.deepEqual(v, value)
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()))
      await rm(dir, { recursive: true, force: true })
    }
  })
})
