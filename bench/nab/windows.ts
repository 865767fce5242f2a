/** A labelled anomaly window as inclusive row indices. */
export interface RowWindow {
  readonly left: number
  readonly right: number
}

/**
 * Maps `[start, end]` window times onto rows as NAB does: the left edge is the first row whose time
 * equals `start`, the right edge the first row whose time equals `end` (NAB's `timestamps.index`;
 * NAB's files repeat some timestamps and even step back once, so rows are searched in file order,
 * not bisected). When a limit falls between rows (other corpora), the left edge is the first row at
 * or after `start` and the right edge the row before the first one after `end`.
 * Windows covering no row are dropped; overlapping windows are refused.
 */
export function windowRows(times: readonly number[], limits: readonly (readonly [number, number])[]): RowWindow[] {
  const out: RowWindow[] = []
  for (const [start, end] of limits) {
    let left = times.indexOf(start)
    if (left < 0) left = times.findIndex((t) => t >= start)
    if (left < 0) continue
    let right = times.indexOf(end, left)
    if (right < 0) {
      const after = times.findIndex((t, i) => i >= left && t > end)
      right = (after < 0 ? times.length : after) - 1
    }
    if (left <= right) out.push({ left, right })
  }
  out.sort((a, b) => a.left - b.left)
  for (let k = 1; k < out.length; k++) {
    const prev = out[k - 1]!
    const cur = out[k]!
    if (cur.left <= prev.right) throw new Error(`windows overlap at rows ${prev.left}-${prev.right} and ${cur.left}-${cur.right}`)
  }
  return out
}
