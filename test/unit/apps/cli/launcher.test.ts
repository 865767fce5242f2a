/**
 * The command as a user runs it (issue 13): `npx sentinel-streams` in a fresh clone, `--version`,
 * the error messages of common mistakes, `--print` of an Avro topic, and one Ctrl-C giving one clean
 * shutdown under each launcher. Standalone runs only; the Kafka side is test/integration/cli.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { CLEAN_INTERRUPT_EXIT, cleanUp, jsonLines, type Launcher, root, spawnCli, tempDir, until } from './spawned-cli.js'

after(cleanUp)

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
const fixtures = 'test/unit/apps/cli/fixtures'
const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1) ?? ''

describe('sentinel-streams from the repository root', () => {
  test('the bin launcher runs the sources with no build: --help and --version exit 0', async () => {
    const help = spawnCli('bin', ['--help'])
    assert.equal(await help.exited, 0, help.stderr())
    assert.match(help.stdout(), /^Usage: sentinel-streams <command>/)
    const shown = spawnCli('bin', ['--version'])
    assert.equal(await shown.exited, 0, shown.stderr())
    assert.equal(shown.stdout().trim(), version)
  })

  test('npx sentinel-streams --help and --version, as the README prints them', async () => {
    const help = spawnCli('npx', ['--help'])
    assert.equal(await help.exited, 0, help.stderr())
    assert.match(help.stdout(), /^Usage: sentinel-streams <command>/)
    const shown = spawnCli('npx', ['--version'])
    assert.equal(await shown.exited, 0, shown.stderr())
    assert.equal(shown.stdout().trim(), version)
  })
})

describe('sentinel-streams error messages', () => {
  test('a file without a default export: says so, names its exports and the fix', async () => {
    const run = spawnCli('bin', ['describe', `${fixtures}/no-default-export.ts`])
    assert.equal(await run.exited, 2)
    assert.match(run.stderr(), /no-default-export\.ts has no default export \(it exports topology\)\. Add `export default builder\.build\(\)`/)
  })

  test('stream() without serdes: names the call, the fix, and the line of the file', async () => {
    const run = spawnCli('bin', ['describe', `${fixtures}/source-without-serdes.ts`])
    assert.equal(await run.exited, 1)
    assert.equal(
      lastLine(run.stderr()),
      `sentinel-streams: stream('in') needs its serdes: stream('in', { key: Serdes.string(), value: Serdes.json() }) (at ${join(root, fixtures, 'source-without-serdes.ts')}:6:9)`,
    )
  })

  test('an unknown option: names it and the help, quotes balanced; exit 2', async () => {
    const run = spawnCli('bin', ['run', `${fixtures}/request-topology.ts`, '--bogus'])
    assert.equal(await run.exited, 2)
    // The last line: the error line for log readers comes before it (start-failure.test.ts).
    assert.equal(lastLine(run.stderr()), "sentinel-streams: unknown option --bogus for 'run'; see 'sentinel-streams run --help' for the options")
    const missing = spawnCli('bin', ['run', `${fixtures}/request-topology.ts`, '--brokers'])
    assert.equal(await missing.exited, 2)
    assert.equal(lastLine(missing.stderr()), "sentinel-streams: option --brokers needs a value; see 'sentinel-streams run --help'")
  })

  test('a bad --create-missing-topics or --auto-offset-reset: the option, the value and what it takes', async () => {
    const partitions = spawnCli('bin', ['run', `${fixtures}/request-topology.ts`, '--brokers', '127.0.0.1:1', '--create-missing-topics', 'many'])
    assert.equal(await partitions.exited, 2)
    assert.match(partitions.stderr(), /--create-missing-topics needs a partition count from 1 to 10000, got 'many'/)
    const reset = spawnCli('bin', ['run', `${fixtures}/request-topology.ts`, '--brokers', '127.0.0.1:1', '--application-id', 'x', '--auto-offset-reset', 'newest'])
    assert.notEqual(await reset.exited, 0)
    assert.match(reset.stderr(), /autoOffsetReset/)
  })

  test('a dead broker: the reason and the fix are the last line, after the client log lines', async () => {
    const settings = join(tempDir(), 'fast-fail.yaml')
    writeFileSync(settings, 'kafka:\n  connectionTimeout: 300\n  retry: { retries: 1, initialRetryTime: 50 }\n')
    const run = spawnCli('bin', ['run', `${fixtures}/request-topology.ts`, '--brokers', '127.0.0.1:1', '--config', settings])
    assert.equal(await run.exited, 1, run.stderr())
    assert.ok(jsonLines(run.stderr()).length > 0, 'the client logged its connection errors')
    // The client's lines are warnings; the one error line is the CLI's, with the cause and the action.
    const errors = jsonLines(run.stderr()).filter((l) => (l.level as number) >= 50)
    assert.equal(errors.length, 1, run.stderr())
    assert.match(errors[0]!.msg as string, /^failed to start: cannot reach Kafka at 127\.0\.0\.1:1: /)
    assert.equal(errors[0]!.action, 'shut down what had started; exiting with code 1')
    assert.match(lastLine(run.stderr()), /^sentinel-streams: cannot reach Kafka at 127\.0\.0\.1:1: .*Check the brokers \(--brokers or KAFKA_BROKERS\)/)
  })
})

describe('sentinel-streams run --print', () => {
  test("an Avro sink prints as records, decoded with the topology's serde for the topic", async () => {
    const run = spawnCli('bin', [
      'run',
      `${fixtures}/avro-sink-topology.ts`,
      '--standalone',
      '--state-dir',
      tempDir(),
      '--input',
      `${fixtures}/requests.jsonl`,
      '--key-field',
      'id',
      '--print',
      'big-requests-avro',
      '--exit-after-input',
    ])
    assert.equal(await run.exited, 0, run.stderr())
    assert.deepEqual(
      jsonLines(run.stdout()).map(({ key, value, valueEncoding }) => ({ key, value, valueEncoding })),
      [
        { key: 'r2', value: { tenant: 'acme', tokens: 5000 }, valueEncoding: undefined },
        { key: 'r4', value: { tenant: 'globex', tokens: 2500 }, valueEncoding: undefined },
      ],
    )
  })
})

describe('one Ctrl-C, one clean shutdown', () => {
  test('under tsx, with an event loop busy for 200 ms at a time: tsx does not kill it before its clean shutdown', async () => {
    const run = spawnCli('tsx', ['run', `${fixtures}/busy-topology.ts`, '--standalone', '--state-dir', tempDir()], { env: { BUSY_BURST_MS: '200' } })
    await until(() => /busy fixture started/.test(run.stderr()), () => `the fixture to start; stderr: ${run.stderr()}`)
    await new Promise((r) => setTimeout(r, 300))
    run.interrupt()
    assert.equal(await run.exited, 0, run.stderr())
    assert.ok(jsonLines(run.stderr()).some((l) => l.msg === 'shut down cleanly'), run.stderr())
  })

  const launchers: Launcher[] = ['bin', 'tsx', 'npx']
  test('during start (a broker that does not answer): the shutdown it asked for, exit 0, no error line', async () => {
    const settings = join(tempDir(), 'slow-fail.yaml')
    writeFileSync(settings, 'kafka:\n  connectionTimeout: 300\n  retry: { retries: 3, initialRetryTime: 500 }\n')
    const run = spawnCli('bin', ['run', `${fixtures}/request-topology.ts`, '--brokers', '127.0.0.1:1', '--config', settings])
    await until(() => /running on Kafka/.test(run.stderr()), () => `the start; stderr: ${run.stderr()}`)
    await new Promise((r) => setTimeout(r, 500))
    run.interrupt()
    assert.equal(await run.exited, 0, run.stderr())
    assert.ok(jsonLines(run.stderr()).some((l) => l.msg === 'shut down cleanly'), run.stderr())
    assert.doesNotMatch(run.stderr(), /^sentinel-streams: /m)
  })

  for (const launcher of launchers) {
    test(`under ${launcher}: SIGINT to the process group once, a clean shutdown and the launcher's clean exit code`, async () => {
      const marker = join(tempDir(), 'services.log')
      const run = spawnCli(launcher, ['run', `${fixtures}/request-topology.ts`, '--standalone', '--state-dir', tempDir(), '--', marker])
      await until(() => /fixture services started/.test(run.stderr()), () => `services to start; stderr: ${run.stderr()}`)
      run.interrupt()
      assert.equal(await run.exited, CLEAN_INTERRUPT_EXIT[launcher], run.stderr())
      const messages = jsonLines(run.stderr()).map((l) => l.msg)
      assert.ok(messages.includes('shut down cleanly'), run.stderr())
      assert.ok(!messages.includes('second signal: exiting without a clean shutdown'), run.stderr())
      assert.equal(jsonLines(readFileSync(marker, 'utf8')).at(-1)!.event, 'closed', 'the services were closed')
    })
  }
})
