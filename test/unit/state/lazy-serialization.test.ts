import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Serde } from '../../../schemas/serde.js'
import { createRecordCache, engines, openKeyValueStore, openSessionStore, openWindowStore } from '../../../state/index.js'
import type { EngineStore, StorageEngine, StoreOpenContext } from '../../../state/index.js'
import { ENTRY_OVERHEAD } from '../../../state/record-cache.js'
import { RecordingChangelog, collect, jsonSerde, stringSerde } from './fixtures.js'

/** A JSON serde that counts its serializations. */
function countingSerde<T>(): Serde<T> & { serialized: number } {
  const inner = jsonSerde<T>()
  const serde = {
    name: 'counting-json',
    serialized: 0,
    serialize: (v: T): Buffer => {
      serde.serialized++
      return inner.serialize(v)
    },
    deserialize: (b: Buffer): T => inner.deserialize(b),
  }
  return serde
}

let run = 0
const context = (overrides: Partial<StoreOpenContext> = {}): StoreOpenContext => ({
  applicationId: 'app',
  taskId: `0_${run++}`,
  stateDir: '/unused',
  engine: engines.memory(),
  cache: createRecordCache(1 << 20),
  changelog: new RecordingChangelog(),
  ...overrides,
})

/** The memory engine, whose stores' writes fail while `failing` is set. */
function flakyEngine(): { engine: StorageEngine; failing: boolean } {
  const inner = engines.memory()
  const flaky = { engine: undefined as unknown as StorageEngine, failing: false }
  flaky.engine = {
    kind: inner.kind,
    destroy: (path) => inner.destroy(path),
    async open(path): Promise<EngineStore> {
      const store = await inner.open(path)
      return {
        path: store.path,
        getMany: (keys) => store.getMany(keys),
        write: (ops) => (flaky.failing ? Promise.reject(new Error('disk full')) : store.write(ops)),
        iterate: (range) => store.iterate(range),
        approximateCount: () => store.approximateCount(),
        close: () => store.close(),
      }
    },
  }
  return flaky
}

describe('values are serialized once per flush, not per put', () => {
  test('key-value store: many puts of a key serialize its last value once, at flush', async () => {
    const valueSerde = countingSerde<{ n: number }>()
    const changelog = new RecordingChangelog()
    const store = await openKeyValueStore({ name: 'kv', keySerde: stringSerde, valueSerde }, context({ changelog }))
    for (let n = 0; n < 100; n++) store.put(n % 2 === 0 ? 'a' : 'b', { n })
    assert.equal(valueSerde.serialized, 0)
    assert.deepEqual(store.get('a'), { n: 98 })
    await store.flush()
    assert.equal(valueSerde.serialized, 2)
    assert.deepEqual(
      changelog.of('kv').map((r) => [r.key.toString(), r.value?.toString()]),
      [
        ['a', '{"n":98}'],
        ['b', '{"n":99}'],
      ],
    )
    await store.flush()
    assert.equal(valueSerde.serialized, 2, 'a clean entry is not serialized again')
    assert.deepEqual(await collect(store.all()), [
      ['a', { n: 98 }],
      ['b', { n: 99 }],
    ])
  })

  test('window store: an aggregate updated per record is serialized once per flush', async () => {
    const valueSerde = countingSerde<number>()
    const changelog = new RecordingChangelog()
    const spec = { name: 'w', keySerde: stringSerde, valueSerde, retentionMs: 1000, windowSizeMs: 10 }
    const store = await openWindowStore(spec, context({ changelog }))
    await store.prefetch([{ key: 'k', windowStart: 0 }])
    for (let i = 0; i < 50; i++) store.put('k', (store.get('k', 0) ?? 0) + 1, 0)
    assert.equal(valueSerde.serialized, 0)
    assert.deepEqual(await collect(store.fetch('k', 0, 0)), [[0, 50]])
    await store.flush()
    assert.equal(changelog.of('w').length, 1)
    assert.equal(changelog.of('w')[0]!.value?.toString(), '50')
  })

  test('session store: a session put many times is serialized once, at flush', async () => {
    const valueSerde = countingSerde<number>()
    const changelog = new RecordingChangelog()
    const store = await openSessionStore({ name: 's', keySerde: stringSerde, valueSerde, retentionMs: 1000 }, context({ changelog }))
    await store.prefetch(['k'])
    for (let i = 1; i <= 20; i++) store.put({ key: 'k', start: 0, end: 5 }, i)
    assert.equal(valueSerde.serialized, 0)
    assert.deepEqual(store.findSessions('k', 0, 10), [[{ key: 'k', start: 0, end: 5 }, 20]])
    await store.flush()
    assert.equal(valueSerde.serialized, 1)
    assert.deepEqual(
      changelog.of('s').map((r) => r.value?.toString()),
      ['20'],
    )
  })

  test('the cache counts the real serialized size once flushed, and estimates from it before', async () => {
    const cache = createRecordCache(1 << 20)
    const store = await openKeyValueStore({ name: 'kv', keySerde: stringSerde, valueSerde: jsonSerde<string>() }, context({ cache }))
    const big = 'x'.repeat(1000)
    store.put('a', big)
    await store.flush()
    const exact = 1 + JSON.stringify(big).length + ENTRY_OVERHEAD
    assert.equal(cache.sizeBytes, exact)
    store.put('b', big)
    assert.equal(cache.sizeBytes, 2 * exact, 'a new key is estimated at the size last serialized')
    store.put('a', 'y')
    assert.equal(cache.sizeBytes, 2 * exact, 'an overwrite keeps the size of its previous bytes until flushed')
    await store.flush()
    assert.equal(cache.sizeBytes, exact + 1 + JSON.stringify('y').length + ENTRY_OVERHEAD)
    store.delete('b')
    assert.equal(cache.sizeBytes, 1 + 1 + JSON.stringify('y').length + 2 * ENTRY_OVERHEAD)
  })

  test('a failed engine write leaves the values dirty; the next flush writes them', async () => {
    const flaky = flakyEngine()
    const ctx = context({ engine: flaky.engine })
    const store = await openKeyValueStore({ name: 'kv', keySerde: stringSerde, valueSerde: jsonSerde<number>() }, ctx)
    store.put('a', 1)
    store.put('b', 2)
    flaky.failing = true
    await assert.rejects(store.flush(), /disk full/)
    store.put('b', 3)
    flaky.failing = false
    await store.flush()
    await store.close()
    const reopened = await openKeyValueStore({ name: 'kv', keySerde: stringSerde, valueSerde: jsonSerde<number>() }, { ...ctx, cache: createRecordCache(1 << 20) })
    await reopened.prefetch(['a', 'b'])
    assert.equal(reopened.get('a'), 1)
    assert.equal(reopened.get('b'), 3)
  })
})

describe('a value its serde rejects fails the flush, naming store and key, with nothing half-written', () => {
  /** Rejects negative numbers, as a schema-checked serde rejects a value of the wrong shape. */
  const pickySerde: Serde<number> = {
    name: 'picky',
    serialize: (v) => {
      if (v < 0) throw new Error(`negative: ${v}`)
      return Buffer.from(String(v))
    },
    deserialize: (b) => Number(b.toString()),
  }

  test('key-value store', async () => {
    const changelog = new RecordingChangelog()
    const store = await openKeyValueStore({ name: 'picky-kv', keySerde: stringSerde, valueSerde: pickySerde }, context({ changelog }))
    store.put('a', 1)
    store.put('b', -1)
    await assert.rejects(store.flush(), /store "picky-kv": the picky value serde cannot serialize the value put under changelog key 0x62: negative: -1/)
    assert.equal(changelog.of('picky-kv').length, 0)
    store.put('b', 2)
    await store.flush()
    assert.deepEqual(
      changelog.of('picky-kv').map((r) => [r.key.toString(), r.value?.toString()]),
      [
        ['a', '1'],
        ['b', '2'],
      ],
    )
  })

  test('session store', async () => {
    const changelog = new RecordingChangelog()
    const store = await openSessionStore({ name: 'picky-s', keySerde: stringSerde, valueSerde: pickySerde, retentionMs: 1000 }, context({ changelog }))
    store.put({ key: 'k', start: 0, end: 1 }, 1)
    store.put({ key: 'k', start: 5, end: 6 }, -1)
    await assert.rejects(store.flush(), /store "picky-s": the picky value serde cannot serialize/)
    assert.equal(changelog.of('picky-s').length, 0)
    store.remove({ key: 'k', start: 5, end: 6 })
    await store.flush()
    assert.deepEqual(
      changelog.of('picky-s').map((r) => r.value?.toString() ?? null),
      ['1', null],
    )
  })
})

describe('key conversion is remembered only for primitive keys', () => {
  test('an object key mutated between calls is converted again', async () => {
    const store = await openKeyValueStore({ name: 'kv', keySerde: jsonSerde<{ id: string }>(), valueSerde: jsonSerde<number>() }, context())
    const key = { id: 'a' }
    store.put(key, 1)
    key.id = 'b'
    store.put(key, 2)
    assert.equal(store.get({ id: 'a' }), 1)
    assert.equal(store.get({ id: 'b' }), 2)
  })

  test('a window store tells windows of one key apart (hopping windows)', async () => {
    const spec = { name: 'w', keySerde: stringSerde, valueSerde: jsonSerde<number>(), retentionMs: 1000, windowSizeMs: 10 }
    const store = await openWindowStore(spec, context())
    for (let i = 0; i < 30; i++) for (const start of [0, 5]) store.put('k', start + i, start)
    assert.equal(store.get('k', 0), 29)
    assert.equal(store.get('k', 5), 34)
  })
})

describe('a flushed value is held typed, not twice', () => {
  test('window store: after a flush reads, a rewrite and the next flush agree; a clean entry is not serialized again', async () => {
    const valueSerde = countingSerde<{ n: number }>()
    const changelog = new RecordingChangelog()
    const cache = createRecordCache(1 << 20)
    const spec = { name: 'w', keySerde: stringSerde, valueSerde, retentionMs: 1000, windowSizeMs: 10 }
    const store = await openWindowStore(spec, context({ changelog, cache }))
    await store.prefetch([
      { key: 'k', windowStart: 0 },
      { key: 'k', windowStart: 10 },
    ])
    store.put('k', { n: 1 }, 0)
    store.put('k', { n: 2 }, 10)
    await store.flush()
    const size = cache.sizeBytes
    assert.deepEqual(store.get('k', 0), { n: 1 })
    await store.flush()
    assert.equal(valueSerde.serialized, 2, 'clean entries are not serialized again')
    store.put('k', { n: 3 }, 0)
    assert.equal(cache.sizeBytes, size, 'a rewrite is sized as the bytes last flushed')
    await store.flush()
    assert.deepEqual(
      changelog.of('w').map((r) => r.value?.toString()),
      ['{"n":1}', '{"n":2}', '{"n":3}'],
    )
    assert.deepEqual(await collect(store.fetch('k', 0, 10)), [
      [0, { n: 3 }],
      [10, { n: 2 }],
    ])
    assert.deepEqual(store.get('k', 10), { n: 2 })
  })
})
