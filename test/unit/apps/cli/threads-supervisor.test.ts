/**
 * The `--threads` supervisor with real worker processes, no broker needed: a crashed thread is
 * restarted after the first backoff, a thread's usage error ends the whole run with exit code 2,
 * and what cannot run threaded is refused before any worker starts.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { cleanUp, jsonLines, spawnCli, tempDir } from './spawned-cli.js'

after(cleanUp)

test('--threads 2: a crashed thread is restarted after 1 s; its usage error on the restart ends the run with 2', { timeout: 60_000 }, async () => {
  const crashDir = tempDir()
  const run = spawnCli(
    'bin',
    ['run', 'test/unit/apps/cli/fixtures/crash-then-bad-topology.ts', '--brokers', '127.0.0.1:1', '--state-dir', tempDir(), '--threads', '2'],
    {
      env: { CRASH_DIR: crashDir },
    },
  )
  assert.equal(await run.exited, 2, run.stderr())
  const restarts = jsonLines(run.stderr()).filter((l) => l.msg === 'thread crashed: restarting it')
  assert.ok(restarts.length >= 1, run.stderr())
  for (const restart of restarts) assert.deepEqual([restart.code, restart.restartInMs, restart.quickCrashes], [3, 1_000, 1])
  assert.ok(
    jsonLines(run.stderr()).some((l) => l.msg === 'stopping every thread' && l.reason === 'a thread stopped on a configuration or usage error'),
    run.stderr(),
  )
  // The thread that ended the run had started twice: the crash, then the restart.
  const starts = [0, 1].map((i) => {
    try {
      return Number(readFileSync(join(crashDir, `starts-${i}`), 'utf8'))
    } catch {
      return 0
    }
  })
  assert.ok(starts.includes(2), `starts per thread: ${starts.join(', ')}`)
})

test('--threads is refused with --standalone, with --input, and when not a count', async () => {
  const cases: [string[], RegExp][] = [
    [['--standalone', '--threads', '2'], /--threads runs on Kafka only/],
    [['--brokers', '127.0.0.1:1', '--threads', '2', '--input', 'x.jsonl'], /--input feeds its topic once/],
    [['--threads', 'many'], /--threads needs a count from 1 to 64 or 'auto'/],
  ]
  for (const [args, message] of cases) {
    const run = spawnCli('bin', ['run', 'test/unit/apps/cli/fixtures/busy-topology.ts', ...args])
    assert.equal(await run.exited, 2, run.stderr())
    assert.match(run.stderr(), message)
  }
})
