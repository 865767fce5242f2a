/**
 * Runs node's test runner over every `*.test.ts` file under the given directories.
 * Node 20's `--test` neither expands globs nor picks up `.ts` files, hence this small finder.
 * Extra flags after `--` go to node (e.g. `-- --test-name-pattern=window`).
 *
 * Every test process first loads runtime/kafka/kafkajs-replacements.ts, as the runtime's entry points
 * do: a test that imports kafkajs before the runtime would otherwise run on kafkajs' own modules,
 * not the ones the runtime ships with.
 */
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findTests(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) return findTests(path)
      return name.endsWith('.test.ts') ? [path] : []
    })
}

const args = process.argv.slice(2)
const split = args.indexOf('--')
const targets = split === -1 ? args : args.slice(0, split)
const nodeFlags = split === -1 ? [] : args.slice(split + 1)
const files = targets.flatMap((t) => (statSync(t).isDirectory() ? findTests(t) : [t]))
if (files.length === 0) {
  console.error(`no *.test.ts files under ${targets.join(', ')}`)
  process.exit(1)
}
// --test-force-exit: a test file whose tests are all done must not hang CI on a leftover handle
// (a library leak is a bug to fix, but it should fail loudly elsewhere, not stall the run).
const replacements = fileURLToPath(new URL('../runtime/kafka/kafkajs-replacements.ts', import.meta.url))
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--import', replacements, '--test', '--test-force-exit', '--test-reporter=spec', ...nodeFlags, ...files],
  {
    stdio: 'inherit',
  },
)
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
