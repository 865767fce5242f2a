/**
 * The TopologyTestDriver feed: each series (one key) streams, in batches of rows, through a topology
 * whose processor keeps the scorer's state (createNabScorerCore) in a logged key-value store keyed
 * by the series, and forwards one score per row. Same cores and arithmetic as DirectCoreFeed, so
 * the scores must be identical (test/unit/bench/nab/driver-feed.test.ts); what it adds is the path every
 * record takes in production: serdes, the task, the store's cache and changelog.
 */
import type { KeyValueStore } from '../../state/types.js'
import { TopologyTestDriver } from '../../runtime/test-driver.js'
import { Serdes } from '../../schemas/index.js'
import { type Processor, type ProcessorContext, Stores, type StreamRecord, StreamsBuilder, type Topology } from '../../topology/index.js'
import type { NabSeries } from './corpus.js'
import { type NabDetectorConfig, type NabScorerCore, type NabScorerState, type SeriesInfo, createNabScorerCore } from './detector.js'
import type { RowFeed } from './row-feed.js'
import { nabScorerStateSerde } from './scorer-state-serde.js'

export const ROWS_TOPIC = 'nab-rows'
export const SCORES_TOPIC = 'nab-scores'
const scorerStates = Stores.keyValue('nab-scorer-state', Serdes.string(), nabScorerStateSerde)

class NabScoreProcessor implements Processor<string, number, string, number> {
  private context!: ProcessorContext<string, number>
  private states!: KeyValueStore<string, NabScorerState>

  constructor(private readonly core: NabScorerCore) {}

  init(context: ProcessorContext<string, number>): void {
    this.context = context
    this.states = context.getStateStore(scorerStates)
  }

  process(record: StreamRecord<string, number>): void {
    const { state, score } = this.core.step(this.states.get(record.key) ?? this.core.initial(), record.value, record.timestamp)
    this.states.put(record.key, state)
    this.context.forward({ key: record.key, value: score, timestamp: record.timestamp, headers: {} })
  }
}

/** Rows (key = series path, value = the row's value, timestamp = its time) in; one score per row out. */
export function nabScoringTopology(config: NabDetectorConfig, info: SeriesInfo): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream(ROWS_TOPIC, { key: Serdes.string(), value: Serdes.double() })
    .process(() => new NabScoreProcessor(createNabScorerCore(config, info)), { name: 'nab-scorer', stores: [scorerStates] })
    .to(SCORES_TOPIC, { key: Serdes.string(), value: Serdes.double() })
  return builder.build()
}

export class DriverFeed implements RowFeed {
  readonly name = 'TopologyTestDriver: a processor over a logged key-value store (createNabScorerCore), one key per series'

  constructor(
    private readonly config: NabDetectorConfig,
    /** Rows per input batch (one prefetch and one store flush per batch, as one consumer poll). */
    private readonly batchRows = 1000,
  ) {}

  async scoreSeries(series: NabSeries, info: SeriesInfo): Promise<Float64Array> {
    const driver = await TopologyTestDriver.create(nabScoringTopology(this.config, info), { applicationId: 'nab-eval' })
    try {
      const rows = driver.createInputTopic(ROWS_TOPIC, Serdes.string(), Serdes.double())
      const scores = driver.createOutputTopic(SCORES_TOPIC, Serdes.string(), Serdes.double())
      const out = new Float64Array(series.values.length)
      let at = 0
      for (let from = 0; from < series.values.length; from += this.batchRows) {
        const batch = series.values.slice(from, from + this.batchRows).map((value, i) => ({ key: series.path, value, timestamp: series.times[from + i] ?? 0 }))
        await rows.pipeRecords(batch)
        for (const score of scores.readValues()) out[at++] = score
      }
      if (at !== out.length) throw new Error(`${series.path}: ${at} scores for ${out.length} rows`)
      return out
    } finally {
      await driver.close()
    }
  }
}
