import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { correlatedFill, correlationBuckets } from '../../../../operators/dsl/correlated-fill.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { StreamsBuilder, type Topology } from '../../../../topology/index.js'

interface Part {
  kind: 'request' | 'response'
  model?: string
}

const T0 = Date.UTC(2026, 0, 1)
const serde = Serdes.json<Part>()
const RETENTION = 60_000

function topology(): Topology {
  const builder = new StreamsBuilder()
  correlatedFill(builder.stream('parts', { key: Serdes.string(), value: serde }), {
    name: 'fill',
    remember: (p) => (p.kind === 'request' ? (p.model ?? null) : null),
    lacks: (p) => p.model === undefined,
    complete: (p, model) => ({ ...p, model }),
    retentionMs: RETENTION,
    rememberedSerde: Serdes.string(),
  }).to('filled', { key: Serdes.string(), value: serde })
  return builder.build()
}

type Row = readonly [key: string, part: Part, at: number]

async function run(rows: readonly Row[], state: { engine?: ReturnType<typeof engines.rocksdb>; stateDir?: string } = {}) {
  const driver = await TopologyTestDriver.create(topology(), { applicationId: 'fill-test', ...state })
  const input = driver.createInputTopic('parts', Serdes.string(), serde)
  const output = driver.createOutputTopic('filled', Serdes.string(), serde)
  await input.pipeRecords(rows.map(([key, value, at]) => ({ key, value, timestamp: T0 + at })))
  const out = output.readKeyValues()
  await driver.close()
  return out
}

describe('correlatedFill', () => {
  test('a response gets its request\'s model; others pass unchanged, in order', async () => {
    const out = await run([
      ['r1', { kind: 'request', model: 'm1' }, 0],
      ['r2', { kind: 'request', model: 'm2' }, 100],
      ['r2', { kind: 'response' }, 900],
      ['r1', { kind: 'response' }, 1000],
      ['r3', { kind: 'response' }, 1100],
      ['r1', { kind: 'response', model: 'own' }, 1200],
    ])
    assert.deepEqual(out, [
      ['r1', { kind: 'request', model: 'm1' }],
      ['r2', { kind: 'request', model: 'm2' }],
      ['r2', { kind: 'response', model: 'm2' }],
      ['r1', { kind: 'response', model: 'm1' }],
      ['r3', { kind: 'response' }],
      ['r1', { kind: 'response', model: 'own' }],
    ])
  })

  test('the request is found across a bucket edge, and forgotten after twice the retention', async () => {
    const edge = RETENTION - 10
    const out = await run([
      ['a', { kind: 'request', model: 'm' }, edge],
      ['a', { kind: 'response' }, edge + 20],
      ['b', { kind: 'request', model: 'm' }, 0],
      ['b', { kind: 'response' }, 2 * RETENTION + 1],
    ])
    assert.deepEqual(out.map(([, p]) => p.model), ['m', 'm', 'm', undefined])
  })

  test('restart: with the state on disk, a response after the restart still finds its request', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'fill-restart-'))
    try {
      const before = await run([['a', { kind: 'request', model: 'm' }, 0]], { engine: engines.rocksdb(), stateDir })
      const after = await run([['a', { kind: 'response' }, 5_000]], { engine: engines.rocksdb(), stateDir })
      assert.deepEqual([...before, ...after].map(([, p]) => p.model), ['m', 'm'])
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('buckets: the record\'s own and the one before', () => {
    assert.deepEqual(correlationBuckets(125, 50), [{ start: 50, end: 100 }, { start: 100, end: 150 }])
  })
})
