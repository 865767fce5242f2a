import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { validateTelemetryEvent } from '../../../../../schemas/telemetry/index.js'

const main = new URL('../../../../../apps/sentinel/generator/main.ts', import.meta.url).pathname

test('the generator CLI writes valid JSON Lines to --out and its summary to stderr; bad options exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'generator-cli-'))
  try {
    const out = join(dir, 'telemetry.jsonl')
    execFileSync(process.execPath, ['--import', 'tsx', main, '--hours', '0.25', '--seed', '5', '--no-incidents', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] })
    const lines = readFileSync(out, 'utf8').trim().split('\n')
    assert.ok(lines.length > 100)
    for (const line of lines.slice(0, 500)) assert.ok(validateTelemetryEvent(JSON.parse(line)).ok)
    assert.throws(
      () => execFileSync(process.execPath, ['--import', 'tsx', main, '--hours', '2'], { stdio: ['ignore', 'ignore', 'pipe'] }),
      (err: { status?: number; stderr?: Buffer }) => err.status === 2 && /'hours' must be at least/.test(String(err.stderr)),
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
