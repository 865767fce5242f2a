/**
 * A `run` that cannot start logs one pino error line (level 50) with the cause and the action, then
 * exits non-zero, whatever failed (issue 18: a soak instance once exited 1 at start with no JSON line
 * saying why). The plain `sentinel-streams: <cause>` line stays last, for a person reading it.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, describe, test } from 'node:test'
import pino from 'pino'
import { ConfigError } from '../../../../runtime/config.js'
import { withoutSecrets } from '../../../../apps/cli/start-failure.js'
import { cleanUp, jsonLines, type SpawnedCli, spawnCli, tempDir } from './spawned-cli.js'

after(cleanUp)

const fixtures = 'test/unit/apps/cli/fixtures'
const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1) ?? ''

/** The one error-level line of the run: fails when there is none, or more than one. */
function theErrorLine(run: SpawnedCli): Record<string, unknown> & { err: Record<string, unknown> } {
  const errors = jsonLines(run.stderr()).filter((l) => typeof l.level === 'number' && l.level >= 50)
  assert.equal(errors.length, 1, `one error-level line; stderr:\n${run.stderr()}`)
  assert.equal(errors[0]!.level, 50)
  return errors[0] as Record<string, unknown> & { err: Record<string, unknown> }
}

describe('sentinel-streams run: a failed start is one error line, then a non-zero exit', () => {
  test('a misspelled setting in --config: ConfigError naming the field and the fix; exit 2; the plain line last', async () => {
    const settings = join(tempDir(), 'settings.yaml')
    writeFileSync(settings, 'comitIntervalMs: 100\n')
    const run = spawnCli('bin', ['run', `${fixtures}/request-topology.ts`, '--standalone', '--state-dir', tempDir(), '--config', settings])
    assert.equal(await run.exited, 2, run.stderr())
    const line = theErrorLine(run)
    assert.equal(line.err.type, 'ConfigError')
    assert.equal(line.err.field, 'comitIntervalMs')
    assert.match(line.msg as string, /^failed to start: invalid config 'comitIntervalMs': is not a setting\. Did you mean 'commitIntervalMs'\?/)
    assert.equal(line.exitCode, 2)
    assert.equal(line.action, 'nothing was started; exiting with code 2')
    assert.match(lastLine(run.stderr()), /^sentinel-streams: invalid config 'comitIntervalMs': is not a setting\. Did you mean 'commitIntervalMs'\?/)
  })

  test('a flag the parser refuses, before a log level is known: the same line, at the default level', async () => {
    const run = spawnCli('bin', ['run', `${fixtures}/request-topology.ts`, '--log-level', 'warn', '--bogus'])
    assert.equal(await run.exited, 2, run.stderr())
    const line = theErrorLine(run)
    assert.equal(line.err.type, 'UsageError')
    assert.equal(line.msg, "failed to start: unknown option --bogus for 'run'; see 'sentinel-streams run --help' for the options")
  })

  test('a topology file that throws as it loads: its error, exit 1', async () => {
    const run = spawnCli('bin', ['run', `${fixtures}/throws-on-load-topology.ts`, '--standalone', '--state-dir', tempDir()])
    assert.equal(await run.exited, 1, run.stderr())
    const line = theErrorLine(run)
    assert.equal(line.err.message, 'cannot read detectors.yaml: ENOENT (the fixture throws on load)')
    assert.match(line.err.stack as string, /throws-on-load-topology\.ts:4/)
    assert.equal(line.msg, 'failed to start: cannot read detectors.yaml: ENOENT (the fixture throws on load)')
    assert.equal(line.action, 'nothing was started; exiting with code 1')
    assert.equal(lastLine(run.stderr()), 'sentinel-streams: cannot read detectors.yaml: ENOENT (the fixture throws on load)')
  })

  test("the file's services fail to start: the topology is closed first, then the one error line", async () => {
    // The fixture's services need a marker file after `--`; without one they throw.
    const run = spawnCli('bin', ['run', `${fixtures}/request-topology.ts`, '--standalone', '--state-dir', tempDir()])
    assert.equal(await run.exited, 1, run.stderr())
    const line = theErrorLine(run)
    assert.equal(line.msg, 'failed to start: the fixture services need a marker file: -- <file>')
    assert.equal(line.action, 'shut down what had started; exiting with code 1')
    const messages = jsonLines(run.stderr()).map((l) => l.msg)
    assert.ok(messages.indexOf('shut down') < messages.indexOf(line.msg), run.stderr())
  })

  test('an error nothing catches, thrown during the start: one line, exit 1', async () => {
    const run = spawnCli('bin', ['run', `${fixtures}/uncaught-during-start-topology.ts`, '--standalone', '--state-dir', tempDir()])
    assert.equal(await run.exited, 1, run.stderr())
    const line = theErrorLine(run)
    assert.equal(line.err.message, 'a timer of the fixture threw')
    assert.match(line.msg as string, /uncaught error: a timer of the fixture threw$/)
    assert.match(line.action as string, /^exiting with code 1 without a clean shutdown/)
  })
})

describe('the error as logged', () => {
  test("keeps type, message, stack, code, a ConfigError's field and the causes; drops other properties and URL credentials", () => {
    const cause = Object.assign(new Error('GET https://svc:hunter2@registry:8081/subjects failed'), { code: 'ECONNREFUSED' })
    const error = Object.assign(new ConfigError('schemaRegistryUrl', 'cannot reach the registry', 'Check the URL.'), {
      cause,
      code: 'REGISTRY_DOWN',
      config: { auth: { username: 'svc', password: 'hunter2' } },
      sasl: { mechanism: 'plain', username: 'svc', password: 'hunter2' },
    })
    let written = ''
    const logger = pino(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          written += chunk.toString()
          done()
        },
      }),
    )
    logger.error({ err: withoutSecrets(error) }, 'failed')
    assert.doesNotMatch(written, /hunter2/)
    const err = (JSON.parse(written) as { err: Record<string, unknown> }).err
    assert.equal(err.type, 'ConfigError')
    assert.equal(err.field, 'schemaRegistryUrl')
    assert.equal(err.code, 'REGISTRY_DOWN')
    assert.equal(err.config, undefined)
    assert.equal(err.sasl, undefined)
    assert.match(err.message as string, /cannot reach the registry\. Check the URL\.: GET https:\/\/\[redacted\]@registry:8081\/subjects failed$/)
    assert.match(err.stack as string, /caused by: Error: GET https:\/\/\[redacted\]@registry:8081/)
    assert.equal(withoutSecrets('a thrown string').message, 'a thrown string')
  })
})
