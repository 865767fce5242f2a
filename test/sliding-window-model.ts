/**
 * Sliding windows by their definition, for tests: the windows of a key are the left window
 * [t - d, t] of each record ([0, d] for t < d) and the right window [t + 1, t + 1 + d] of each record
 * with a later record within it; each counts every record whose time lies in it. Keys `key@start`.
 */
export function slidingWindowCounts(records: readonly { key: string; ts: number }[], d: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const key of new Set(records.map((r) => r.key))) {
    const times = records.filter((r) => r.key === key).map((r) => r.ts)
    const starts = new Set<number>()
    for (const t of times) {
      starts.add(Math.max(0, t - d))
      if (times.some((u) => u > t && u <= t + 1 + d)) starts.add(t + 1)
    }
    for (const start of starts) out.set(`${key}@${start}`, times.filter((u) => u >= start && u <= start + d).length)
  }
  return out
}
