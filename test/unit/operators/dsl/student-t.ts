/** P(|T| >= t) for Student's t with `df` degrees of freedom, by Simpson integration of its density. */
export function expectedTwoSidedRate(t: number, df: number): number {
  const logC = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * Math.log(df * Math.PI)
  const density = (x: number) => Math.exp(logC - ((df + 1) / 2) * Math.log(1 + (x * x) / df))
  const steps = 20_000
  const h = t / steps
  let sum = density(0) + density(t)
  for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * density(i * h)
  return 1 - 2 * ((sum * h) / 3)
}

/** log Γ(x) for x > 0 (Lanczos, g = 7). */
function lgamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7]
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x)
  const y = x - 1
  let a = c[0]!
  const t = y + 7.5
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i)
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a)
}
