/**
 * The soak's samples as CSV, one row a minute, written as they come (a run cut short keeps what it
 * had). Instance columns are per slot (`i1_…`): a restarted instance keeps its slot, with a new pid.
 * An empty cell is a figure that could not be read then (an instance restarting, a broker busy).
 */
import { appendFileSync, writeFileSync } from 'node:fs'
import type { SoakSample } from './soak-sampler.js'

const cell = (v: number | undefined, digits = 1): string => (v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits))

export function csvHeader(instances: number): string {
  const perInstance = Array.from({ length: instances }, (_, i) => [
    `i${i + 1}_pid`,
    `i${i + 1}_rss_mb`,
    `i${i + 1}_loop_p99_ms`,
    `i${i + 1}_loop_max_ms`,
  ]).flat()
  return [
    'minute',
    'input_rate',
    'input_lag',
    'total_lag',
    'commits',
    'commit_p99_ms',
    'commit_mean_ms',
    'error_lines',
    'restarts',
    'crashes',
    ...perInstance,
  ].join(',')
}

export function csvRow(s: SoakSample): string {
  return [
    cell(s.minute, 2),
    cell(s.achievedRate, 0),
    cell(s.inputLag, 0),
    cell(s.totalLag, 0),
    String(s.commits),
    cell(s.commitP99Ms),
    cell(s.commitMeanMs),
    String(s.errorLines),
    String(s.restarts),
    String(s.crashes),
    ...s.instances.flatMap((i) => [i.pid === undefined ? '' : String(i.pid), cell(i.rssMb), cell(i.loopP99Ms), cell(i.loopMaxMs)]),
  ].join(',')
}

export class SoakCsv {
  constructor(
    private readonly path: string,
    instances: number,
  ) {
    writeFileSync(path, csvHeader(instances) + '\n')
  }

  append(sample: SoakSample): void {
    appendFileSync(this.path, csvRow(sample) + '\n')
  }
}
