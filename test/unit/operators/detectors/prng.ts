export { mulberry32 } from '../../../../bench/nab/synthetic-corpus.js'
/** A seeded PRNG (mulberry32) and standard normal draws (Box-Muller), so noise tests repeat exactly. */
export function gaussian(rand: () => number): () => number {
  return () => {
    const u = 1 - rand()
    const v = rand()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
}
