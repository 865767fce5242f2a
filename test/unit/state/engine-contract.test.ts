import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { engines } from '../../../state/index.js'
import type { StorageEngine, WriteOp } from '../../../state/index.js'

/** The model: a map from hex key to value, sorted on demand by raw bytes. */
type Model = Map<string, Buffer>

function applyToModel(model: Model, ops: readonly WriteOp[]): void {
  for (const op of ops) {
    if (op.type === 'put') model.set(op.key.toString('hex'), op.value)
    else if (op.type === 'del') model.delete(op.key.toString('hex'))
    else {
      for (const k of [...model.keys()]) {
        const key = Buffer.from(k, 'hex')
        if (Buffer.compare(key, op.gte) >= 0 && Buffer.compare(key, op.lt) < 0) model.delete(k)
      }
    }
  }
}

const keyArb = fc.uint8Array({ minLength: 1, maxLength: 3 }).map((a) => Buffer.from(a.map((b) => [0, 1, 0x7f, 0x80, 0xfe, 0xff][b % 6]!)))
const valueArb = fc.uint8Array({ minLength: 0, maxLength: 4 }).map((a) => Buffer.from(a))
const opArb: fc.Arbitrary<WriteOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('put' as const), key: keyArb, value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('del' as const), key: keyArb }) },
  {
    weight: 1,
    arbitrary: fc.tuple(keyArb, keyArb).map(([a, b]): WriteOp => {
      const [gte, lt] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a]
      return { type: 'deleteRange', gte, lt }
    }),
  },
)
const boundArb = fc.oneof({ weight: 5, arbitrary: keyArb }, { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) })
const rangeArb = fc.record(
  { gte: boundArb, lt: boundArb, reverse: fc.boolean(), limit: fc.integer({ min: 0, max: 8 }) },
  { requiredKeys: [] },
)

const cases: [string, () => StorageEngine][] = [
  ['memory', engines.memory],
  ['rocksdb', () => engines.rocksdb()],
  ['leveldb', engines.leveldb],
]

for (const [name, makeEngine] of cases) {
  describe(`StorageEngine contract: ${name}`, () => {
    let dir = ''
    let run = 0
    const engine = makeEngine()
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `engine-${name}-`))
    })
    after(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    test('batches of put/del/deleteRange then scans and point reads agree with a sorted map', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(opArb, { maxLength: 12 }), { maxLength: 4 }), fc.array(rangeArb, { maxLength: 4 }), async (batches, ranges) => {
          const store = await engine.open(join(dir, `run-${run++}`))
          try {
            const model: Model = new Map()
            for (const batch of batches) {
              await store.write(batch)
              applyToModel(model, batch)
            }
            const sorted = [...model.entries()].map(([k, v]) => [Buffer.from(k, 'hex'), v] as [Buffer, Buffer]).sort((a, b) => Buffer.compare(a[0], b[0]))
            for (const range of ranges) {
              let expected = sorted.filter(([k]) => (!range.gte || Buffer.compare(k, range.gte) >= 0) && (!range.lt || Buffer.compare(k, range.lt) < 0))
              if (range.reverse) expected = expected.reverse()
              if (range.limit !== undefined) expected = expected.slice(0, range.limit)
              const actual: [Buffer, Buffer][] = []
              for await (const entry of store.iterate(range)) actual.push(entry)
              assert.deepEqual(actual.map(([k, v]) => [k.toString('hex'), v.toString('hex')]), expected.map(([k, v]) => [k.toString('hex'), v.toString('hex')]), JSON.stringify(range))
            }
            const probe = [...sorted.map(([k]) => k), Buffer.from([0x42]), Buffer.from([0, 0, 0])]
            const values = await store.getMany(probe)
            assert.deepEqual(values.map((v) => v?.toString('hex')), probe.map((k) => model.get(k.toString('hex'))?.toString('hex')))
          } finally {
            await store.close()
          }
        }),
        { numRuns: Number(process.env.STATE_PROPERTY_RUNS ?? (name === 'memory' ? 200 : 40)) },
      )
    })

    test('a scan survives writes made while it is running and sees no key twice', async () => {
      const store = await engine.open(join(dir, 'concurrent'))
      const ops: WriteOp[] = []
      for (let i = 0; i < 3000; i++) ops.push({ type: 'put', key: Buffer.from(`k${String(i).padStart(5, '0')}`), value: Buffer.from([1]) })
      await store.write(ops)
      const seen = new Set<string>()
      let n = 0
      for await (const [k] of store.iterate()) {
        assert.ok(!seen.has(k.toString()), `key ${k.toString()} seen twice`)
        seen.add(k.toString())
        if (n++ % 500 === 0) await store.write([{ type: 'put', key: Buffer.from(`a${n}`), value: Buffer.from([2]) }, { type: 'del', key: Buffer.from(`k${String(n + 1000).padStart(5, '0')}`) }])
      }
      assert.ok(seen.size >= 2990, `saw ${seen.size}`)
      await store.close()
    })

    test('data survives close and reopen; destroy removes it', async () => {
      const path = join(dir, 'reopen')
      let store = await engine.open(path)
      await store.write([{ type: 'put', key: Buffer.from('a'), value: Buffer.from('1') }])
      assert.equal(await store.approximateCount(), 1)
      await store.close()
      store = await engine.open(path)
      assert.deepEqual(await store.getMany([Buffer.from('a')]), [Buffer.from('1')])
      await store.close()
      await engine.destroy(path)
      store = await engine.open(path)
      assert.deepEqual(await store.getMany([Buffer.from('a')]), [undefined])
      await store.close()
    })
  })
}
