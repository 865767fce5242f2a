/**
 * The few things the soak reads from an instance's /metrics (Prometheus text format, as prom-client
 * writes it): plain gauge values, and a histogram's cumulative buckets, sum and count. Between two
 * scrapes the difference of a histogram is the distribution of that interval, from which a quantile
 * is estimated as Prometheus' histogram_quantile does (linear within the bucket).
 */

export interface Histogram {
  /** Upper bound → cumulative count, ascending, `+Inf` last. */
  buckets: [number, number][]
  sum: number
  count: number
}

interface Sample {
  name: string
  labels: string
  value: number
}

function samples(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (match) out.push({ name: match[1]!, labels: match[2] ?? '', value: Number(match[3]) })
  }
  return out
}

/**
 * A metric's value (the first series of that name; with `label`, e.g. `space="old"`, the first whose
 * labels include it), or undefined when the instance does not expose it.
 */
export function gauge(text: string, name: string, label?: string): number | undefined {
  return samples(text).find((s) => s.name === name && (label === undefined || s.labels.includes(label)))?.value
}

/** A histogram summed over all its label sets (e.g. one series per task), or undefined when absent. */
export function histogram(text: string, name: string): Histogram | undefined {
  const all = samples(text)
  const byBound = new Map<number, number>()
  let sum = 0
  let count = 0
  let seen = false
  for (const s of all) {
    if (s.name === `${name}_bucket`) {
      const le = /le="([^"]+)"/.exec(s.labels)?.[1]
      if (le === undefined) continue
      const bound = le === '+Inf' ? Infinity : Number(le)
      byBound.set(bound, (byBound.get(bound) ?? 0) + s.value)
      seen = true
    } else if (s.name === `${name}_sum`) sum += s.value
    else if (s.name === `${name}_count`) count += s.value
  }
  if (!seen) return undefined
  return { buckets: [...byBound].sort(([a], [b]) => a - b), sum, count }
}

/** What was observed between `before` and `after` (a restarted instance starts again from zero: then `after` alone). */
export function histogramSince(after: Histogram, before: Histogram | undefined): Histogram {
  if (!before || after.count < before.count) return after
  const earlier = new Map(before.buckets)
  return {
    buckets: after.buckets.map(([bound, n]) => [bound, n - (earlier.get(bound) ?? 0)]),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  }
}

/** The sum of histograms with the same buckets (several instances' commit times). */
export function addHistograms(histograms: readonly Histogram[]): Histogram | undefined {
  if (histograms.length === 0) return undefined
  const byBound = new Map<number, number>()
  for (const h of histograms) for (const [bound, n] of h.buckets) byBound.set(bound, (byBound.get(bound) ?? 0) + n)
  return {
    buckets: [...byBound].sort(([a], [b]) => a - b),
    sum: histograms.reduce((s, h) => s + h.sum, 0),
    count: histograms.reduce((s, h) => s + h.count, 0),
  }
}

/**
 * The q-quantile, linear within its bucket (histogram_quantile's estimate). Past the last finite
 * bound the answer is that bound: the histogram cannot say more. Undefined with no observations.
 */
export function quantile(h: Histogram, q: number): number | undefined {
  if (h.count <= 0) return undefined
  const rank = q * h.count
  let lowerBound = 0
  let lowerCount = 0
  for (const [bound, cumulative] of h.buckets) {
    if (cumulative >= rank) {
      if (bound === Infinity) return lowerBound
      const inBucket = cumulative - lowerCount
      return inBucket <= 0 ? bound : lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket
    }
    lowerBound = bound
    lowerCount = cumulative
  }
  return lowerBound
}
