/**
 * The cost of an eager rebalance (issue 16, item 7): two instances (CLI processes) run a count per
 * key on a topic with `--partitions` partitions under a steady load of `--rate` records/s; after
 * `--warmup` seconds a third instance starts. kafkajs rebalances eagerly, so every member gives up
 * every task and waits for the others to rejoin: the bench measures the pause each existing instance
 * sees, how the group's records/s dip, and how soon the new instance processes its first record.
 *
 * Each output record carries the instance that processed it and when (`count-topology.ts` with
 * STAMP_INSTANCE; forwarding cache off, so a record is forwarded when it is processed), so the
 * timeline comes from the output topic; the instances' logs give when each learnt of the rebalance
 * and got its assignment. `--repetitions` runs, each on new topics and a new group; medians.
 *
 * Needs the local broker (`npm run --silent kafka:start`) or KAFKA_BROKERS.
 * Run: npx tsx bench/rebalance/rebalance.ts [--rate 2000] [--partitions 6] [--repetitions 3]
 *   [--warmup 20] [--after 20] [--keys 10000] [--out bench/rebalance/out]
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Admin, Kafka } from 'kafkajs'
import type { CliInstance, LogLine } from '../../test/integration/runtime/cli-instance.js'
import { readTextValues, testKafka } from '../../test/kafka.js'
import { assignedTasks, COUNT_TOPOLOGY_FILE, InstanceGroup, loggedSince } from '../cli-group/instance-group.js'
import { SteadyLoad } from '../load/steady-load.js'
import { bucketCounts, rebalanceFigures, type Processed, type RebalanceFigures } from './rebalance-timeline.js'
import { rebalanceReport } from './rebalance-report.js'

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    partitions: { type: 'string', default: '6' },
    repetitions: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '20' },
    after: { type: 'string', default: '20' },
    keys: { type: 'string', default: '10000' },
    out: { type: 'string', default: 'bench/rebalance/out' },
  },
})
const RATE = Number(args.rate)
const PARTITIONS = Number(args.partitions)
const REPETITIONS = Number(args.repetitions)
const WARMUP_MS = Number(args.warmup) * 1000
const AFTER_MS = Number(args.after) * 1000
const KEYS = Number(args.keys)
const OUT = args.out!
const BUCKET_MS = 100
/** The runtime's defaults but for the forwarding cache (off: a record's output says when it was processed). */
const SETTINGS = { forwardingCacheMaxEntries: 0, commitIntervalMs: 1_000 }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const kafka: Kafka = testKafka('rebalance-bench')
const admin: Admin = kafka.admin()

const stateChange = (to: string) => (l: LogLine) => l.msg === 'state change' && l.to === to
const timeOf = (instance: CliInstance, predicate: (l: LogLine) => boolean): number | undefined => {
  const line = instance.logs.find(predicate)
  return line === undefined ? undefined : Number(line.time)
}

async function repetition(n: number): Promise<RebalanceFigures> {
  const id = `rebalance-bench-${n}-${randomBytes(3).toString('hex')}`
  const progress = (what: string): void => console.error(`repetition ${n}: ${what}`)
  const topics = { input: `${id}-in`, output: `${id}-out` }
  const group = new InstanceGroup({
    admin,
    applicationId: id,
    topologyFile: COUNT_TOPOLOGY_FILE,
    topics: [
      { topic: topics.input, numPartitions: PARTITIONS },
      { topic: topics.output, numPartitions: PARTITIONS },
    ],
    env: { INPUT_TOPIC: topics.input, OUTPUT_TOPIC: topics.output },
    settings: SETTINGS,
  })
  let key = 0
  const load = new SteadyLoad(kafka, topics.input, RATE, (count) => Array.from({ length: count }, () => ({ key: `key-${key++ % KEYS}`, value: 'x' })))
  try {
    await group.createTopics()
    const a = group.launch({ STAMP_INSTANCE: 'a' })
    await a.waitForLog(stateChange('running'), 120_000)
    const b = group.launch({ STAMP_INSTANCE: 'b' })
    const half = Math.floor(PARTITIONS / 2)
    for (const instance of [a, b]) {
      const assignment = await instance.waitForLog(assignedTasks(instance === a ? PARTITIONS - half : half), 120_000)
      await instance.waitForLog(loggedSince(Number(assignment.time), stateChange('running')), 120_000)
    }
    let died = group.exitedEarly('the bench ran')
    progress(`a and b running ${half} tasks each; offering ${RATE} records/s for ${WARMUP_MS / 1000} s`)
    await load.start()
    await Promise.race([died, sleep(WARMUP_MS)])

    const joinAt = Date.now()
    const c = group.launch({ STAMP_INSTANCE: 'c' })
    died = group.exitedEarly('the bench ran')
    progress('c started')
    await Promise.race([
      died,
      Promise.all([c.waitForLog(stateChange('running'), 120_000), ...[a, b].map((i) => i.waitForLog(loggedSince(joinAt, stateChange('running')), 120_000))]),
    ])
    progress(`all three running again; ${AFTER_MS / 1000} s more`)
    await Promise.race([died, sleep(AFTER_MS)])
    const endAt = Date.now()
    await load.stop()
    if (load.skipped > 0 || load.failedSends > 0) progress(`load: ${load.skipped} records skipped, ${load.failedSends} failed sends (${load.lastError})`)
    await Promise.race([died, group.waitForCommitted(topics.input, 60_000)])

    const instances = { a, b, c }
    const marks = {
      joinAt,
      endAt,
      existing: ['a', 'b'],
      newInstance: 'c',
      rebalanceStartAt: {} as Record<string, number>,
      assignedAt: {} as Record<string, number>,
    }
    for (const [name, instance] of Object.entries(instances)) {
      const started = timeOf(instance, loggedSince(joinAt, stateChange('rebalancing')))
      const assigned = timeOf(
        instance,
        loggedSince(joinAt, (l) => l.msg === 'assignment received'),
      )
      if (started !== undefined && name !== 'c') marks.rebalanceStartAt[name] = started
      if (assigned !== undefined) marks.assignedAt[name] = assigned
    }
    const ends = await admin.fetchTopicOffsets(topics.output)
    const total = ends.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0)
    const processed: Processed[] = (await readTextValues(topics.output, total)).map((v) => {
      const { instance, processedAt } = JSON.parse(v) as { instance: string; processedAt: number }
      return { instance, at: processedAt }
    })
    progress(`read ${processed.length} output records of ${total}`)
    const figures = rebalanceFigures(processed, marks)
    const from = joinAt - WARMUP_MS
    const csv = ['ms_from_warmup_start,a,b,c', ...bucketCounts(processed, ['a', 'b', 'c'], from, endAt, BUCKET_MS).map((row) => row.join(','))]
    writeFileSync(join(OUT, `timeline-${n}.csv`), `${csv.join('\n')}\n`)
    writeFileSync(join(OUT, `marks-${n}.json`), `${JSON.stringify({ ...marks, figures, loadSkipped: load.skipped }, null, 2)}\n`)
    return figures
  } finally {
    await load.stop().catch(() => undefined)
    await group.close()
  }
}

mkdirSync(OUT, { recursive: true })
await admin.connect()
try {
  const runs: RebalanceFigures[] = []
  const loadBefore = loadavg()[0]!
  for (let n = 1; n <= REPETITIONS; n++) {
    const figures = await repetition(n)
    console.error(JSON.stringify(figures))
    runs.push(figures)
  }
  const report = rebalanceReport(runs, {
    rate: RATE,
    partitions: PARTITIONS,
    warmupS: WARMUP_MS / 1000,
    afterS: AFTER_MS / 1000,
    loadAverage: [loadBefore, loadavg()[0]!],
    date: new Date().toISOString().slice(0, 10),
  })
  writeFileSync(join(OUT, 'RESULTS.md'), report)
  console.log(report)
} finally {
  await admin.disconnect()
}
