/**
 * Issue 14, all cores: `sentinel-streams run --threads 2` on the real broker. Both threads join the
 * application's group and split its four tasks, each with its own state directory; the windowed
 * counts come out exactly once each; the supervisor's /metrics sums both threads' registries and
 * its /ready waits for both; one SIGTERM to the supervisor shuts both threads down cleanly.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { freePort } from '../../../../scripts/launcher/process.js'
import { collectTopic, kafkaBrokers, testKafka, uniqueTopic, waitUntil } from '../../../kafka.js'
import { cleanUp, jsonLines, spawnCli, tempDir, until } from '../../../unit/apps/cli/spawned-cli.js'
import { readyStatus, threadedRunArgs } from './threaded-run.js'

after(cleanUp)

const PARTITIONS = 4
const TENANTS = 16
const MINUTE_0 = Date.parse('2026-01-01T00:00:00.000Z')
const FINAL_COUNTS = 'test/integration/runtime/topologies/final-counts.ts'

async function createTopics(prefix: string, numPartitions: number): Promise<{ input: string; output: string }> {
  const admin = testKafka().admin()
  await admin.connect()
  const topics = { input: uniqueTopic(`${prefix}-in`), output: uniqueTopic(`${prefix}-out`) }
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions })), waitForLeaders: true })
  await admin.disconnect()
  return topics
}

test('--threads 2: two workers split the tasks, results are exact, /metrics sums them, SIGTERM stops both cleanly', { timeout: 240_000 }, async () => {
  const topics = await createTopics('threads', PARTITIONS)
  const applicationId = uniqueTopic('threads-app')
  const stateDir = tempDir()
  const port = await freePort()
  const run = spawnCli(
    'bin',
    threadedRunArgs({
      topologyFile: FINAL_COUNTS,
      brokers: kafkaBrokers(),
      applicationId,
      stateDir,
      threads: 2,
      settings: { commitIntervalMs: 200 },
      metricsPort: port,
      healthPort: port,
    }),
    { env: { INPUT_TOPIC: topics.input, OUTPUT_TOPIC: topics.output } },
  )
  const deadline = Date.now() + 120_000
  let lastReady = await readyStatus(port)
  while (lastReady !== 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200))
    lastReady = await readyStatus(port)
  }
  assert.equal(lastReady, 200, `/ready to answer 200 once both threads run; stderr: ${run.stderr()}`)

  // Each thread's latest assignment: both have tasks, none shared, all four covered.
  const lines = () => jsonLines(run.stderr())
  // The supervisor held both threads until both were ready to join: no assignment came before that,
  // so neither started processing alone to have its tasks revoked as the other joined.
  const barrierAt = lines().findIndex((l) => l.msg === 'every thread is ready: joining the group together')
  const firstAssignmentAt = lines().findIndex((l) => l.msg === 'assignment received')
  assert.ok(barrierAt >= 0 && barrierAt < firstAssignmentAt, `the join barrier opened before the first assignment; stderr: ${run.stderr()}`)
  const latestAssignment = (thread: number): string[] =>
    (lines()
      .filter((l) => l.msg === 'assignment received' && l.thread === thread)
      .at(-1)?.assigned as string[] | undefined) ?? []
  await until(
    () => latestAssignment(0).length > 0 && latestAssignment(1).length > 0 && latestAssignment(0).length + latestAssignment(1).length === PARTITIONS,
    () => `both threads to hold tasks; thread 0: ${latestAssignment(0).join(',')}, thread 1: ${latestAssignment(1).join(',')}`,
    60_000,
  )
  const [zero, one] = [latestAssignment(0), latestAssignment(1)]
  assert.deepEqual([...zero, ...one].sort(), ['0_0', '0_1', '0_2', '0_3'], `disjoint and complete: ${zero} / ${one}`)
  for (const i of [0, 1]) assert.ok(existsSync(join(stateDir, `thread-${i}`, applicationId)), `thread ${i}'s own state directory`)

  // Tenant t goes to partition t % 4, with t + 1 requests in minute 0; a closer per partition at
  // minute 2 moves that task's stream time past the window, so suppress emits the final counts.
  const producer = testKafka().producer()
  await producer.connect()
  const messages: { partition: number; key: string; value: string }[] = []
  for (let t = 0; t < TENANTS; t++) {
    for (let n = 0; n <= t; n++)
      messages.push({
        partition: t % PARTITIONS,
        key: `tenant-${t}`,
        value: JSON.stringify({ tenant_id: `tenant-${t}`, timestamp: new Date(MINUTE_0 + n * 1000).toISOString() }),
      })
  }
  for (let p = 0; p < PARTITIONS; p++)
    messages.push({
      partition: p,
      key: `closer-${p}`,
      value: JSON.stringify({ tenant_id: `closer-${p}`, timestamp: new Date(MINUTE_0 + 120_000).toISOString() }),
    })
  await producer.send({ topic: topics.input, messages })
  await producer.disconnect()

  const output = await collectTopic(topics.output, (v) => v.toString())
  const expected = new Map(Array.from({ length: TENANTS }, (_, t) => [`tenant-${t}@${new Date(MINUTE_0).toISOString()}`, [String(t + 1)]]))
  await waitUntil(
    () => output.byKey.size >= expected.size,
    () => `${expected.size} final counts; have ${output.byKey.size}; stderr tail: ${run.stderr().slice(-2000)}`,
  )
  // A moment for anything extra (a repeat, a closer's window) to show up before comparing.
  await new Promise((r) => setTimeout(r, 1_500))
  await output.stop()
  assert.deepEqual(new Map([...output.byKey].sort()), new Map([...expected].sort()))

  // Both threads did work, and /metrics is their sum: every input record consumed once in total,
  // and four running tasks where each thread runs two.
  const threadsThatRan = new Set(
    lines()
      .filter((l) => l.msg === 'task running')
      .map((l) => l.thread),
  )
  assert.deepEqual([...threadsThatRan].sort(), [0, 1])
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const sample = (name: string): number => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN)
  assert.equal(sample(`sentinel_streams_records_consumed_total{topic="${topics.input}"}`), messages.length, metrics)
  assert.equal(sample('sentinel_streams_tasks{state="running"}'), PARTITIONS, metrics)

  // The group's two members are the two threads, told apart by their client ids' suffixes.
  const groupAdmin = testKafka().admin()
  await groupAdmin.connect()
  const { groups } = await groupAdmin.describeGroups([applicationId])
  await groupAdmin.disconnect()
  assert.deepEqual(groups[0]!.members.map((m) => m.clientId.slice(-3)).sort(), ['-t0', '-t1'], JSON.stringify(groups[0]!.members.map((m) => m.clientId)))

  run.child.kill('SIGTERM')
  assert.equal(await run.exited, 0, run.stderr())
  const shutDown = lines()
    .filter((l) => l.msg === 'shut down cleanly')
    .map((l) => l.thread)
  assert.deepEqual(shutDown.sort(), [0, 1], run.stderr())
  assert.ok(
    lines().some((l) => l.msg === 'every thread has exited' && l.code === 0),
    run.stderr(),
  )
})

test('--threads 2: one Ctrl-C to the process group (supervisor and threads alike) is one clean shutdown of each thread', { timeout: 180_000 }, async () => {
  const topics = await createTopics('threads-int', 2)
  const run = spawnCli(
    'bin',
    threadedRunArgs({ topologyFile: FINAL_COUNTS, brokers: kafkaBrokers(), applicationId: uniqueTopic('threads-int-app'), stateDir: tempDir(), threads: 2 }),
    { env: { INPUT_TOPIC: topics.input, OUTPUT_TOPIC: topics.output } },
  )
  const lines = () => jsonLines(run.stderr())
  const running = (thread: number) => lines().some((l) => l.msg === 'state change' && l.to === 'running' && l.thread === thread)
  await until(
    () => running(0) && running(1),
    () => `both threads to run; stderr: ${run.stderr()}`,
    90_000,
  )
  run.interrupt()
  assert.equal(await run.exited, 0, run.stderr())
  assert.deepEqual(
    lines()
      .filter((l) => l.msg === 'shut down cleanly')
      .map((l) => l.thread)
      .sort(),
    [0, 1],
    run.stderr(),
  )
  assert.ok(!lines().some((l) => l.msg === 'second signal: exiting without a clean shutdown'), run.stderr())
})
