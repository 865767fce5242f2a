/**
 * The known name a misspelt one most likely meant (`serverity` → `severity`), for unknown-key
 * messages. Only close matches are offered: a far-off guess misleads more than no guess.
 */

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const row = d[i]!
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}

/** The closest of `known` to `name` (case and `_`/`-` ignored), or null when none is close. */
export function closestName(name: string, known: readonly string[]): string | null {
  const fold = (s: string): string => s.toLowerCase().replace(/[-_]/g, '')
  const target = fold(name)
  let best: { name: string; distance: number } | null = null
  for (const candidate of known) {
    const distance = editDistance(target, fold(candidate))
    if (best === null || distance < best.distance) best = { name: candidate, distance }
  }
  // Up to a third of the name's letters (at least one) may be wrong.
  return best !== null && best.distance <= Math.max(1, Math.floor(target.length / 3)) ? best.name : null
}
