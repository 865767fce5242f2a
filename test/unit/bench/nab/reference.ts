/** Loads NAB's published windowedGaussian results and null tables for the scorer's reference test. */
import { dirname, join } from 'node:path'
import { readCsv } from '../../../../bench/nab/corpus.js'
import { nabDir } from '../../../../bench/nab/nab-dir.js'

export const NAB_DIR = nabDir()

export function resultFile(seriesPath: string): string {
  const dir = dirname(seriesPath)
  const base = seriesPath.slice(dir.length + 1)
  return join(NAB_DIR, 'results/windowedGaussian', dir, `windowedGaussian_${base}`)
}

export interface ScoreTableRow {
  readonly file: string
  readonly threshold: number
  readonly score: number
  readonly tp: number
  readonly tn: number
  readonly fp: number
  readonly fn: number
  readonly total: number
}

/** A NAB `<detector>_<profile>_scores.csv`: per-file rows plus the `Totals` row. */
export function readScoreTable(file: string): { files: Map<string, ScoreTableRow>; totals: ScoreTableRow } {
  const t = readCsv(file)
  const det = t.column('Detector')
  const cols = ['File', 'Threshold', 'Score', 'TP', 'TN', 'FP', 'FN', 'Total_Count'].map((c) => t.column(c))
  const files = new Map<string, ScoreTableRow>()
  let totals: ScoreTableRow | undefined
  for (let i = 0; i < t.rows; i++) {
    const [f, th, s, tp, tn, fp, fn, total] = cols.map((c) => c[i] ?? '')
    const row = { file: f!, threshold: Number(th), score: Number(s), tp: Number(tp), tn: Number(tn), fp: Number(fp), fn: Number(fn), total: Number(total) }
    if (det[i] === 'Totals') totals = row
    else files.set(row.file, row)
  }
  if (!totals) throw new Error(`${file}: no Totals row`)
  return { files, totals }
}
