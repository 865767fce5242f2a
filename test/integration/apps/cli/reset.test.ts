/**
 * Issue 13: `sentinel-streams reset` on the real broker, spawned as a user runs it. An application
 * runs through the CLI and commits; reset refuses while it runs, a dry run changes nothing, and a
 * reset to a point in time deletes the internal topics, moves the committed offsets to the first
 * record at or after that time, and removes the state directory; the dead-letter topic stays.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { kafkaBrokers, testKafka, uniqueTopic } from '../../../kafka.js'
import { cleanUp, spawnCli, tempDir } from '../../../unit/apps/cli/spawned-cli.js'
import { startInstance } from '../../runtime/cli-instance.js'

after(cleanUp)

const HOUR = 3_600_000
const T0 = Date.parse('2026-03-01T10:00:00Z')

async function reset(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = spawnCli('bin', ['reset', '--brokers', kafkaBrokers().join(','), ...args])
  const code = await cli.exited
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}

test('reset: refused while running; a dry run changes nothing; a reset to a date-time deletes internal topics, moves offsets, removes state', { timeout: 240_000 }, async () => {
  const kafka = testKafka()
  const admin = kafka.admin()
  await admin.connect()
  const applicationId = uniqueTopic('reset-cli')
  const topics = { input: uniqueTopic('reset-cli-in'), output: uniqueTopic('reset-cli-out') }
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 2 })), waitForLeaders: true })
  const producer = kafka.producer()
  await producer.connect()
  // Partition 0: two records at T0, one an hour later; partition 1: one at T0, two an hour later.
  const at = (partition: number, ms: number, tenant: string) => ({
    topic: topics.input,
    messages: [{ partition, key: tenant, timestamp: String(ms), value: JSON.stringify({ tenant_id: tenant, timestamp: new Date(ms).toISOString() }) }],
  })
  for (const [partition, ms, tenant] of [[0, T0, 'a'], [0, T0, 'a'], [0, T0 + HOUR, 'a'], [1, T0, 'b'], [1, T0 + HOUR, 'b'], [1, T0 + HOUR, 'b']] as const) {
    await producer.send(at(partition, ms, tenant))
  }
  await producer.disconnect()

  const stateDir = tempDir('reset-state-')
  const instance = startInstance({
    topologyFile: 'test/integration/runtime/topologies/final-counts.ts',
    applicationId,
    stateDir,
    env: { INPUT_TOPIC: topics.input, OUTPUT_TOPIC: topics.output },
    settings: { commitIntervalMs: 200 },
  })
  const committed = async (): Promise<number[]> =>
    ((await admin.fetchOffsets({ groupId: applicationId, topics: [topics.input] }))[0]?.partitions ?? []).sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset))
  try {
    await instance.waitForLog((l) => l.msg === 'state change' && l.to === 'running', 90_000)
    // Generous: on a loaded machine (load average 20+) one run took over a minute to commit.
    const deadline = Date.now() + 120_000
    while ((await committed()).join() !== '3,3' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250))
    assert.deepEqual(await committed(), [3, 3], 'the application committed all six records')

    const refused = await reset('--application-id', applicationId, '--state-dir', stateDir)
    assert.equal(refused.code, 1, refused.stderr)
    assert.match(refused.stderr, /still has 1 running instance.*Stop every instance first/s)
  } finally {
    instance.kill('SIGTERM')
  }
  assert.equal(await instance.exited, 0)

  const changelogs = [`${applicationId}-final-counts-store-changelog`, `${applicationId}-final-counts-suppress-store-changelog`]
  const existing = async (): Promise<string[]> => (await admin.listTopics()).filter((t) => t.startsWith(`${applicationId}-`)).sort()
  const before = await existing()
  for (const topic of [...changelogs, `${applicationId}-dlq`]) assert.ok(before.includes(topic), `${topic} in ${before.join(', ')}`)
  const appStateDir = join(stateDir, applicationId)
  assert.ok(existsSync(appStateDir))

  const dryRun = await reset('--application-id', applicationId, '--state-dir', stateDir, '--dry-run')
  assert.equal(dryRun.code, 0, dryRun.stderr)
  for (const topic of changelogs) assert.ok(dryRun.stdout.includes(`  ${topic}\n`), dryRun.stdout)
  assert.ok(dryRun.stdout.includes(`  ${topics.input}[0]: 3 -> 0\n  ${topics.input}[1]: 3 -> 0`), dryRun.stdout)
  assert.ok(dryRun.stdout.includes(`remove local state: ${appStateDir}`), dryRun.stdout)
  assert.match(dryRun.stdout, /dry run: nothing changed/)
  assert.deepEqual(await existing(), before, 'a dry run deletes no topic')
  assert.deepEqual(await committed(), [3, 3], 'a dry run moves no offset')
  assert.ok(existsSync(appStateDir), 'a dry run keeps the state')

  const halfPast = new Date(T0 + HOUR / 2).toISOString()
  const done = await reset('--application-id', applicationId, '--state-dir', stateDir, '--to', halfPast)
  assert.equal(done.code, 0, done.stderr)
  assert.match(done.stdout, /reset done/)
  assert.deepEqual(await committed(), [2, 1], 'each partition at its first record at or after the date-time')
  assert.deepEqual(await existing(), [`${applicationId}-dlq`], 'internal topics deleted, the dead-letter topic kept')
  assert.ok(!existsSync(appStateDir), 'state directory removed')

  const again = await reset('--application-id', applicationId, '--input-topics', topics.input, '--to', 'latest')
  assert.equal(again.code, 0, again.stderr)
  assert.deepEqual(await committed(), [3, 3], '--to latest: past every record')
  await admin.disconnect()
})
