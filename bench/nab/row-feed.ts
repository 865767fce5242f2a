/**
 * How rows reach the detector: `DirectCoreFeed` calls the detector cores directly, one series (one
 * key) at a time; `DriverFeed` (driver-feed.ts) streams them through the TopologyTestDriver, with
 * the scorer's state in a store. Both give the same scores.
 */
import type { NabSeries } from './corpus.js'
import { type NabDetectorConfig, type SeriesInfo, createNabScorer } from './detector.js'

export interface RowFeed {
  readonly name: string
  /** One score per row, each computed from the rows up to and including it. */
  scoreSeries(series: NabSeries, info: SeriesInfo): Promise<Float64Array>
}

export class DirectCoreFeed implements RowFeed {
  readonly name = 'direct calls to operators/detectors cores (no DSL, no TopologyTestDriver)'
  constructor(private readonly config: NabDetectorConfig) {}

  async scoreSeries(series: NabSeries, info: SeriesInfo): Promise<Float64Array> {
    const scorer = createNabScorer(this.config, info)
    const out = new Float64Array(series.values.length)
    series.values.forEach((v, i) => {
      out[i] = scorer.step(v, series.times[i]!)
    })
    return out
  }
}
