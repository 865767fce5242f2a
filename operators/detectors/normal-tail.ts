/**
 * The normal distribution's upper tail, accurate far out (1e-10 and beyond), where 1 - erf loses
 * every digit: NAB's windowedGaussian and the anomaly likelihood judge scores by such tails.
 */

/** erfc to about double precision: the Taylor series of erf below 2, Lentz's continued fraction above. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x)
  if (x < 2) {
    // erf by its Taylor series: converges fast for x < 2.
    let term = x
    let sum = x
    const x2 = x * x
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n
      const add = term / (2 * n + 1)
      sum += add
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum
  }
  // Lentz's continued fraction for erfc: exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))).
  let f = x
  let c = x
  let dd = 0
  for (let n = 1; n < 300; n++) {
    const a = n / 2
    dd = x + a * dd
    dd = dd === 0 ? 1e-300 : 1 / dd
    c = x + a / c
    const delta = c * dd
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f
}

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2)
}
