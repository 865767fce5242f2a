/** Median of several runs: one noisy run on a shared 2-core box should not set the figure. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export async function timeRuns(runs: number, run: () => Promise<number>): Promise<number> {
  const rates: number[] = []
  for (let i = 0; i < runs; i++) rates.push(await run())
  return median(rates)
}

export const rate = (count: number, startNs: bigint): number => count / (Number(process.hrtime.bigint() - startNs) / 1e9)

export const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}K` : n.toFixed(0))

/** `--name value` from the command line, or the fallback. */
export const cliArg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]!
}

/**
 * For benches that run each configuration in a fresh process: with `--child <name>`, runs that one
 * and prints its result as the last stdout line (true: the caller is the child and is done).
 */
export async function runChildIfAsked(child: (name: string) => Promise<unknown>): Promise<boolean> {
  const name = cliArg('child', '')
  if (name === '') return false
  process.stdout.write(JSON.stringify(await child(name)) + '\n')
  return true
}
