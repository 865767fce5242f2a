/**
 * `sentinel-streams run --threads 1` against `--threads 2`, on workload (a) (the windowed aggregate)
 * over one filled input topic, each run a fresh application reading it from the start:
 *
 *   npx tsx bench/runtime/threads.ts [--events 1000000] [--partitions 4] [--rounds 3] [--threads 1,2]
 *
 * The CLI is spawned as a user runs it, with --health-port; the bench polls the application's
 * committed offsets on the input (commit interval 1 s for both). Two clocks: from /ready turning 200
 * (every thread running, the group settled) to the last input record committed, over the records
 * not committed at that moment, as topology-rate.ts runs from `running`; and from the spawn to the
 * last record (with the process start, the group join and, with threads, the rebalance as
 * the second thread joins). Thread counts alternate within each round, the order rotated per round;
 * each figure is the median over rounds.
 */
// First, as the runtime's entry points: kafkajs must load with the project's replacements.
import '../../runtime/kafka/kafkajs-replacements.js'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import kafkajs, { type Admin } from 'kafkajs'
import { resolveBrokers } from '../../runtime/local-broker.js'
import { freePort } from '../../scripts/launcher/process.js'
import { readyStatus, threadedRunArgs } from '../../test/integration/apps/cli/threaded-run.js'
import { fillTopic } from './input.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1,2' },
  },
})
const events = Number(values.events)
const partitions = Number(values.partitions)
const rounds = Number(values.rounds)
const threadCounts = values.threads.split(',').map(Number)
const brokers = resolveBrokers()
if (!brokers) throw new Error('no broker: run `npm run kafka:start` first, or set KAFKA_BROKERS')

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * Input records the application has committed: the work done, counted once. The records-consumed
 * metric is not used for this: after the rebalance as a second thread joins, records consumed but
 * not committed by the first are consumed again (at-least-once), and the metric counts them twice.
 */
async function committed(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
}

interface ThreadsRun {
  /** Events/s from /ready to the last record, over the records left at /ready. */
  readonly processing: number
  readonly withStart: number
  /** Input records consumed beyond the input (processed again after a rebalance), summed over threads. */
  readonly reprocessed: number
  /** Rebalances the threads saw, summed (each thread counts the group's rebalances it took part in). */
  readonly rebalances: number
}

/** One sample of the supervisor's /metrics (the threads' sum); NaN when absent. */
async function metric(port: number, sample: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return Number(line?.slice(sample.length + 1) ?? NaN)
}

async function runCli(admin: Admin, threads: number, input: string, output: string): Promise<ThreadsRun> {
  const applicationId = `bench-threads-${randomBytes(4).toString('hex')}`
  const stateDir = mkdtempSync(join(tmpdir(), 'sentinel-threads-bench-'))
  const port = await freePort()
  const spawned = performance.now()
  const child = spawn(
    process.execPath,
    [
      'bin/sentinel-streams.js',
      ...threadedRunArgs({
        topologyFile: 'bench/runtime/windowed-aggregate-file.ts',
        brokers: brokers!,
        applicationId,
        stateDir,
        threads,
        settings: { commitIntervalMs: 1_000 },
        healthPort: port,
        metricsPort: port,
        logLevel: 'warn',
      }),
    ],
    { env: { ...process.env, INPUT_TOPIC: input, OUTPUT_TOPIC: output }, stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    let ready: { at: number; committed: number } | undefined
    const deadline = Date.now() + 300_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the CLI exited with ${child.exitCode} before the input was consumed`)
      if (Date.now() > deadline) throw new Error('timed out: the input was not consumed in 5 minutes')
      if (!ready) {
        if ((await readyStatus(port)) === 200) ready = { at: performance.now(), committed: await committed(admin, applicationId, input) }
        if (ready && ready.committed > events / 2) throw new Error(`half the input was committed before /ready (${ready.committed}): use more --events`)
        await new Promise((r) => setTimeout(r, 20))
        continue
      }
      const n = await committed(admin, applicationId, input)
      const now = performance.now()
      if (n >= events) {
        const consumed = await metric(port, `sentinel_streams_records_consumed_total{topic="${input}"}`)
        return {
          processing: (events - ready.committed) / ((now - ready.at) / 1000),
          withStart: events / ((now - spawned) / 1000),
          reprocessed: consumed - events,
          rebalances: await metric(port, 'sentinel_streams_rebalances_total'),
        }
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    child.kill('SIGTERM')
    await exited
    rmSync(stateDir, { recursive: true, force: true })
  }
}

const kafka = new kafkajs.Kafka({ clientId: 'bench-threads', brokers, logLevel: kafkajs.logLevel.NOTHING })
const admin = kafka.admin()
const producer = kafka.producer()
await admin.connect()
await producer.connect()
const input = `bench-threads-in-${randomBytes(4).toString('hex')}`
const output = `bench-threads-out-${randomBytes(4).toString('hex')}`
const results = new Map<number, ThreadsRun[]>(threadCounts.map((t) => [t, []]))
try {
  const produced = await fillTopic(admin, producer, input, events, partitions)
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: output, numPartitions: partitions }] })
  console.log(`input: ${events} events on ${partitions} partitions, produced at ${Math.round(produced)}/s`)
  for (let round = 0; round < rounds; round++) {
    const order = threadCounts.map((_, i) => threadCounts[(i + round) % threadCounts.length]!)
    for (const threads of order) {
      const run = await runCli(admin, threads, input, output)
      results.get(threads)!.push(run)
      console.log(
        `round ${round + 1}, --threads ${threads}: ${Math.round(run.processing)} events/s processing, ${Math.round(run.withStart)} events/s from spawn, ${run.reprocessed} reprocessed, ${run.rebalances} rebalances`,
      )
    }
  }
} finally {
  await producer.disconnect()
  await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined)
  await admin.disconnect()
}
console.log(
  '\n| --threads | events/s, /ready to last commit (median) | events/s, spawn to last commit (median) | runs (processing) | runs (from spawn) | reprocessed records (median) | rebalances seen (median) |\n|---|---|---|---|---|---|---|',
)
for (const [threads, runs] of results) {
  const each = (pick: (r: ThreadsRun) => number): string => runs.map((r) => Math.round(pick(r))).join(', ')
  console.log(
    `| ${threads} | ${Math.round(median(runs.map((r) => r.processing)))} | ${Math.round(median(runs.map((r) => r.withStart)))} | ${each((r) => r.processing)} | ${each((r) => r.withStart)} | ${median(runs.map((r) => r.reprocessed))} | ${median(runs.map((r) => r.rebalances))} |`,
  )
}
const [one, two] = [results.get(1), results.get(2)]
if (one?.length && two?.length)
  console.log(
    `\nTHREADS 2/1 processing=${(median(two.map((r) => r.processing)) / median(one.map((r) => r.processing))).toFixed(2)} withStart=${(median(two.map((r) => r.withStart)) / median(one.map((r) => r.withStart))).toFixed(2)}`,
  )
