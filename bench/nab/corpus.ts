import { readFileSync, readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { parseNabTimestamp } from './timestamps.js'

/** A CSV with a header row, as columns of strings keyed by header name. */
export interface CsvTable {
  readonly header: readonly string[]
  readonly rows: number
  column(name: string): string[]
  /**
   * The column as numbers. An empty or non-numeric cell is an error naming the file and line:
   * `Number('')` is 0, so a gap in a series would otherwise be read as a plausible value.
   */
  numericColumn(name: string): number[]
  /** The 1-based line of the file that holds data row `row`. */
  lineOf(row: number): number
}

export function readCsv(file: string): CsvTable {
  const all = readFileSync(file, 'utf8').split(/\r?\n/)
  // Blank lines (a trailing newline, mostly) are not rows; the line numbers of the rest are kept for errors.
  const numbered = all.map((text, i) => ({ text, line: i + 1 })).filter((l) => l.text.length > 0)
  const header = (numbered[0]?.text ?? '').split(',').map((h) => h.trim())
  const body = numbered.slice(1).map((l) => l.text.split(','))
  const lines = numbered.slice(1).map((l) => l.line)
  const columnIndex = (name: string): number => {
    const at = header.indexOf(name)
    if (at < 0) throw new Error(`${file}: no column "${name}" (header: ${header.join(',')})`)
    return at
  }
  return {
    header,
    rows: body.length,
    column(name: string): string[] {
      const at = columnIndex(name)
      return body.map((cells) => cells[at] ?? '')
    },
    numericColumn(name: string): number[] {
      const at = columnIndex(name)
      return body.map((cells, r) => {
        const cell = (cells[at] ?? '').trim()
        const value = cell === '' ? Number.NaN : Number(cell)
        if (!Number.isFinite(value)) throw new Error(`${file}:${lines[r]}: column "${name}" ${cell === '' ? 'is empty' : `is not a number: "${cell}"`}`)
        return value
      })
    },
    lineOf: (row: number) => lines[row] ?? Number.NaN,
  }
}

/** One series of a NAB-like corpus: `path` is relative to the data directory, with `/`. */
export interface NabSeries {
  readonly path: string
  readonly timestamps: readonly string[]
  readonly times: readonly number[]
  readonly values: readonly number[]
}

export type WindowLimits = readonly (readonly [number, number])[]

export interface NabCorpus {
  readonly series: readonly NabSeries[]
  readonly windows: ReadonlyMap<string, WindowLimits>
  /** CSV files under the data directory that the windows file does not name (not scored). */
  readonly unlisted: readonly string[]
}

export function readSeries(dataDir: string, path: string): NabSeries {
  const table = readCsv(join(dataDir, path))
  const timestamps = table.column('timestamp')
  const values = table.numericColumn('value')
  const times = timestamps.map((t, r) => {
    try {
      return parseNabTimestamp(t)
    } catch (err) {
      throw new Error(`${join(dataDir, path)}:${table.lineOf(r)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
  })
  // Times are not checked for order: NAB's own files repeat timestamps and even step back once
  // (clock changes); rows are scored in file order, as NAB does.
  return { path, timestamps, times, values }
}

/** Reads a windows JSON (`{ "<path>": [[start, end], ...] }`) into millisecond limits. */
export function readWindows(file: string): Map<string, WindowLimits> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  const out = new Map<string, WindowLimits>()
  for (const [path, list] of Object.entries(raw)) {
    if (!Array.isArray(list)) throw new Error(`${file}: "${path}" must map to a list of [start, end] pairs`)
    out.set(
      path,
      list.map((pair: unknown) => {
        if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`${file}: "${path}" has a window that is not a [start, end] pair`)
        return [parseNabTimestamp(String(pair[0])), parseNabTimestamp(String(pair[1]))] as const
      }),
    )
  }
  return out
}

function listCsv(dir: string, root = dir): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listCsv(full, root))
    else if (entry.name.endsWith('.csv')) out.push(relative(root, full).split(sep).join('/'))
  }
  return out.sort()
}

/** Loads every series the windows file names; each must exist under `dataDir`. */
export function loadCorpus(dataDir: string, windowsFile: string): NabCorpus {
  const windows = readWindows(windowsFile)
  const present = new Set(listCsv(dataDir))
  const missing = [...windows.keys()].filter((p) => !present.has(p))
  if (missing.length > 0) throw new Error(`${windowsFile} names files not under ${dataDir}: ${missing.slice(0, 5).join(', ')}`)
  const series = [...windows.keys()].sort().map((p) => readSeries(dataDir, p))
  const unlisted = [...present].filter((p) => !windows.has(p))
  return { series, windows, unlisted }
}
