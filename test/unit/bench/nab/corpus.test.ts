import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readSeries } from '../../../../bench/nab/corpus.js'

function withSeries(body: string, check: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'nab-csv-'))
  try {
    mkdirSync(join(dir, 'c'))
    writeFileSync(join(dir, 'c/s.csv'), body)
    check(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('a series reads its values as numbers, a trailing newline is not a row', () => {
  withSeries('timestamp,value\n2024-01-01 00:00:00,1.5\n2024-01-01 00:05:00,-2\n', (dir) => {
    assert.deepEqual(readSeries(dir, 'c/s.csv').values, [1.5, -2])
  })
})

test('an empty value is rejected with the file and line, not read as 0', () => {
  withSeries('timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,\n', (dir) => {
    assert.throws(() => readSeries(dir, 'c/s.csv'), /s\.csv:3: column "value" is empty/)
  })
  withSeries('timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00\n', (dir) => {
    assert.throws(() => readSeries(dir, 'c/s.csv'), /s\.csv:3: column "value" is empty/)
  })
})

test('a non-numeric value or timestamp is rejected with the file and line', () => {
  withSeries('timestamp,value\n\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,n/a\n', (dir) => {
    assert.throws(() => readSeries(dir, 'c/s.csv'), /s\.csv:4: column "value" is not a number: "n\/a"/)
  })
  withSeries('timestamp,value\n2024-01-01 00:00:00,1\nyesterday,2\n', (dir) => {
    assert.throws(() => readSeries(dir, 'c/s.csv'), /s\.csv:3: timestamp "yesterday"/)
  })
})
