import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { type SlidingSumOptions, slidingBuckets, slidingSum } from '../../../../operators/dsl/sliding-sum.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import type { AnomalyEvent } from '../../../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import { StreamsBuilder, type Topology } from '../../../../topology/index.js'

interface Req {
  app: string
}

const T0 = Date.UTC(2026, 0, 1)
const MIN = 60_000
const serde = Serdes.json<Req>()
const options: SlidingSumOptions<Req> = { id: 'burst', metric: () => 1, metricName: 'requests', windowMs: 2 * MIN, bucketMs: 10_000, minimum: 20, coldStart: 30, threshold: 2.5, minLogStd: 0.4, minHistory: 10, cohort: (r) => r.app, entityType: 'user' }

function topology(): Topology {
  const builder = new StreamsBuilder()
  slidingSum(builder.stream('requests', { key: Serdes.string(), value: serde }), options).to('anomalies', { key: Serdes.string(), value: Serdes.json<AnomalyEvent>() })
  return builder.build()
}

type Row = { key: string; at: number }

async function run(rows: readonly Row[], state: { engine?: ReturnType<typeof engines.rocksdb>; stateDir?: string } = {}): Promise<AnomalyEvent[]> {
  const driver = await TopologyTestDriver.create(topology(), { applicationId: 'burst-test', ...state })
  const input = driver.createInputTopic('requests', Serdes.string(), serde)
  const output = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.json<AnomalyEvent>())
  for (let i = 0; i < rows.length; i += 200) await input.pipeRecords(rows.slice(i, i + 200).map((r) => ({ key: r.key, value: { app: 'chat' }, timestamp: r.at })))
  const out = output.readValues()
  await driver.close()
  return out
}

/** A steady user calling every `everyS` seconds for `minutes`, from `fromMin`. */
function steady(key: string, everyS: number, minutes: number, fromMin = 0): Row[] {
  return Array.from({ length: Math.floor((minutes * 60) / everyS) }, (_, i) => ({ key, at: T0 + fromMin * MIN + i * everyS * 1000 }))
}

function burst(key: string, count: number, atMin: number, overS: number): Row[] {
  return Array.from({ length: count }, (_, i) => ({ key, at: T0 + atMin * MIN + Math.round((i * overS * 1000) / count) }))
}

const byTime = (rows: Row[]): Row[] => rows.sort((a, b) => a.at - b.at)

describe('slidingSum', () => {
  test('a heavy steady user (15 requests every 2 min) is normal for itself: no anomaly in 3 h', async () => {
    assert.deepEqual(await run(steady('heavy', 8, 180)), [])
  })

  test('40 requests in 2 minutes inside that user\'s steady traffic: one anomaly, about when the burst completes', async () => {
    const out = await run(byTime([...steady('heavy', 8, 120), ...burst('heavy', 40, 90, 120)]))
    assert.equal(out.length, 1)
    const at = Date.parse(out[0]!.timestamp)
    assert.ok(at >= T0 + 90 * MIN && at <= T0 + 92 * MIN, out[0]!.timestamp)
    assert.equal(out[0]!.affected_entity?.id, 'heavy')
    assert.match(out[0]!.description ?? '', /its own typical/)
  })

  test('a newcomer bursting is judged against its cohort (the other users of its application)', async () => {
    const rows = byTime([...steady('a', 30, 120), ...steady('b', 40, 120), ...burst('new', 30, 100, 90)])
    const out = await run(rows)
    assert.deepEqual(out.map((a) => a.affected_entity?.id), ['new'])
    assert.match(out[0]!.description ?? '', /typical of chat's keys/)
  })

  test('restart: resumed from its state on disk, the same anomalies as an uninterrupted run', async () => {
    const rows = byTime([...steady('heavy', 8, 120), ...burst('heavy', 40, 90, 120)])
    const whole = await run(rows)
    const stateDir = mkdtempSync(join(tmpdir(), 'burst-restart-'))
    try {
      const cut = rows.findIndex((r) => r.at >= T0 + 91 * MIN)
      const before = await run(rows.slice(0, cut), { engine: engines.rocksdb(), stateDir })
      const after = await run(rows.slice(cut), { engine: engines.rocksdb(), stateDir })
      assert.deepEqual([...before, ...after], whole)
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('buckets: the last n, ending with the record\'s own', () => {
    assert.deepEqual(slidingBuckets(25, 10, 3).map((w) => w.start), [0, 10, 20])
  })
})
