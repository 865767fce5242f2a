import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gaussian, mulberry32 } from '../../operators/detectors/prng.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..')

/** A small NAB-like corpus: one series with a labelled spike, one quiet series without windows. */
function writeCorpus(dir: string): { data: string; windows: string } {
  const data = join(dir, 'data')
  mkdirSync(join(data, 'synthetic'), { recursive: true })
  const g = gaussian(mulberry32(30))
  const stamp = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString().replace('T', ' ').slice(0, 19)
  const spiky = Array.from({ length: 2000 }, (_, i) => `${stamp(i)},${(i === 1500 ? 200 : 50 + g()).toFixed(3)}`)
  const quiet = Array.from({ length: 1500 }, (_, i) => `${stamp(i)},${(20 + g()).toFixed(3)}`)
  writeFileSync(join(data, 'synthetic/spiky.csv'), ['timestamp,value', ...spiky].join('\n'))
  writeFileSync(join(data, 'synthetic/quiet.csv'), ['timestamp,value', ...quiet].join('\n'))
  const windows = join(dir, 'windows.json')
  writeFileSync(windows, JSON.stringify({ 'synthetic/spiky.csv': [[`${stamp(1450)}.000000`, `${stamp(1550)}.000000`]], 'synthetic/quiet.csv': [] }))
  return { data, windows }
}

test('eval:nab on any NAB-like corpus: --data and --windows, report files, last line format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nab-eval-'))
  try {
    const { data, windows } = writeCorpus(dir)
    const out = join(dir, 'out')
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/nab/evaluate.ts'), '--data', data, '--windows', windows, '--out', out, '--quick'], { cwd: root, encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    const last = run.stdout.trim().split('\n').at(-1)!
    const m = /^NAB standard=(-?\d+\.\d+) low_fp=(-?\d+\.\d+) low_fn=(-?\d+\.\d+) threshold=(fixed|swept)$/.exec(last)
    assert.ok(m, `last line: ${last}`)
    // The spike is caught near the middle of its window and the noise stays quiet: well above null.
    assert.ok(Number(m[1]) > 50, last)
    assert.equal(m[4], 'fixed')
    const report = JSON.parse(readFileSync(join(out, 'REPORT.json'), 'utf8')) as { series: { file: string; windowsDetected: number; falsePositiveRows: number }[] }
    const spiky = report.series.find((s) => s.file === 'synthetic/spiky.csv')!
    assert.equal(spiky.windowsDetected, 1)
    // The default feed is the TopologyTestDriver's, and the report says so.
    assert.match(readFileSync(join(out, 'REPORT.md'), 'utf8'), /\*\*How rows reach the detectors:\*\* TopologyTestDriver: a processor over a logged key-value store/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('with --data and no --out the committed report is left alone; --update-report refuses another corpus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nab-eval-'))
  const committed = ['REPORT.json', 'REPORT.md'].map((f) => join(root, 'bench/nab', f))
  const before = committed.map((f) => readFileSync(f, 'utf8'))
  try {
    const { data, windows } = writeCorpus(dir)
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/nab/evaluate.ts'), '--data', data, '--windows', windows, '--quick', '--feed', 'direct'], { cwd: root, encoding: 'utf8' })
    assert.equal(run.status, 0, run.stderr)
    assert.deepEqual(committed.map((f) => readFileSync(f, 'utf8')), before)
    assert.match(run.stdout, /report: .*bench\/nab\/out\/REPORT\.md/)
    const refused = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/nab/evaluate.ts'), '--data', data, '--windows', windows, '--update-report', '--quick'], { cwd: root, encoding: 'utf8' })
    assert.notEqual(refused.status, 0)
    assert.match(refused.stderr, /--update-report is for the NAB corpus/)
    assert.deepEqual(committed.map((f) => readFileSync(f, 'utf8')), before)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
