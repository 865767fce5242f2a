/**
 * The layer rule of `npm run check` (.dependency-cruiser.cjs) bites: on a small tree with a
 * wrong-way import and a cycle, dependency-cruiser fails naming both; on the project it passes.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const depcruise = join(root, 'node_modules/.bin/depcruise')

function cruise(cwd: string, paths: string[]): { status: number | null; output: string } {
  const run = spawnSync(depcruise, ['--config', join(root, '.dependency-cruiser.cjs'), ...paths], { cwd, encoding: 'utf8' })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

test('a schema importing the app, and a cycle inside the app, fail the check by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'layers-'))
  try {
    const write = (path: string, text: string): void => {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    copyFileSync(join(root, 'tsconfig.json'), join(dir, 'tsconfig.json'))
    write('schemas/event.ts', "import { label } from '../apps/labels.js'\nexport const event = label\n")
    write('apps/labels.ts', "import { other } from './other.js'\nexport const label = 'x' + other\n")
    write('apps/other.ts', "import { label } from './labels.js'\nexport const other = () => label\n")
    const { status, output } = cruise(dir, ['schemas', 'apps'])
    assert.notEqual(status, 0, output)
    assert.match(output, /schemas-imports-one-way: schemas\/event\.ts → apps\/labels\.ts/)
    assert.match(output, /no-circular: apps\/labels\.ts/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the project itself imports one way and has no cycles', () => {
  const { status, output } = cruise(root, ['index.ts', 'schemas', 'state', 'topology', 'runtime', 'operators', 'apps'])
  assert.equal(status, 0, output)
})
