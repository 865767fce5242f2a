/**
 * The combined objective, fixed before any of the changes it judged were tried: the mean of
 * (a) NAB leave-one-category-out (standard profile, fixed threshold 0.5, mean over the categories
 *     with windows; loco.ts over locoGrid(config)), and
 * (b) the synthetic KPI-like corpus (synthetic-corpus.ts, standard, fixed threshold 0.5), mean over
 *     seeds 20261204, 1 and 2.
 * In-sample NAB and windowedGaussian on the same synthetic seeds are printed alongside. All runs use
 * the direct feed (the driver gives the same scores: test/unit/bench/nab/driver-feed.test.ts).
 *
 *   npx tsx bench/nab/objective.ts [--set key=value ...]   (overrides of NAB_CONFIG, for experiments)
 */
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { NAB_CONFIG, type NabDetectorConfig, locoGrid } from './detector.js'
import { evaluate } from './evaluate.js'
import { nabDir } from './nab-dir.js'
import { DirectCoreFeed } from './row-feed.js'
import { syntheticCheck } from './synthetic-check.js'

export const OBJECTIVE_SEEDS = [20261204, 1, 2] as const

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { set: { type: 'string', multiple: true, default: [] } } })
  const overrides: Record<string, number> = {}
  for (const kv of values.set) {
    const [k, v] = kv.split('=')
    if (!k || v === undefined || !(k in NAB_CONFIG)) throw new Error(`--set ${kv}: not a NAB_CONFIG knob`)
    overrides[k] = Number(v)
  }
  const config = { ...NAB_CONFIG, ...overrides } as NabDetectorConfig
  const grid = locoGrid(config)
  const nab = nabDir()
  const result = await evaluate({
    data: join(nab, 'data'),
    windows: join(nab, 'labels/combined_windows.json'),
    profiles: join(nab, 'config/profiles.json'),
    threshold: 0.5,
    config,
    feedFor: (c) => new DirectCoreFeed(c),
    sensitivity: false,
    locoGrid: grid,
  })
  const loco = result.loco!
  const synth: number[] = []
  const wg: number[] = []
  const kinds = new Map<string, number[]>()
  const wgKinds = new Map<string, number[]>()
  for (const seed of OBJECTIVE_SEEDS) {
    const { results } = await syntheticCheck(seed, join(nab, 'config/profiles.json'), config)
    synth.push(results[0]!.standard)
    wg.push(results[1]!.standard)
    for (const [k, v] of Object.entries(results[0]!.perCategory)) kinds.set(k, [...(kinds.get(k) ?? []), v])
    for (const [k, v] of Object.entries(results[1]!.perCategory)) wgKinds.set(k, [...(wgKinds.get(k) ?? []), v])
  }
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const f = (x: number) => x.toFixed(2)
  const [std, lowFp, lowFn] = result.fixed.map((r) => r.normalised)
  console.log(`overrides ${JSON.stringify(overrides)}`)
  console.log(`NAB in-sample ${f(std!)} / ${f(lowFp!)} / ${f(lowFn!)}; LOCO mean ${f(loco.mean)} pooled ${f(loco.pooled)} | ${loco.categories.map((c) => `${c.category} ${Number.isNaN(c.normalised) ? `raw ${c.raw.toFixed(2)}` : c.normalised.toFixed(1)}`).join(', ')}`)
  console.log(`synthetic per seed ${synth.map(f).join(' / ')} (windowedGaussian ${wg.map(f).join(' / ')}); mean ${f(mean(synth))} vs ${f(mean(wg))}`)
  console.log(`synthetic per kind (mean of seeds): ${[...kinds].map(([k, v]) => `${k} ${mean(v).toFixed(1)} (wg ${mean(wgKinds.get(k)!).toFixed(1)})`).join(', ')}`)
  console.log(`OBJECTIVE ${f((loco.mean + mean(synth)) / 2)}`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
