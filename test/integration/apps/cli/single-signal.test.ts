/**
 * Issue 13: one Ctrl-C on a topology running on Kafka is one clean shutdown (services, then the
 * runtime: commit, leave the group), under each launcher a user types: the bin launcher, tsx, npx.
 * The signal goes to the whole process group, as a terminal sends it, so a launcher that relays it
 * (tsx, npm) delivers it a second time.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { kafkaBrokers } from '../../../kafka.js'
import { CLEAN_INTERRUPT_EXIT, cleanUp, jsonLines, type Launcher, spawnCli, tempDir, until } from '../../../unit/apps/cli/spawned-cli.js'

after(cleanUp)

describe('sentinel-streams run on Kafka, one Ctrl-C', () => {
  const launchers: Launcher[] = ['bin', 'tsx', 'npx']
  for (const launcher of launchers) {
    test(`under ${launcher}: running, SIGINT once to the group, a clean shutdown and the launcher's clean exit code`, async () => {
      const settings = join(tempDir(), 'settings.json')
      writeFileSync(settings, JSON.stringify({ createMissingTopics: { partitions: 1 }, commitIntervalMs: 200 }))
      const run = spawnCli(launcher, [
        'run',
        'examples/burst-alerts.ts',
        '--brokers',
        kafkaBrokers().join(','),
        '--application-id',
        `cli-signal-${launcher}-${randomBytes(3).toString('hex')}`,
        '--state-dir',
        tempDir(),
        '--config',
        settings,
      ])
      const running = (): boolean => jsonLines(run.stderr()).some((l) => l.msg === 'state change' && l.to === 'running')
      await until(running, () => `the application to run; stderr: ${run.stderr()}`, 90_000)
      run.interrupt()
      assert.equal(await run.exited, CLEAN_INTERRUPT_EXIT[launcher], run.stderr())
      const messages = jsonLines(run.stderr()).map((l) => l.msg)
      assert.ok(messages.includes('shut down cleanly'), run.stderr())
      assert.ok(!messages.includes('second signal: exiting without a clean shutdown'), run.stderr())
    })
  }
})
