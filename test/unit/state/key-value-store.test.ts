import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createRecordCache, openKeyValueStore, StoreMissError } from '../../../state/index.js'
import { RecordingChangelog, collect, jsonSerde, spyEngine, stringSerde } from './fixtures.js'
import { describeOnEngines } from './store-suite.js'

type Op =
  | { type: 'put'; key: string; value: number }
  | { type: 'delete'; key: string }
  | { type: 'get'; key: string }
  | { type: 'flush' }
  | { type: 'maintain' }
  | { type: 'range'; from?: string; to?: string }

const keyArb = fc.constantFrom('a', 'b', 'ab', 'b0', 'c', 'zz', 'é', '')
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: keyArb, value: fc.integer() }),
  fc.record({ type: fc.constant('delete' as const), key: keyArb }),
  fc.record({ type: fc.constant('get' as const), key: keyArb }),
  fc.record({ type: fc.constant('flush' as const) }),
  fc.record({ type: fc.constant('maintain' as const) }),
  fc.record({ type: fc.constant('range' as const), from: keyArb, to: keyArb }, { requiredKeys: ['type'] }),
)

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

describeOnEngines('KeyValueStore', 'kv', ({ makeEngine, context, checkOps }) => {
  test('behaves like a map through puts, deletes, flushes, evictions and range scans; its changelog restores it', async () => {
    await checkOps(opArb, 600, async (ops, ctx, changelog) => {
      const store = await openKeyValueStore({ name: 'counts', keySerde: stringSerde, valueSerde: jsonSerde<number>() }, ctx)
      const model = new Map<string, number>()
      for (const op of ops) {
        if (op.type === 'put') {
          store.put(op.key, op.value)
          model.set(op.key, op.value)
        } else if (op.type === 'delete') {
          store.delete(op.key)
          model.delete(op.key)
        } else if (op.type === 'get') {
          await store.prefetch([op.key])
          assert.equal(store.get(op.key), model.get(op.key))
        } else if (op.type === 'flush') await store.flush()
        else if (op.type === 'maintain') await ctx.cache.maintain()
        else {
          const expected = [...model.entries()]
            .filter(([k]) => (op.from === undefined || byBytes(k, op.from) >= 0) && (op.to === undefined || byBytes(k, op.to) < 0))
            .sort((a, b) => byBytes(a[0], b[0]))
          assert.deepEqual(await collect(store.range(op.from, op.to)), expected)
        }
      }
      await store.close()

      // Replaying the changelog into a fresh store yields the same contents.
      const fresh = await openKeyValueStore({ name: 'counts', keySerde: stringSerde, valueSerde: jsonSerde<number>(), logged: false }, context())
      await fresh.restoreBatch(changelog.of('counts'))
      assert.deepEqual(await collect(fresh.all()), [...model.entries()].sort((a, b) => byBytes(a[0], b[0])))
      await fresh.close()
    })
  })

  test('a read of a key neither prefetched nor written throws StoreMissError; absent prefetched keys read as undefined', async () => {
    const store = await openKeyValueStore({ name: 'misses', keySerde: stringSerde, valueSerde: stringSerde }, context())
    assert.throws(() => store.get('nope'), (err: unknown) => err instanceof StoreMissError && /misses/.test(err.message) && /prefetch/.test(err.message))
    await store.prefetch(['nope'])
    assert.equal(store.get('nope'), undefined)
    store.put('x', 'y')
    assert.equal(store.get('x'), 'y')
    await store.close()
  })

  test('flush writes one batch per store, only of dirty entries, and hands them to the changelog first', async () => {
    const spy = spyEngine(makeEngine())
    const changelog = new RecordingChangelog()
    const store = await openKeyValueStore({ name: 'batched', keySerde: stringSerde, valueSerde: stringSerde }, context({ engine: spy.engine, changelog }))
    for (let i = 0; i < 100; i++) store.put(`k${i}`, `v${i}`)
    store.delete('k5')
    assert.equal(spy.writes.length, 0, 'no engine write before flush')
    await store.flush()
    assert.equal(spy.writes.length, 1)
    assert.equal(spy.writes[0]!.length, 100)
    assert.equal(changelog.of('batched').length, 100)
    assert.deepEqual(changelog.of('batched').find((r) => r.key.toString() === 'k5')?.value, null)
    assert.equal(changelog.flushes, 1)
    await store.flush()
    assert.equal(spy.writes.length, 1, 'nothing dirty, nothing written')
    // RocksDB's estimate counts every delete, even of a key it never had.
    const count = await store.approximateCount()
    assert.ok(Math.abs(count - 99) <= 1, `approximate count ${count}`)
    await store.close()
  })

  test('over budget, maintain() flushes and evicts clean entries; evicted keys are re-read from the engine', async () => {
    const ctx = context({ cache: createRecordCache(2000) })
    const store = await openKeyValueStore({ name: 'evicting', keySerde: stringSerde, valueSerde: stringSerde }, ctx)
    for (let i = 0; i < 100; i++) store.put(`k${i}`, 'v'.repeat(20))
    assert.ok(ctx.cache.overBudget)
    assert.equal(await ctx.cache.maintain(), true)
    assert.ok(ctx.cache.sizeBytes <= 2000, `cache holds ${ctx.cache.sizeBytes} bytes`)
    assert.throws(() => store.get('k0'), StoreMissError)
    await store.prefetch(['k0', 'k99'])
    assert.equal(store.get('k0'), 'v'.repeat(20))
    await store.close()
  })

  test('a logged store without a changelog sink is refused at open, naming the fix', async () => {
    await assert.rejects(
      openKeyValueStore({ name: 'unlogged', keySerde: stringSerde, valueSerde: stringSerde }, context({ changelog: undefined })),
      /logged: false/,
    )
  })

  test('reopening finds existing local state', async () => {
    const engine = makeEngine()
    const ctx = context({ engine, taskId: 'reopen' })
    const first = await openKeyValueStore({ name: 'kept', keySerde: stringSerde, valueSerde: stringSerde }, ctx)
    assert.equal(first.localState, 'new')
    first.put('a', '1')
    await first.close()
    const second = await openKeyValueStore({ name: 'kept', keySerde: stringSerde, valueSerde: stringSerde }, { ...ctx, cache: createRecordCache(1000) })
    assert.equal(second.localState, 'existing')
    await second.prefetch(['a'])
    assert.equal(second.get('a'), '1')
    await second.close()
  })

  test('discardUnflushed before close: the unflushed writes reach neither the changelog nor the engine; flushed ones stay', async () => {
    const changelog = new RecordingChangelog()
    const ctx = context({ changelog, taskId: 'lost' })
    const store = await openKeyValueStore({ name: 'totals', keySerde: stringSerde, valueSerde: jsonSerde<number>() }, ctx)
    store.put('flushed', 1)
    await store.flush()
    store.put('flushed', 2)
    store.put('unflushed', 3)
    store.discardUnflushed()
    await store.close()
    assert.deepEqual(
      changelog.of('totals').map((r) => [r.key.toString(), r.value?.toString()]),
      [['flushed', '1']],
    )
    const again = await openKeyValueStore({ name: 'totals', keySerde: stringSerde, valueSerde: jsonSerde<number>() }, { ...ctx, changelog: new RecordingChangelog(), cache: createRecordCache(1 << 20) })
    await again.prefetch(['flushed', 'unflushed'])
    assert.equal(again.get('flushed'), 1)
    assert.equal(again.get('unflushed'), undefined)
    await again.close()
  })

  test('a close whose flush fails still closes the engine store: the store opens again in this process (chaos F11)', async () => {
    const failing = new RecordingChangelog()
    failing.append = () => {
      throw new Error('collector gone')
    }
    const ctx = context({ changelog: failing })
    const store = await openKeyValueStore({ name: 'totals', keySerde: stringSerde, valueSerde: jsonSerde<number>() }, ctx)
    store.put('k', 1)
    await assert.rejects(store.close(), /collector gone/)
    // RocksDB and LevelDB refuse a second open of a directory this process still holds.
    const again = await openKeyValueStore({ name: 'totals', keySerde: stringSerde, valueSerde: jsonSerde<number>() }, { ...ctx, changelog: new RecordingChangelog(), cache: createRecordCache(1 << 20) })
    await again.close()
  })
})
