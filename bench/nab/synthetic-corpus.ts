/**
 * A small labelled KPI-like corpus generated from a seed, for a sanity check of generalisation
 * that does not depend on NAB: the kinds of series the detector must also handle (many dense
 * anomalies, level shifts, slow drifts, diurnal traffic, heavy-tailed noise), labelled NAB's way
 * (one window per anomaly, 10% of the series' rows shared between its windows, centred on the
 * anomaly). The check (synthetic-check.ts) only reports on it: nothing is tuned on it.
 */
import type { NabCorpus, NabSeries, WindowLimits } from './corpus.js'

/** A seeded PRNG (mulberry32): the corpus is the same for the same seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Draw {
  private readonly next: () => number
  constructor(seed: number) {
    this.next = mulberry32(seed)
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next()
  }
  int(lo: number, hi: number): number {
    return Math.floor(this.uniform(lo, hi + 1))
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next())
  }
  /** Student-t with 3 degrees of freedom, scaled to unit variance: heavy tails. */
  heavy(): number {
    const chi = this.normal() ** 2 + this.normal() ** 2 + this.normal() ** 2
    return this.normal() / Math.sqrt(chi / 3) / Math.sqrt(3)
  }
  sign(): number {
    return this.next() < 0.5 ? -1 : 1
  }
  /** `count` positions in [from, to) at least `gap` apart, ascending. */
  positions(count: number, from: number, to: number, gap: number): number[] {
    const out: number[] = []
    for (let tries = 0; out.length < count && tries < count * 200; tries++) {
      const p = this.int(from, to - 1)
      if (out.every((q) => Math.abs(q - p) >= gap)) out.push(p)
    }
    return out.sort((a, b) => a - b)
  }
}

export const STEP_MS = 300_000
export const START = Date.UTC(2024, 0, 1)
export const ROWS = 4000

interface Generated {
  readonly values: number[]
  readonly anomalies: number[]
}

function denseSpikes(d: Draw): Generated {
  const level = d.uniform(20, 200)
  const sd = level * d.uniform(0.02, 0.08)
  const anomalies = d.positions(d.int(30, 45), 700, ROWS - 20, 45)
  const values = Array.from({ length: ROWS }, () => level + sd * d.normal())
  for (const a of anomalies) values[a] = values[a]! + d.sign() * sd * d.uniform(5, 12)
  return { values, anomalies }
}

/** Gaussian noise of spread `sd` around a level that moves 3-8 spreads, up or down, at each anomaly and stays. */
export function shiftedLevels(d: Draw, level: number, sd: number, anomalies: readonly number[]): number[] {
  const values: number[] = []
  for (let i = 0; i < ROWS; i++) {
    if (anomalies.includes(i)) level += d.sign() * sd * d.uniform(3, 8)
    values.push(level + sd * d.normal())
  }
  return values
}

function levelShifts(d: Draw): Generated {
  const sd = d.uniform(1, 5)
  const anomalies = d.positions(d.int(3, 6), 800, ROWS - 100, 300)
  return { values: shiftedLevels(d, d.uniform(50, 150), sd, anomalies), anomalies }
}

function drift(d: Draw): Generated {
  const sd = d.uniform(1, 5)
  const anomalies = d.positions(d.int(1, 3), 900, ROWS - 400, 900)
  const values: number[] = []
  let level = d.uniform(50, 150)
  let slope = 0
  let rampLeft = 0
  for (let i = 0; i < ROWS; i++) {
    if (anomalies.includes(i)) {
      // Ten spreads over about 300 rows: invisible row by row, obvious in a few hours.
      slope = (d.sign() * 10 * sd) / 300
      rampLeft = 300
    }
    if (rampLeft > 0) {
      level += slope
      rampLeft--
    }
    values.push(level + sd * d.normal())
  }
  return { values, anomalies }
}

function seasonal(d: Draw): Generated {
  const base = d.uniform(100, 500)
  const amplitude = base * d.uniform(0.3, 0.6)
  const noise = d.uniform(0.03, 0.06)
  const peakHour = d.uniform(12, 18)
  const anomalies = d.positions(d.int(8, 16), 900, ROWS - 20, 150)
  const values = Array.from({ length: ROWS }, (_, i) => {
    const hour = (((START + i * STEP_MS) / 3_600_000) % 24)
    const level = base + amplitude * Math.cos((2 * Math.PI * (hour - peakHour)) / 24)
    return level * (1 + noise * d.normal())
  })
  for (const a of anomalies) {
    // Half a daily amplitude off the usual value for that hour: often inside the day's range.
    for (let k = 0; k < d.int(1, 6) && a + k < ROWS; k++) values[a + k] = values[a + k]! + d.sign() * amplitude * d.uniform(0.6, 1.0)
  }
  return { values, anomalies }
}

function noisy(d: Draw): Generated {
  const level = d.uniform(20, 200)
  const sd = level * d.uniform(0.05, 0.15)
  const anomalies = d.positions(d.int(8, 15), 800, ROWS - 20, 200)
  const values = Array.from({ length: ROWS }, () => level + sd * d.heavy())
  for (const a of anomalies) values[a] = values[a]! + d.sign() * sd * d.uniform(10, 20)
  return { values, anomalies }
}

/** Diurnal traffic with dense short spikes of 5-10 times the hour's own noise: inside the day's range. */
function seasonalSpikes(d: Draw): Generated {
  const base = d.uniform(100, 500)
  const amplitude = base * d.uniform(0.3, 0.6)
  const noise = d.uniform(0.02, 0.05)
  const peakHour = d.uniform(10, 20)
  const anomalies = d.positions(d.int(25, 40), 900, ROWS - 20, 60)
  const levels = Array.from({ length: ROWS }, (_, i) => base + amplitude * Math.cos((2 * Math.PI * (((START + i * STEP_MS) / 3_600_000) % 24 - peakHour)) / 24))
  const values = levels.map((l) => l * (1 + noise * d.normal()))
  for (const a of anomalies) values[a] = values[a]! + d.sign() * levels[a]! * noise * d.uniform(5, 10)
  return { values, anomalies }
}

/** Spikes of 6-15 spreads at noise levels from 0.5% to 20% of the level, 10-60 of them. */
function noiseLevels(d: Draw): Generated {
  const level = d.uniform(20, 2000)
  const sd = level * Math.exp(d.uniform(Math.log(0.005), Math.log(0.2)))
  const anomalies = d.positions(d.int(10, 60), 700, ROWS - 20, 50)
  const values = Array.from({ length: ROWS }, () => level + sd * d.normal())
  for (const a of anomalies) values[a] = values[a]! + d.sign() * sd * d.uniform(6, 15)
  return { values, anomalies }
}

const KINDS: readonly [string, (d: Draw) => Generated, number][] = [
  ['denseSpikes', denseSpikes, 4],
  ['levelShifts', levelShifts, 4],
  ['drift', drift, 3],
  ['seasonal', seasonal, 4],
  ['noisy', noisy, 3],
  // Added with the tail fence, as a check of variety (the first five kinds' series are unchanged).
  ['seasonalSpikes', seasonalSpikes, 4],
  ['noiseLevels', noiseLevels, 4],
]

/** NAB's labelling: 10% of the rows shared between the windows, each centred on its anomaly. */
export function windowsFor(times: readonly number[], anomalies: readonly number[]): WindowLimits {
  if (anomalies.length === 0) return []
  const width = Math.floor((0.1 * times.length) / anomalies.length)
  return anomalies.map((a) => [times[Math.max(0, a - Math.floor(width / 2))]!, times[Math.min(times.length - 1, a + Math.floor(width / 2))]!] as const)
}

export function syntheticCorpus(seed = 20261204): NabCorpus {
  const series: NabSeries[] = []
  const windows = new Map<string, WindowLimits>()
  KINDS.forEach(([kind, generate, count], k) => {
    for (let n = 0; n < count; n++) {
      const d = new Draw(seed + 1000 * k + n)
      const { values, anomalies } = generate(d)
      const times = values.map((_, i) => START + i * STEP_MS)
      const path = `${kind}/${kind}_${n + 1}.csv`
      series.push({ path, times, timestamps: times.map((t) => new Date(t).toISOString().replace('T', ' ').slice(0, 19)), values })
      windows.set(path, windowsFor(times, anomalies))
    }
  })
  return { series, windows, unlisted: [] }
}
