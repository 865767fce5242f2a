import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { AnomalyLikelihood, type AnomalyLikelihoodConfig, type AnomalyLikelihoodState } from '../../../../operators/detectors/anomaly-likelihood.js'
import { normalUpperTail } from '../../../../operators/detectors/normal-tail.js'
import { NORMAL_IQR } from '../../../../operators/detectors/robust-baseline.js'
import { TopologyTestDriver } from '../../../../runtime/test-driver.js'
import { Serdes } from '../../../../schemas/index.js'
import { engines } from '../../../../state/index.js'
import type { KeyValueStore } from '../../../../state/types.js'
import { type Processor, type ProcessorContext, Stores, type StreamRecord, StreamsBuilder, type Topology } from '../../../../topology/index.js'
import { gaussian, mulberry32 } from './prng.js'

/**
 * The likelihood of a latency's short-term mean, per key, through the TopologyTestDriver: a processor
 * keeps the core's state in a logged store and forwards every row's score, so a restart from the
 * store must give the same scores as an uninterrupted run.
 */
const CONFIG: AnomalyLikelihoodConfig = { averageRows: 3, historyRows: 2000, minHistory: 300, alarmTail: 1e-5, scoreScale: 10 }
const states = Stores.keyValue('likelihood-state', Serdes.string(), Serdes.json<AnomalyLikelihoodState>())

class LikelihoodProcessor implements Processor<string, number, string, number> {
  private context!: ProcessorContext<string, number>
  private store!: KeyValueStore<string, AnomalyLikelihoodState>
  private readonly core = new AnomalyLikelihood(CONFIG)

  init(context: ProcessorContext<string, number>): void {
    this.context = context
    this.store = context.getStateStore(states)
  }

  process(record: StreamRecord<string, number>): void {
    const { state, verdict } = this.core.step(this.store.get(record.key) ?? this.core.initial(), record.value)
    this.store.put(record.key, state)
    this.context.forward({ key: record.key, value: verdict.score, timestamp: record.timestamp, headers: {} })
  }
}

function topology(): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream('latency', { key: Serdes.string(), value: Serdes.double() })
    .process(() => new LikelihoodProcessor(), { name: 'likelihood', stores: [states] })
    .to('scores', { key: Serdes.string(), value: Serdes.double() })
  return builder.build()
}

const T0 = Date.UTC(2026, 0, 5)
const ROW_MS = 5 * 60_000

async function scores(
  values: readonly number[],
  state: { engine?: ReturnType<typeof engines.rocksdb>; stateDir?: string } = {},
  firstRow = 0,
): Promise<number[]> {
  const driver = await TopologyTestDriver.create(topology(), { applicationId: 'likelihood-test', ...state })
  try {
    const input = driver.createInputTopic('latency', Serdes.string(), Serdes.double())
    const output = driver.createOutputTopic('scores', Serdes.string(), Serdes.double())
    const out: number[] = []
    for (let i = 0; i < values.length; i += 500) {
      await input.pipeRecords(values.slice(i, i + 500).map((value, j) => ({ key: 'model-a', value, timestamp: T0 + (firstRow + i + j) * ROW_MS })))
      out.push(...output.readValues())
    }
    return out
  } finally {
    await driver.close()
  }
}

const alarms = (s: readonly number[]): number[] => s.flatMap((x, i) => (x >= 0.5 ? [i] : []))

/** Latency around 100 ms with a 2 ms spread, plus `extra(row)`. */
function latency(seed: number, rows: number, extra: (i: number) => number): number[] {
  const g = gaussian(mulberry32(seed))
  return Array.from({ length: rows }, (_, i) => 100 + 2 * g() + extra(i))
}

describe('anomaly likelihood through the TopologyTestDriver', () => {
  test('a spike of 15 spreads alarms on its row and the two whose short mean holds it, nowhere else', async () => {
    const s = await scores(latency(1, 2500, (i) => (i === 1500 ? 30 : 0)))
    assert.deepEqual(
      alarms(s).filter((i) => i < 1500 || i > 1502),
      [],
    )
    assert.equal(alarms(s)[0], 1500)
  })

  test('a level shift of 4 spreads alarms within three rows', async () => {
    const s = await scores(latency(2, 2500, (i) => (i >= 1500 ? 8 : 0)))
    const first = alarms(s)[0]
    assert.ok(first !== undefined && first >= 1500 && first <= 1502, `first alarm ${first}`)
  })

  test('a slow drift of 0.025 spreads per row alarms within 300 rows, not before it starts', async () => {
    const s = await scores(latency(3, 2500, (i) => (i >= 1000 ? 0.05 * (i - 1000) : 0)))
    const first = alarms(s)[0]
    assert.ok(first !== undefined && first >= 1050 && first <= 1300, `first alarm ${first}`)
  })

  test('dense spikes (one row in 25, 15 spreads): the history does not widen with them, every spike alarms', async () => {
    const spikes = new Set(Array.from({ length: 100 }, (_, k) => 500 + 25 * k))
    const s = await scores(latency(4, 3000, (i) => (spikes.has(i) ? 30 : 0)))
    const hit = [...spikes].filter((i) => s[i]! >= 0.5).length
    assert.equal(hit, spikes.size, `${hit} of ${spikes.size} spikes alarmed`)
    const outside = alarms(s).filter((i) => ![0, 1, 2].some((d) => spikes.has(i - d)))
    assert.deepEqual(outside, [])
  })

  test('diurnal traffic (a daily swing of 10 spreads) raises no alarm over two weeks', async () => {
    const day = (24 * 60) / 5
    const s = await scores(latency(5, 14 * day, (i) => 20 * Math.sin((2 * Math.PI * i) / day)))
    assert.deepEqual(alarms(s), [])
  })

  test('restart mid-run: resumed from its state on disk, the same scores as an uninterrupted run', async () => {
    const values = latency(6, 2000, (i) => (i === 1400 ? 30 : i >= 1700 ? 8 : 0))
    const whole = await scores(values)
    assert.ok(alarms(whole).length > 0)
    const stateDir = mkdtempSync(join(tmpdir(), 'likelihood-restart-'))
    try {
      const before = await scores(values.slice(0, 1100), { engine: engines.rocksdb(), stateDir })
      const after = await scores(values.slice(1100), { engine: engines.rocksdb(), stateDir }, 1100)
      assert.deepEqual([...before, ...after], whole)
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
})

describe('anomaly likelihood core', () => {
  test('the normal tail is exact far out', () => {
    assert.ok(Math.abs(normalUpperTail(1.959963984540054) - 0.025) < 1e-15)
    assert.ok(Math.abs(normalUpperTail(8) / 6.220960574271785e-16 - 1) < 1e-12)
  })

  test('scores 0.5 exactly at the alarm tail: a mean z(tail) robust spreads above the history median', () => {
    const d = new AnomalyLikelihood({ averageRows: 1, historyRows: 100, minHistory: 10, alarmTail: 1e-4 })
    let s = d.initial()
    for (let i = 0; i < 100; i++) s = d.step(s, i % 2 === 0 ? 0.4 : 0.6).state
    // History: median 0.5, quartiles 0.4 and 0.6, so spread 0.2 / 1.349; z with tail 1e-4 is 3.719016485455709.
    const std = 0.2 / NORMAL_IQR
    const v = d.step(s, 0.5 + 3.719016485455709 * std).verdict
    assert.ok(Math.abs(v.score - 0.5) < 1e-9, `score ${v.score}`)
    assert.ok(Math.abs(v.tail - 1e-4) < 1e-12)
  })

  test('no verdict before minHistory means; bad configurations are refused', () => {
    const d = new AnomalyLikelihood({ averageRows: 2, historyRows: 50, minHistory: 20, alarmTail: 1e-5 })
    let s = d.initial()
    for (let i = 0; i < 20; i++) {
      const r = d.step(s, i === 10 ? 100 : 0.1)
      assert.equal(r.verdict.ready, false)
      s = r.state
    }
    assert.equal(d.step(s, 0.1).verdict.ready, true)
    assert.throws(() => new AnomalyLikelihood({ averageRows: 0, historyRows: 50, minHistory: 20, alarmTail: 1e-5 }))
    assert.throws(() => new AnomalyLikelihood({ averageRows: 2, historyRows: 50, minHistory: 60, alarmTail: 1e-5 }))
    assert.throws(() => new AnomalyLikelihood({ averageRows: 2, historyRows: 50, minHistory: 20, alarmTail: 0.7 }))
  })
})
