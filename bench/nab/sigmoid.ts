/**
 * NAB's scaled sigmoid: 2 / (1 + e^(5y)) - 1, i.e. about +1 at y = -1 (a window's left edge),
 * 0 at y = 0 (its right edge) and towards -1 after it. Past y = 3 NAB pins it to exactly -1.
 */
export function scaledSigmoid(y: number): number {
  if (y > 3) return -1
  return 2 / (1 + Math.exp(5 * y)) - 1
}

/** The weight of a detection at a window's left edge; true-positive weights are divided by it. */
export const MAX_TP = scaledSigmoid(-1)
