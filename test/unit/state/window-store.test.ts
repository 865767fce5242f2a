import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createRecordCache, openWindowStore, StoreMissError } from '../../../state/index.js'
import type { WindowStoreSpec } from '../../../state/index.js'
import { collect, jsonSerde, spyEngine, stringSerde } from './fixtures.js'
import { describeOnEngines } from './store-suite.js'
import { bytesToMapKey } from '../../../state/bytes.js'
import { parseWindowLoggedKey, windowLoggedKey, windowStartOfLogged, windowStartOfMapKey } from '../../../state/stores/window-store.js'

const RETENTION = 100
const SIZE = 10
const spec = (overrides: Partial<WindowStoreSpec<string, number>> = {}): WindowStoreSpec<string, number> => ({
  name: 'windows',
  keySerde: stringSerde,
  valueSerde: jsonSerde<number>(),
  retentionMs: RETENTION,
  windowSizeMs: SIZE,
  segmentIntervalMs: 25,
  ...overrides,
})

type Op =
  | { type: 'put'; key: string; start: number; value: number }
  | { type: 'get'; key: string; start: number }
  | { type: 'remove'; key: string; start: number }
  | { type: 'range'; key: string; from: number; to: number }
  | { type: 'fetch'; key: string; from: number; to: number }
  | { type: 'fetchAll'; from: number; to: number }
  | { type: 'expire'; streamTime: number }
  | { type: 'flush' }
  | { type: 'maintain' }

const keyArb = fc.constantFrom('a', 'ab', 'b', '')
const timeArb = fc.integer({ min: -30, max: 400 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('put' as const), key: keyArb, start: timeArb, value: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('get' as const), key: keyArb, start: timeArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('remove' as const), key: keyArb, start: timeArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('range' as const), key: keyArb, from: timeArb, to: timeArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('fetch' as const), key: keyArb, from: timeArb, to: timeArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('fetchAll' as const), from: timeArb, to: timeArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('expire' as const), streamTime: fc.integer({ min: 0, max: 500 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('flush' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('maintain' as const) }) },
)

describeOnEngines('WindowStore', 'win', ({ makeEngine, context, checkOps }) => {
  test('puts, point reads, fetch and fetchAll agree with a model with retention; the changelog restores it', async () => {
    await checkOps(opArb, 800, async (ops, ctx, changelog) => {
      const store = await openWindowStore(spec(), ctx)
      const model = new Map<string, { key: string; start: number; value: number }>()
      let expiredBefore = -Infinity
      const live = (): { key: string; start: number; value: number }[] => [...model.values()].filter((w) => w.start >= expiredBefore)
      for (const op of ops) {
        if (op.type === 'put') {
          store.put(op.key, op.value, op.start)
          if (op.start >= expiredBefore) model.set(`${op.key}|${op.start}`, { key: op.key, start: op.start, value: op.value })
        } else if (op.type === 'remove') {
          store.remove(op.key, op.start)
          if (op.start >= expiredBefore) model.delete(`${op.key}|${op.start}`)
        } else if (op.type === 'range') {
          // Loaded ranges accumulate across calls; an eviction (maintain) forgets them.
          await store.prefetchRanges([{ key: op.key, from: op.from, to: op.to }])
          const expected = live()
            .filter((w) => w.key === op.key && w.start >= op.from && w.start <= op.to)
            .sort((a, b) => a.start - b.start)
            .map((w) => [w.start, w.value])
          assert.deepEqual(store.findWindows(op.key, op.from, op.to), expected)
        } else if (op.type === 'get') {
          await store.prefetch([{ key: op.key, windowStart: op.start }])
          const w = model.get(`${op.key}|${op.start}`)
          assert.equal(store.get(op.key, op.start), w && w.start >= expiredBefore ? w.value : undefined)
        } else if (op.type === 'fetch') {
          const expected = live()
            .filter((w) => w.key === op.key && w.start >= op.from && w.start <= op.to)
            .sort((a, b) => a.start - b.start)
            .map((w) => [w.start, w.value])
          assert.deepEqual(await collect(store.fetch(op.key, op.from, op.to)), expected)
        } else if (op.type === 'fetchAll') {
          const expected = live()
            .filter((w) => w.start >= op.from && w.start <= op.to)
            .sort((a, b) => a.start - b.start || Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
            .map((w) => [{ key: w.key, window: { start: w.start, end: w.start + SIZE } }, w.value])
          assert.deepEqual(await collect(store.fetchAll(op.from, op.to)), expected)
        } else if (op.type === 'expire') {
          await store.expire(op.streamTime)
          expiredBefore = Math.max(expiredBefore, op.streamTime - RETENTION)
        } else if (op.type === 'flush') await store.flush()
        else await ctx.cache.maintain()
      }
      await store.close()
      const fresh = await openWindowStore(spec({ logged: false }), context())
      await fresh.restoreBatch(changelog.of('windows'))
      await fresh.expire(expiredBefore + RETENTION)
      const expected = live()
        .sort((a, b) => a.start - b.start || Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
        .map((w) => [{ key: w.key, window: { start: w.start, end: w.start + SIZE } }, w.value])
      assert.deepEqual(await collect(fresh.fetchAll(-1000, 1000)), expected)
      await fresh.close()
    })
  })

  test('expiry drops whole segments with one deleteRange, not key by key', async () => {
    const spy = spyEngine(makeEngine())
    const store = await openWindowStore(spec({ logged: false, segmentIntervalMs: 50 }), context({ engine: spy.engine, changelog: undefined }))
    for (let t = 0; t < 300; t++) store.put(`k${t % 7}`, t, t)
    await store.flush()
    spy.writes.length = 0
    await store.expire(260) // cutoff 160: segments 0..2 (0..149) go, windows 150..159 are hidden
    assert.equal(spy.writes.length, 1)
    assert.deepEqual(
      spy.writes[0]!.map((op) => op.type),
      ['deleteRange'],
    )
    const all = await collect(store.fetchAll(0, 1000))
    assert.equal(all.length, 140)
    assert.equal(all[0]![0].window.start, 160)
    await store.expire(261)
    assert.equal(spy.writes.length, 1, 'no write until another segment expires')
    store.put('late', 1, 100)
    await store.prefetch([{ key: 'late', windowStart: 100 }])
    assert.equal(store.get('late', 100), undefined, 'puts of expired windows are ignored')
    await store.close()
  })

  test('findWindows answers only within ranges loaded since the last eviction', async () => {
    const ctx = context({ cache: createRecordCache(0) })
    const store = await openWindowStore(spec({ name: 'wrange' }), ctx)
    assert.throws(
      () => store.findWindows('a', 0, 10),
      (err: unknown) => err instanceof StoreMissError && /wrange/.test(err.message),
    )
    store.put('a', 1, 5)
    store.put('a', 2, 30)
    await store.prefetchRanges([{ key: 'a', from: 0, to: 20 }])
    assert.deepEqual(store.findWindows('a', 0, 20), [[5, 1]])
    assert.throws(() => store.findWindows('a', 0, 40), StoreMissError)
    await store.prefetchRanges([{ key: 'a', from: 21, to: 40 }])
    assert.deepEqual(
      store.findWindows('a', 0, 40),
      [
        [5, 1],
        [30, 2],
      ],
      'a touching range extends the loaded one',
    )
    await ctx.cache.maintain() // budget 0: flushes, then evicts every clean entry
    assert.throws(() => store.findWindows('a', 0, 40), StoreMissError)
    await store.prefetchRanges([{ key: 'a', from: 0, to: 40 }])
    assert.deepEqual(
      store.findWindows('a', 0, 40),
      [
        [5, 1],
        [30, 2],
      ],
      'reloaded from the engine',
    )
    await store.close()
  })

  test('a point prefetch reads the engine only for windows the store may hold: written since it opened, or in segments it held then', async () => {
    const spy = spyEngine(makeEngine())
    const ctx = context({ engine: spy.engine, changelog: undefined, cache: createRecordCache(0) })
    let store = await openWindowStore(spec({ name: 'wfilter', logged: false }), ctx)
    store.put('a', 1, 10)
    store.put('b', 2, 20)
    await ctx.cache.maintain() // budget 0: flushes, then evicts every clean entry
    spy.reads = 0
    await store.prefetch([
      { key: 'c', windowStart: 10 },
      { key: 'd', windowStart: 30 },
    ])
    assert.equal(spy.reads, 0, 'never written: known absent')
    assert.equal(store.get('c', 10), undefined)
    assert.equal(store.get('d', 30), undefined)
    await store.prefetch([
      { key: 'a', windowStart: 10 },
      { key: 'c', windowStart: 10 },
    ])
    assert.equal(spy.reads, 1, 'written: read from the engine')
    assert.equal(store.get('a', 10), 1)
    await store.close()
    // Reopened: what the engine held then (segment 0, starts 0..24) is read; a later segment is not.
    const reopened = { ...ctx, cache: createRecordCache(0) }
    store = await openWindowStore(spec({ name: 'wfilter', logged: false }), reopened)
    spy.reads = 0
    await store.prefetch([{ key: 'b', windowStart: 20 }])
    assert.equal(spy.reads, 1)
    assert.equal(store.get('b', 20), 2)
    await store.prefetch([{ key: 'e', windowStart: 60 }])
    assert.equal(spy.reads, 1, 'a segment above the highest at open: known absent')
    store.put('e', 5, 60)
    await reopened.cache.maintain()
    await store.prefetch([{ key: 'e', windowStart: 60 }])
    assert.equal(spy.reads, 2)
    assert.equal(store.get('e', 60), 5)
    await store.close()
  })

  test('a window neither prefetched nor written throws StoreMissError naming the store', async () => {
    const store = await openWindowStore(spec({ name: 'wmiss' }), context())
    assert.throws(
      () => store.get('a', 10),
      (err: unknown) => err instanceof StoreMissError && /wmiss/.test(err.message),
    )
    await store.close()
  })

  test('invalid retention is refused naming the field', async () => {
    await assert.rejects(openWindowStore(spec({ retentionMs: 0 }), context()), /retentionMs/)
    await assert.rejects(openWindowStore(spec({ windowSizeMs: -1 }), context()), /windowSizeMs/)
  })
})

test('a window start is read back from a logged key and from its map key (latin1), negative starts included', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (key, start) => {
      const logged = windowLoggedKey(Buffer.from(key), start)
      assert.equal(parseWindowLoggedKey(logged).windowStart, start)
      assert.equal(windowStartOfLogged(logged), start)
      assert.equal(windowStartOfMapKey(bytesToMapKey(logged)), start)
    }),
  )
})
