/**
 * Failover time with and without a standby replica: two instances (separate processes, through the
 * CLI) share a count-per-key topology on 2 partitions; each task's store holds half of `--records`
 * distinct keys. Instance A is SIGKILLed; the clock runs from the kill to the first output record of
 * A's task on B (a probe record sent to A's partition right after the kill). Broken down with B's
 * logs into: detection (the group noticing A is gone: the session timeout), restore (B's task from
 * its assignment to running; the records it replayed) and the rest (fetch, process, commit, output).
 *
 * Needs the local broker (`npm run --silent kafka:start`) or KAFKA_BROKERS.
 * Run: npx tsx bench/failover/failover.ts [--records 1000000] [--standbys 0,1] [--load-rate 10000] [--session-timeout 20000]
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { Admin, Kafka } from 'kafkajs'
import { TaskCheckpoint } from '../../state/index.js'
import { testKafka } from '../../test/kafka.js'
import { assignedTasks, COUNT_TOPOLOGY_FILE, InstanceGroup } from '../cli-group/instance-group.js'
import { fmt } from '../state/stats.js'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]!
}
const RECORDS = Number(arg('records', '1000000'))
const STANDBYS = arg('standbys', '0,1').split(',').map(Number)
/**
 * Records/s at which the state is loaded; 0: as fast as the producer goes. With a 6 s session
 * timeout, loading 1M records (at full speed, and paced at 20K/s) on the loaded 2-core machine
 * failed: commits grew to several seconds as the stores grew, a batch and its commit outlasted the
 * session timeout (kafkajs heartbeats between batches only), the member was evicted, its next commit
 * failed with UNKNOWN_MEMBER_ID and the instance stopped (README.md). Paced at 10K/s with a 20 s
 * session timeout, it loads.
 */
const LOAD_RATE = Number(arg('load-rate', '10000'))
/**
 * Detection, the largest part of failover, is this timeout. 6000 (the broker's minimum) evicted a
 * loading member at 1M records on the loaded machine (see LOAD_RATE), so the default is 20 s.
 */
const SESSION_TIMEOUT_MS = Number(arg('session-timeout', '20000'))
const STORE = 'counts'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const kafka: Kafka = testKafka('failover-bench')
const admin: Admin = kafka.admin()

interface ArmResult {
  standbys: number
  failoverMs: number
  detectionMs: number
  restoreMs: number
  restored: number
  restOfItMs: number
  loadSeconds: number
}

async function produceKeys(topic: string, count: number): Promise<void> {
  const producer = kafka.producer()
  await producer.connect()
  const CHUNK = 5_000
  const began = Date.now()
  for (let i = 0; i < count; i += CHUNK) {
    if (LOAD_RATE > 0) await sleep(began + (i / LOAD_RATE) * 1000 - Date.now())
    const messages = []
    for (let j = i; j < Math.min(count, i + CHUNK); j++) messages.push({ key: `key-${j}`, value: 'x', partition: j % 2 })
    await producer.send({ topic, messages })
  }
  await producer.disconnect()
}

async function waitForStandby(stateDir: string, applicationId: string, task: string): Promise<void> {
  const partition = Number(task.split('_')[1])
  for (;;) {
    const end = Number((await admin.fetchTopicOffsets(`${applicationId}-${STORE}-store-changelog`)).find((o) => o.partition === partition)!.high)
    const at = (await TaskCheckpoint.read(join(stateDir, applicationId, task))).offset(`${STORE}-store`) ?? 0
    if (at >= end) return
    await sleep(250)
  }
}

async function arm(standbys: number): Promise<ArmResult> {
  const id = `failover-bench-${standbys}-${randomBytes(3).toString('hex')}`
  const progress = (what: string): void => console.error(`standbys ${standbys}: ${what}`)
  const topics = { input: `${id}-in`, output: `${id}-out` }
  const group = new InstanceGroup({
    admin,
    applicationId: id,
    topologyFile: COUNT_TOPOLOGY_FILE,
    topics: [
      { topic: topics.input, numPartitions: 2 },
      { topic: topics.output, numPartitions: 2 },
    ],
    env: { INPUT_TOPIC: topics.input, OUTPUT_TOPIC: topics.output },
    settings: { numStandbyReplicas: standbys, sessionTimeoutMs: SESSION_TIMEOUT_MS, commitIntervalMs: 1_000 },
  })
  try {
    await group.createTopics()
    progress('topics created, starting instances')
    const a = group.launch()
    await a.waitForLog((l) => l.msg === 'state change' && l.to === 'running')
    const b = group.launch()
    const [task] = (await a.waitForLog(assignedTasks(1))).assigned as string[]
    await b.waitForLog(assignedTasks(1))
    const began = Date.now()
    progress(`both instances running; producing ${fmt(RECORDS)} keys`)
    const died = group.exitedEarly('loading')
    await produceKeys(topics.input, RECORDS)
    progress('produced; waiting for the group to commit them')
    await Promise.race([
      died,
      (async () => {
        await group.waitForCommitted(topics.input)
        if (standbys > 0) await waitForStandby(group.stateDirs[1]!, id, task!)
      })(),
    ])
    const loadSeconds = (Date.now() - began) / 1000
    progress(`${fmt(RECORDS)} keys loaded and committed${standbys > 0 ? ', standby caught up,' : ''} in ${loadSeconds.toFixed(0)} s`)

    // The probe's output is read from the output's end: a reader that has joined before the kill.
    const reader = kafka.consumer({ groupId: `${id}-reader` })
    let probeSeen: (at: number) => void = () => undefined
    const probeOut = new Promise<number>((resolve) => (probeSeen = resolve))
    const joined = new Promise<void>((resolve) => reader.on(reader.events.GROUP_JOIN, () => resolve()))
    await reader.connect()
    await reader.subscribe({ topic: topics.output, fromBeginning: false })
    await reader.run({ eachMessage: async ({ message }) => (String(message.key) === 'probe' ? probeSeen(Date.now()) : undefined) })
    await joined
    await sleep(1_000)

    const partition = Number(task!.split('_')[1])
    const killedAt = Date.now()
    a.kill('SIGKILL')
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: topics.input, messages: [{ key: 'probe', value: 'x', partition }] })
    await producer.disconnect()
    const outputAt = await probeOut
    const assignment = await b.waitForLog(assignedTasks(2), 60_000)
    const runningLine = await b.waitForLog((l) => l.msg === 'task running' && l.task === task && Number(l.time) >= killedAt, 60_000)
    await reader.disconnect()
    b.kill('SIGTERM')
    await b.exited
    return {
      standbys,
      failoverMs: outputAt - killedAt,
      detectionMs: Number(assignment.time) - killedAt,
      restoreMs: Number(runningLine.time) - Number(assignment.time),
      restored: Number(runningLine.restored),
      restOfItMs: outputAt - Number(runningLine.time),
      loadSeconds,
    }
  } finally {
    await group.close()
  }
}

await admin.connect()
try {
  const results: ArmResult[] = []
  for (const standbys of STANDBYS) {
    const result = await arm(standbys)
    console.error(JSON.stringify(result))
    results.push(result)
  }
  console.log(
    `| numStandbyReplicas | kill → first output of the moved task | detection (session timeout ${SESSION_TIMEOUT_MS / 1000} s) | restore | records restored | fetch, process, commit, output |`,
  )
  console.log('|---:|---:|---:|---:|---:|---:|')
  for (const r of results) {
    console.log(
      `| ${r.standbys} | ${(r.failoverMs / 1000).toFixed(1)} s | ${(r.detectionMs / 1000).toFixed(1)} s | ${(r.restoreMs / 1000).toFixed(1)} s | ${fmt(r.restored)} | ${(r.restOfItMs / 1000).toFixed(1)} s |`,
    )
  }
} finally {
  await admin.disconnect()
}
