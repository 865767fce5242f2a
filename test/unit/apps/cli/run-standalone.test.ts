import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../../', import.meta.url))
const fixture = 'test/unit/apps/cli/fixtures/request-topology.ts'
const input = 'test/unit/apps/cli/fixtures/requests.jsonl'

const dirs: string[] = []
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-standalone-'))
  dirs.push(dir)
  return dir
}
const children: ChildProcess[] = []
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

interface Run {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/** The CLI as a user runs it, without brokers from the environment or a local launcher. */
function cli(args: string[], env: Record<string, string> = {}): Run {
  const { KAFKA_BROKERS: _ignored, ...inherited } = process.env
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/cli/main.ts', ...args], {
    cwd: root,
    env: { ...inherited, SENTINEL_RUN_DIR: tempDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

async function until(condition: () => boolean, what: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const lines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>)

describe('sentinel-streams run, standalone', () => {
  test('--standalone --input --print: prints the topic as JSON lines; services start, and close on SIGTERM before the runtime', async () => {
    const marker = join(tempDir(), 'services.log')
    const run = cli(['run', fixture, '--standalone', '--state-dir', tempDir(), '--input', input, '--key-field', 'id', '--print', 'big-requests', '--', marker])
    await until(() => lines(run.stdout()).length >= 2, () => `two printed records; stdout: ${run.stdout()} stderr: ${run.stderr()}`)
    assert.deepEqual(
      lines(run.stdout()).map(({ topic, key, value, timestamp }) => ({ topic, key, value, timestamp })),
      [
        { topic: 'big-requests', key: 'r2', value: { tenant: 'acme', tokens: 5000, reason: 'tokens > 1000' }, timestamp: 2000 },
        { topic: 'big-requests', key: 'r4', value: { tenant: 'globex', tokens: 2500, reason: 'tokens > 1000' }, timestamp: 4000 },
      ],
    )
    assert.deepEqual(lines(readFileSync(marker, 'utf8')), [{ event: 'started', mode: 'standalone', state: 'running' }])
    run.child.kill('SIGTERM')
    assert.equal(await run.exited, 0, run.stderr())
    // Closed while the runtime still ran (so it could query its store): the acme requests r1, r2, r5.
    assert.deepEqual(lines(readFileSync(marker, 'utf8'))[1], { event: 'closed', state: 'running', acme: 3 })
    assert.match(run.stderr(), /running standalone \(--standalone\)/)
  })

  test('no brokers from anywhere: standalone, said so at start; --exit-after-input ends the run by itself', async () => {
    const marker = join(tempDir(), 'services.log')
    const run = cli(['run', fixture, '--state-dir', tempDir(), '--input', input, '--key-field', 'id', '--print', 'cli-fixture-dlq', '--exit-after-input', '--', marker])
    assert.equal(await run.exited, 0, run.stderr())
    assert.match(run.stderr(), /no Kafka brokers configured: running standalone — embedded log, no scale-out, no crash recovery of in-flight records; pass --brokers to run on Kafka/)
    const [dead, ...more] = lines(run.stdout())
    assert.equal(more.length, 0)
    assert.equal(dead!.value, 'this line is not JSON', 'a non-JSON value prints as its text')
    assert.equal((dead!.headers as Record<string, string>)['sentinel.error.stage'], 'deserialize')
    assert.equal(lines(readFileSync(marker, 'utf8')).at(-1)!.event, 'closed')
  })

  test('--standalone with --brokers is a usage error', async () => {
    const run = cli(['run', fixture, '--standalone', '--brokers', 'localhost:9092'])
    assert.equal(await run.exited, 2)
    assert.match(run.stderr(), /--standalone and --brokers contradict each other/)
  })
})
