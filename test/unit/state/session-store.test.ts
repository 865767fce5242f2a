import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createRecordCache, openSessionStore, StoreMissError } from '../../../state/index.js'
import type { SessionStore, SessionStoreSpec, StorageEngine } from '../../../state/index.js'
import { jsonSerde, spyEngine, stringSerde } from './fixtures.js'
import { describeOnEngines } from './store-suite.js'

const RETENTION = 100
const spec = (overrides: Partial<SessionStoreSpec<string, number>> = {}): SessionStoreSpec<string, number> => ({
  name: 'sessions',
  keySerde: stringSerde,
  valueSerde: jsonSerde<number>(),
  retentionMs: RETENTION,
  segmentIntervalMs: 30,
  ...overrides,
})

type Op =
  | { type: 'put'; key: string; start: number; length: number; value: number }
  | { type: 'remove'; key: string; start: number; length: number }
  | { type: 'find'; key: string; earliestEnd: number; latestStart: number; bounded: boolean }
  | { type: 'expire'; streamTime: number }
  | { type: 'flush' }
  | { type: 'maintain' }

const keyArb = fc.constantFrom('a', 'ab', 'b')
const timeArb = fc.integer({ min: 0, max: 300 })
const lengthArb = fc.integer({ min: 0, max: 40 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('put' as const), key: keyArb, start: timeArb, length: lengthArb, value: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('remove' as const), key: keyArb, start: timeArb, length: lengthArb }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('find' as const), key: keyArb, earliestEnd: timeArb, latestStart: timeArb, bounded: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('expire' as const), streamTime: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('flush' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('maintain' as const) }) },
)

interface ModelSession {
  key: string
  start: number
  end: number
  value: number
}

function expectedFind(model: Map<string, ModelSession>, expiredBefore: number, key: string, earliestEnd: number, latestStart: number): unknown[] {
  return [...model.values()]
    .filter((s) => s.key === key && s.end >= earliestEnd && s.start <= latestStart && s.end >= expiredBefore)
    .sort((a, b) => a.start - b.start || a.end - b.end)
    .map((s) => [{ key: s.key, start: s.start, end: s.end }, s.value])
}

/** Session merging as a session-window aggregate does it: find overlapping sessions, replace them. */
async function addEvent(store: SessionStore<string, number>, key: string, ts: number, gap: number): Promise<void> {
  await store.prefetch([key])
  const overlapping = store.findSessions(key, ts - gap, ts + gap)
  let start = ts
  let end = ts
  let count = 1
  for (const [session, value] of overlapping) {
    start = Math.min(start, session.start)
    end = Math.max(end, session.end)
    count += value
    store.remove(session)
  }
  store.put({ key, start, end }, count)
}

/** The engine, counting prefix scans (iterators without a limit) by the segment they read. */
function scanCounting(inner: StorageEngine): { engine: StorageEngine; scans: number[] } {
  const scans: number[] = []
  const engine: StorageEngine = {
    ...inner,
    open: async (path: string) => {
      const store = await inner.open(path)
      return {
        path: store.path,
        getMany: store.getMany.bind(store),
        write: store.write.bind(store),
        approximateCount: store.approximateCount.bind(store),
        close: store.close.bind(store),
        iterate: (range: { gte?: Buffer; lt?: Buffer; limit?: number }) => {
          if (range.limit === undefined && range.gte && range.gte.length > 8) scans.push(range.gte.readUInt32BE(4))
          return store.iterate(range)
        },
      }
    },
  }
  return { engine, scans }
}

describeOnEngines('SessionStore', 'ses', ({ makeEngine, context, checkOps }) => {
  test('findSessions overlap queries agree with a model through flushes, evictions and expiry; the changelog restores it', async () => {
    await checkOps(opArb, 800, async (ops, ctx, changelog) => {
      const store = await openSessionStore(spec(), ctx)
      const model = new Map<string, ModelSession>()
      let expiredBefore = -Infinity
      for (const op of ops) {
        if (op.type === 'put') {
          const end = op.start + op.length
          store.put({ key: op.key, start: op.start, end }, op.value)
          if (end >= expiredBefore) model.set(`${op.key}|${op.start}|${end}`, { key: op.key, start: op.start, end, value: op.value })
        } else if (op.type === 'remove') {
          store.remove({ key: op.key, start: op.start, end: op.start + op.length })
          model.delete(`${op.key}|${op.start}|${op.start + op.length}`)
        } else if (op.type === 'find') {
          // Bounded prefetches load only the newest segments; the next unbounded one completes the key.
          await (op.bounded ? store.prefetch([op.key], op.earliestEnd) : store.prefetch([op.key]))
          assert.deepEqual(
            store.findSessions(op.key, op.earliestEnd, op.latestStart),
            expectedFind(model, expiredBefore, op.key, op.earliestEnd, op.latestStart),
          )
        } else if (op.type === 'expire') {
          await store.expire(op.streamTime)
          expiredBefore = Math.max(expiredBefore, op.streamTime - RETENTION)
        } else if (op.type === 'flush') await store.flush()
        else await ctx.cache.maintain()
      }
      await store.close()
      const fresh = await openSessionStore(spec({ logged: false }), context({ changelog: undefined }))
      await fresh.restoreBatch(changelog.of('sessions'))
      await fresh.expire(expiredBefore + RETENTION)
      await fresh.prefetch(['a', 'ab', 'b'])
      for (const key of ['a', 'ab', 'b']) assert.deepEqual(fresh.findSessions(key, -1000, 1000), expectedFind(model, expiredBefore, key, -1000, 1000))
      await fresh.close()
    })
  })

  test('session merging: events within the gap merge into one session, across flushes and reopen', async () => {
    const engine = makeEngine()
    const ctx = context({ engine, taskId: 'merge' })
    let store = await openSessionStore(spec({ retentionMs: 10_000 }), ctx)
    for (const ts of [10, 12, 30, 14]) await addEvent(store, 'u', ts, 5)
    assert.deepEqual(store.findSessions('u', 0, 100), [
      [{ key: 'u', start: 10, end: 14 }, 3],
      [{ key: 'u', start: 30, end: 30 }, 1],
    ])
    await store.close()
    store = await openSessionStore(spec({ retentionMs: 10_000 }), { ...ctx, cache: createRecordCache(1 << 20) })
    await addEvent(store, 'u', 22, 8) // bridges [10,14] and [30,30]
    assert.deepEqual(store.findSessions('u', 0, 100), [[{ key: 'u', start: 10, end: 30 }, 5]])
    await store.flush()
    await store.close()
  })

  test('expiry drops whole segments with one deleteRange', async () => {
    const spy = spyEngine(makeEngine())
    const store = await openSessionStore(spec({ logged: false }), context({ engine: spy.engine, changelog: undefined }))
    for (let t = 0; t < 200; t += 2) store.put({ key: `k${t % 5}`, start: t, end: t + 1 }, t)
    await store.flush()
    spy.writes.length = 0
    await store.expire(250)
    assert.deepEqual(
      spy.writes.map((ops) => ops.map((op) => op.type)),
      [['deleteRange']],
    )
    await store.prefetch(['k0'])
    assert.ok(store.findSessions('k0', 0, 1000).every(([s]) => s.end >= 150))
    await store.close()
  })

  test('findSessions of a key not prefetched throws StoreMissError', async () => {
    const store = await openSessionStore(spec({ name: 'smiss' }), context())
    store.put({ key: 'x', start: 1, end: 2 }, 1)
    assert.throws(
      () => store.findSessions('x', 0, 10),
      (err: unknown) => err instanceof StoreMissError && /smiss/.test(err.message),
    )
    await store.prefetch(['x'])
    assert.deepEqual(store.findSessions('x', 0, 10), [[{ key: 'x', start: 1, end: 2 }, 1]])
    await store.close()
  })

  test('a prefetch with an earliest end reads only the segments from there; earlier sessions then miss', async () => {
    const { engine: counting, scans: segmentsRead } = scanCounting(makeEngine())
    const ctx = context({ engine: counting, changelog: undefined })
    let store = await openSessionStore(spec({ logged: false, retentionMs: 10_000, segmentIntervalMs: 10 }), ctx)
    for (let t = 0; t < 100; t += 10) store.put({ key: 'k', start: t, end: t + 5 }, t)
    await store.close()
    store = await openSessionStore(spec({ logged: false, retentionMs: 10_000, segmentIntervalMs: 10 }), { ...ctx, cache: createRecordCache(1 << 20) })
    segmentsRead.length = 0
    await store.prefetch(['k'], 80)
    assert.equal(segmentsRead.length, 2, 'only the segments of ends 80..99')
    assert.deepEqual(store.findSessions('k', 80, 1000), [
      [{ key: 'k', start: 80, end: 85 }, 80],
      [{ key: 'k', start: 90, end: 95 }, 90],
    ])
    assert.throws(
      () => store.findSessions('k', 70, 1000),
      (err: unknown) => err instanceof StoreMissError && /ending before 80/.test(err.message),
    )
    store.put({ key: 'k', start: 100, end: 105 }, 100)
    segmentsRead.length = 0
    await store.prefetch(['k'], 90)
    assert.equal(segmentsRead.length, 0, 'complete from 80 already')
    await store.prefetch(['k'])
    assert.equal(store.findSessions('k', 0, 1000).length, 11)
    await store.close()
  })

  test('a key complete from the expiry cutoff is not read again for an earlier earliest end (a late record in the batch)', async () => {
    const { engine: counting, scans } = scanCounting(makeEngine())
    const ctx = context({ engine: counting, changelog: undefined })
    let store = await openSessionStore(spec({ logged: false, retentionMs: 50, segmentIntervalMs: 10 }), ctx)
    for (let t = 0; t < 100; t += 10) store.put({ key: 'k', start: t, end: t + 5 }, t)
    await store.close()
    store = await openSessionStore(spec({ logged: false, retentionMs: 50, segmentIntervalMs: 10 }), { ...ctx, cache: createRecordCache(1 << 20) })
    await store.expire(100) // cutoff 50
    await store.prefetch(['k'], 60)
    assert.throws(() => store.findSessions('k', 50, 1000), StoreMissError, 'complete from 60 only')
    await store.expire(120) // cutoff 70: the entry, complete from 60, holds every session not hidden
    scans.length = 0
    await store.prefetch(['k'], 20)
    await store.prefetch(['k'])
    assert.equal(scans.length, 0, 'sessions ending before the cutoff are hidden: complete from the cutoff is complete')
    assert.deepEqual(
      store.findSessions('k', 0, 1000).map(([s]) => s.end),
      [75, 85, 95],
    )
    await store.close()
  })

  test('a prefetch scans only the segments the store wrote the key to since it opened, or held when it opened', async () => {
    const { engine, scans } = scanCounting(makeEngine())
    const ctx = context({ engine, changelog: undefined, cache: createRecordCache(0) })
    const options = spec({ name: 'sfilter', logged: false, retentionMs: 10_000, segmentIntervalMs: 10 })
    let store = await openSessionStore(options, ctx)
    store.put({ key: 'a', start: 0, end: 5 }, 1)
    store.put({ key: 'a', start: 20, end: 25 }, 2)
    await ctx.cache.maintain() // budget 0: flushes, then evicts every clean entry
    await store.prefetch(['new-1', 'new-2'])
    assert.deepEqual(scans, [], 'never written: known to have no sessions, no scan')
    assert.deepEqual(store.findSessions('new-1', 0, 100), [])
    await store.prefetch(['a'])
    assert.deepEqual(scans, [0, 2], 'the two segments it was written to, not the one between')
    assert.deepEqual(
      store.findSessions('a', 0, 100).map(([s, v]) => [s.end, v]),
      [
        [5, 1],
        [25, 2],
      ],
    )
    await store.close()
    // Reopened: every segment up to the highest at open (2) may hold any key; later ones are tracked.
    const reopened = { ...ctx, cache: createRecordCache(0) }
    store = await openSessionStore(options, reopened)
    scans.length = 0
    await store.prefetch(['b'])
    assert.deepEqual(scans, [0, 1, 2])
    store.put({ key: 'b', start: 30, end: 35 }, 3)
    await reopened.cache.maintain()
    scans.length = 0
    await store.prefetch(['c'])
    assert.deepEqual(scans, [0, 1, 2], 'segment 3 holds only b')
    scans.length = 0
    await store.prefetch(['b'])
    assert.deepEqual(scans, [0, 1, 2, 3])
    assert.deepEqual(
      store.findSessions('b', 0, 100).map(([s]) => s.end),
      [35],
    )
    await store.close()
  })
})
