/**
 * NAB through a DSL operator as users write it: `zScoreWindows` alone (no level or distribution
 * component, no alarm hold-back), one row per 1 ms tumbling window (row i at event time i, so the
 * irregular NAB timestamps do not matter), aggregate 'mean' (= the row's value). The operator only
 * emits anomalies, so a row's score is its anomaly's score (>= 0.5) or 0: exact for the fixed
 * threshold 0.5, meaningless for a sweep. `npx tsx bench/nab/operator-feed.ts` prints its scores;
 * it is a measure of the operator, not the tuned NAB detector of detector.ts.
 */
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { zScoreWindows } from '../../operators/dsl/zscore-windows.js'
import { TopologyTestDriver } from '../../runtime/test-driver.js'
import { type AnomalyEvent, anomalyEventSchema } from '../../schemas/anomaly/anomaly-event.js'
import { Serdes } from '../../schemas/index.js'
import { StreamsBuilder, TimeWindows, type Topology } from '../../topology/index.js'
import { type NabSeries, loadCorpus } from './corpus.js'
import type { SeriesInfo } from './detector.js'
import { loadProfiles, PROFILE_NAMES } from './profiles.js'
import type { RowFeed } from './row-feed.js'
import { planFile, scoreCorpus } from './scorer.js'
import { nabDir } from './nab-dir.js'

export interface OperatorFeedConfig {
  readonly baselineWindows: number
  readonly threshold: number
}

export const OPERATOR_FEED_CONFIG: OperatorFeedConfig = { baselineWindows: 2000, threshold: 10 }

function topology(config: OperatorFeedConfig, info: SeriesInfo): Topology {
  const builder = new StreamsBuilder()
  const rows = builder.stream('rows', { key: Serdes.string(), value: Serdes.double() })
  zScoreWindows(rows, {
    id: 'nab-z',
    metric: (v) => v,
    window: TimeWindows.tumbling(1),
    aggregate: 'mean',
    baseline: { kind: 'rolling', windows: config.baselineWindows },
    threshold: config.threshold,
    // The same warm-up and std floors as the NAB detector (detector.ts).
    minHistory: Math.max(10, Math.min(info.probation, config.baselineWindows)),
    minStd: 1e-6,
    minRelativeStd: 1e-3,
  }).to('anomalies', { key: Serdes.string(), value: Serdes.avro<AnomalyEvent>(anomalyEventSchema) })
  return builder.build()
}

export class ZScoreOperatorFeed implements RowFeed {
  readonly name = 'TopologyTestDriver: zScoreWindows alone (1 row = 1 window), score = the anomaly score or 0'
  constructor(private readonly config: OperatorFeedConfig = OPERATOR_FEED_CONFIG) {}

  async scoreSeries(series: NabSeries, info: SeriesInfo): Promise<Float64Array> {
    const driver = await TopologyTestDriver.create(topology(this.config, info), { applicationId: 'nab-operator' })
    try {
      const input = driver.createInputTopic('rows', Serdes.string(), Serdes.double())
      const output = driver.createOutputTopic('anomalies', Serdes.string(), Serdes.avro<AnomalyEvent>(anomalyEventSchema))
      const n = series.values.length
      const out = new Float64Array(n)
      // One more record at time n closes the last row's window.
      const records = [...series.values.map((value, i) => ({ key: series.path, value, timestamp: i })), { key: series.path, value: 0, timestamp: n }]
      for (let from = 0; from < records.length; from += 1000) await input.pipeRecords(records.slice(from, from + 1000))
      for (const a of output.readValues()) out[Date.parse(a.context?.window_start ?? '')] = a.score
      return out
    } finally {
      await driver.close()
    }
  }
}

async function main(): Promise<void> {
  const nab = nabDir()
  const corpus = loadCorpus(join(nab, 'data'), join(nab, 'labels/combined_windows.json'))
  const profiles = loadProfiles(join(nab, 'config/profiles.json'))
  const plans = corpus.series.map((s) => planFile(s.path, s.times, corpus.windows.get(s.path)!))
  const feed = new ZScoreOperatorFeed()
  const started = performance.now()
  const scores: Float64Array[] = []
  for (const [f, s] of corpus.series.entries()) scores.push(await feed.scoreSeries(s, { probation: plans[f]!.probation }))
  const [std, lowFp, lowFn] = PROFILE_NAMES.map((p) => scoreCorpus(plans, scores, profiles[p], 0.5).normalised.toFixed(2))
  console.log(`${feed.name}; ${JSON.stringify(OPERATOR_FEED_CONFIG)}; ${((performance.now() - started) / 1000).toFixed(1)} s`)
  console.log(`NAB standard=${std} low_fp=${lowFp} low_fn=${lowFn} threshold=fixed`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
