/**
 * NAB's windowedGaussian detector (nab/detectors/gaussian/windowedGaussian_detector.py), as a
 * reference: the tail probability of the value under a normal fitted to a window of up to 6400
 * previous values, refitted every 100 rows; score = 1 - that probability. Checked against NAB's
 * published per-row scores (test/unit/bench/nab/windowed-gaussian.test.ts). NAB's swept standard
 * threshold for it is 1.0 (results/windowedGaussian/..._standard_scores.csv).
 */
import type { NabSeries } from './corpus.js'
import type { RowFeed } from './row-feed.js'
import { erfc } from '../../operators/detectors/normal-tail.js'

export const WINDOWED_GAUSSIAN_STANDARD_THRESHOLD = 1.0

/** Re-exported: the reference test checks it here, where it was first written. */
export { erfc }

export class WindowedGaussian {
  private window: number[] = []
  private buffer: number[] = []
  private mean = 0
  private m2 = 0
  private std = 1e-6

  constructor(
    private readonly windowSize = 6400,
    private readonly stepSize = 100,
  ) {}

  step(value: number): number {
    const score = this.window.length > 0 ? 1 - this.tail(value) : 0
    if (this.window.length < this.windowSize) {
      // While the window fills NAB refits on every row; Welford's update gives the same mean and
      // std (to ~1e-13) without the quadratic cost of a full pass per row.
      this.window.push(value)
      const delta = value - this.mean
      this.mean += delta / this.window.length
      this.m2 += delta * (value - this.mean)
      this.std = Math.sqrt(Math.max(0, this.m2) / this.window.length) || 0.000001
    } else {
      this.buffer.push(value)
      if (this.buffer.length === this.stepSize) {
        this.window = [...this.window.slice(this.stepSize), ...this.buffer]
        this.buffer = []
        this.refit()
      }
    }
    return score
  }

  private tail(x: number): number {
    const v = x < this.mean ? 2 * this.mean - x : x
    return 0.5 * erfc((v - this.mean) / this.std / Math.SQRT2)
  }

  private refit(): void {
    const n = this.window.length
    let mean = 0
    for (const v of this.window) mean += v
    mean /= n
    let ss = 0
    for (const v of this.window) ss += (v - mean) ** 2
    this.mean = mean
    // numpy.std: the population standard deviation; NAB replaces 0 by 1e-6.
    this.std = Math.sqrt(ss / n) || 0.000001
  }
}

export class WindowedGaussianFeed implements RowFeed {
  readonly name = "NAB's windowedGaussian (window 6400, step 100), direct"
  async scoreSeries(series: NabSeries): Promise<Float64Array> {
    const d = new WindowedGaussian()
    // NAB's detectors wrote their scores with Python 2's str(), 12 significant digits, and the
    // published scores (threshold 1.0 included) were computed from those files: 1 - 1e-13 is 1.0 there.
    return Float64Array.from(series.values, (v) => Number(d.step(v).toPrecision(12)))
  }
}
