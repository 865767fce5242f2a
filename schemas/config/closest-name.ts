/**
 * The known name a misspelt one most likely meant (`serverity` → `severity`), for unknown-key
 * messages. Only close matches are offered: a far-off guess misleads more than no guess.
 */
import { distance } from 'fastest-levenshtein'

/** The closest of `known` to `name` (case and `_`/`-` ignored), or null when none is close. */
export function closestName(name: string, known: readonly string[]): string | null {
  const fold = (s: string): string => s.toLowerCase().replace(/[-_]/g, '')
  const target = fold(name)
  let best: { name: string; distance: number } | null = null
  for (const candidate of known) {
    const edits = distance(target, fold(candidate))
    if (best === null || edits < best.distance) best = { name: candidate, distance: edits }
  }
  // Up to a third of the name's letters (at least one) may be wrong.
  return best !== null && best.distance <= Math.max(1, Math.floor(target.length / 3)) ? best.name : null
}
