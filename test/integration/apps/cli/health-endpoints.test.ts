/**
 * Issue 13: `sentinel-streams run --health-port` serves /health and /ready, spawned as a user runs
 * it, on the real broker. /ready is 503 while the instance starts, 200 once it runs, and stays 200
 * through the rebalance a second instance of the application causes (no flapping per rebalance).
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { freePort } from '../../../../scripts/launcher/process.js'
import { kafkaBrokers, testKafka, uniqueTopic } from '../../../kafka.js'
import { cleanUp, jsonLines, spawnCli, tempDir, until } from '../../../unit/apps/cli/spawned-cli.js'

after(cleanUp)

interface Probe {
  readonly status: number
  readonly state: string
}

test('--health-port: /ready 503 while starting, 200 once running and through a rebalance; /health 200', { timeout: 240_000 }, async () => {
  const admin = testKafka().admin()
  await admin.connect()
  const topics = { input: uniqueTopic('health-in'), output: uniqueTopic('health-out') }
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 2 })), waitForLeaders: true })
  await admin.disconnect()
  const applicationId = uniqueTopic('health-app')
  const settings = join(tempDir(), 'settings.json')
  writeFileSync(settings, JSON.stringify({ commitIntervalMs: 200 }))
  const instance = (healthPort: number) =>
    spawnCli('bin', ['run', 'test/integration/runtime/topologies/final-counts.ts', '--brokers', kafkaBrokers().join(','), '--application-id', applicationId, '--state-dir', tempDir(), '--config', settings, '--health-port', String(healthPort)], {
      env: { INPUT_TOPIC: topics.input, OUTPUT_TOPIC: topics.output },
    })
  const port = await freePort()
  const probes: Probe[] = []
  let probing = true
  const probeLoop = (async () => {
    while (probing) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/ready`)
        probes.push({ status: response.status, state: ((await response.json()) as { state: string }).state })
      } catch {
        // not listening yet, or closed
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  })()

  const first = instance(port)
  const stateChanges = (run: typeof first) => jsonLines(run.stderr()).filter((l) => l.msg === 'state change').map((l) => l.to)
  await until(() => stateChanges(first).includes('running'), () => `the first instance to run; stderr: ${first.stderr()}`, 90_000)
  await until(() => probes.some((p) => p.status === 200), () => `/ready to answer 200; probes: ${JSON.stringify(probes.slice(-5))}`)
  const health = await fetch(`http://127.0.0.1:${port}/health`)
  assert.equal(health.status, 200)

  const second = instance(await freePort())
  await until(() => stateChanges(second).includes('running'), () => `the second instance to run; stderr: ${second.stderr()}`, 90_000)
  const runningAgain = (): boolean => stateChanges(first).lastIndexOf('running') > stateChanges(first).lastIndexOf('rebalancing') && stateChanges(first).includes('rebalancing')
  await until(runningAgain, () => `the first instance to rebalance and run again; its states: ${stateChanges(first).join(', ')}`, 60_000)
  probing = false
  await probeLoop

  const firstReady = probes.findIndex((p) => p.status === 200)
  assert.ok(firstReady > 0 && probes.slice(0, firstReady).every((p) => p.status === 503), `503 before running: ${JSON.stringify(probes.slice(0, firstReady + 1))}`)
  const afterRunning = probes.slice(firstReady)
  assert.deepEqual(afterRunning.filter((p) => p.status !== 200), [], 'no 503 once it had run, through the rebalance')
  // The probes can all miss a rebalance of ~100-200 ms; the instance's readiness line at each state
  // change cannot, so that is where "ready through the rebalance" is checked.
  const readiness = jsonLines(first.stderr()).filter((l) => l.msg === 'readiness') as unknown as { ready: boolean; state: string }[]
  const sinceReady = readiness.slice(readiness.findIndex((r) => r.ready))
  assert.ok(sinceReady.some((r) => r.state === 'rebalancing'), `a readiness line during the rebalance after running: ${JSON.stringify(readiness)}`)
  assert.deepEqual(sinceReady.filter((r) => !r.ready), [], 'ready at every state change once it had run')
  assert.ok(stateChanges(first).filter((s) => s === 'rebalancing').length >= 2, `the first instance went through a rebalance after running: ${stateChanges(first).join(', ')}`)

  second.interrupt()
  first.interrupt()
  assert.equal(await first.exited, 0, first.stderr())
  assert.equal(await second.exited, 0, second.stderr())
})
