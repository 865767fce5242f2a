/**
 * The fault suite (issue 18): a 3-broker cluster, three instances of test/chaos/topology.ts under a
 * steady load, one fault per scenario, then a read_committed check of every output against the
 * input. One line per scenario and mode:
 *
 *   CHAOS <scenario> mode=<eos|alos> lost=<n> dup=<n> wrong=<n> recovered_in_s=<x>
 *
 *   SENTINEL_RUN_DIR=/tmp/run-<you> npm run chaos                 # every scenario, both modes
 *   SENTINEL_RUN_DIR=/tmp/run-<you> npm run chaos -- --short      # leader kill + rebalance storm, exactly-once
 *   npm run chaos -- --scenario leader-kill --mode eos          # one
 *
 * Starts a 3-node cluster in SENTINEL_RUN_DIR (or reuses the one running there) and stops it at the
 * end if it started it. Exits 1 if any scenario broke its guarantee.
 */
// First: the load producer sends through the corrected kafkajs send, as the runtime does.
import '../../runtime/kafka/kafkajs-send-messages.js'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { readLocalBroker } from '../../runtime/local-broker.js'
import { startBroker, startNode, stopBroker } from '../../scripts/kafka-broker.js'
import { isAlive } from '../../scripts/launcher/process.js'
import { startInstance, type CliInstance } from '../integration/runtime/cli-instance.js'
import { TempStateDirs } from '../integration/runtime/request-fixtures.js'
import { ChaosLoad } from './load.js'
import { lag, positions, waitForRecovery } from './progress.js'
import { createTopicsOnEveryBroker, waitForFullIsr } from './cluster-topics.js'
import { scenarios, type ScenarioContext } from './scenarios.js'
import { dumpTopic } from './topic-dump.js'
import { CHAOS_GRACE_MS, CHAOS_WINDOW_MS, type ChaosRecord, type ChaosTotal } from './topology.js'
import { judge, passes, type ChaosMode } from './verdict.js'

const { values: args } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    scenario: { type: 'string', multiple: true },
    mode: { type: 'string', multiple: true },
    rate: { type: 'string', default: '200' },
  },
})
if (!process.env.SENTINEL_RUN_DIR) {
  console.error('set SENTINEL_RUN_DIR to a directory of your own: the suite starts, kills and restarts brokers there')
  process.exit(2)
}
const SHORT: [string, ChaosMode][] = [
  ['leader-kill', 'eos'],
  ['rebalance-storm', 'eos'],
]
const plan: [string, ChaosMode][] = args.short
  ? SHORT
  : (args.scenario ?? Object.keys(scenarios)).flatMap((s) => ((args.mode as ChaosMode[] | undefined) ?? ['eos', 'alos']).map((m): [string, ChaosMode] => [s, m]))
for (const [name] of plan) {
  if (!scenarios[name]) {
    console.error(`unknown scenario '${name}': one of ${Object.keys(scenarios).join(', ')}`)
    process.exit(2)
  }
}

const PARTITIONS = 6
const KEYS = 60
const RATE = Number(args.rate)
const SESSION_TIMEOUT_MS = 6_000
const log = (message: string): void => void process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const preexisting = readLocalBroker()
const ours = !(preexisting && isAlive(preexisting.pid) && (preexisting.nodes?.length ?? 1) === 3)
const bootstrap = await startBroker({ brokers: 3 })
const kafka = new Kafka({ clientId: 'chaos', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING })
const admin = kafka.admin()
await admin.connect()

/** Every node up and in sync before a scenario: the previous one may have left one behind. */
async function healCluster(): Promise<void> {
  for (const node of readLocalBroker()?.nodes ?? []) if (!isAlive(node.pid)) await startNode(node.id)
  const existing = new Set(await admin.listTopics())
  const internal = ['__consumer_offsets', '__transaction_state'].filter((t) => existing.has(t))
  if (internal.length > 0) await waitForFullIsr(admin, internal, 120_000).catch((e: unknown) => log(`warning: ${(e as Error).message}`))
}

interface Outcome {
  line: string
  ok: boolean
}

async function runScenario(name: string, mode: ChaosMode, round: number): Promise<Outcome> {
  await healCluster()
  const id = `chaos-${name}-${mode}-${Date.now().toString(36)}${round}`
  const topics = { CHAOS_INPUT: `${id}-in`, CHAOS_ECHO: `${id}-echo`, CHAOS_TOTALS: `${id}-totals`, CHAOS_WINDOWS: `${id}-windows` }
  await createTopicsOnEveryBroker(
    admin,
    bootstrap,
    Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })),
  )
  const stateDirs = new TempStateDirs()
  const everyInstance: CliInstance[] = []
  const ctx: ScenarioContext = {
    admin,
    applicationId: id,
    inputTopic: topics.CHAOS_INPUT,
    partitions: PARTITIONS,
    instances: [],
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    log: (m) => log(`${name}/${mode}: ${m}`),
    launch() {
      const instance = startInstance({
        topologyFile: 'test/chaos/topology.ts',
        applicationId: id,
        stateDir: stateDirs.create(),
        env: topics,
        settings: {
          processingGuarantee: mode === 'eos' ? 'exactly-once' : 'at-least-once',
          commitIntervalMs: mode === 'eos' ? 100 : 500,
          sessionTimeoutMs: SESSION_TIMEOUT_MS,
          taskStallTimeoutMs: 30_000,
        },
      })
      everyInstance.push(instance)
      ctx.instances.push(instance)
      return instance
    },
  }
  const load = new ChaosLoad(kafka, topics.CHAOS_INPUT, PARTITIONS, KEYS, RATE)
  let recovered: number | undefined
  try {
    for (let i = 0; i < 3; i++) ctx.launch()
    await Promise.all(ctx.instances.map((i) => i.waitForLog((l) => l.msg === 'state change' && l.to === 'running', 120_000)))
    await load.start()
    await sleep(10_000)
    const before = await positions(admin, id, topics.CHAOS_INPUT)
    log(`${name}/${mode}: warm, ${load.sent} records sent, lag ${lag(before)}`)
    const mark = await scenarios[name]!(ctx)
    const marked = { at: mark.at, mark: (await positions(admin, id, topics.CHAOS_INPUT).catch(() => before)).ends }
    // "Recovered": everything produced before the fault's end committed, lag under 2 s of load.
    recovered = await waitForRecovery(admin, id, topics.CHAOS_INPUT, marked, RATE * 2, 180_000)
    await sleep(5_000)
    await load.stop()
    log(`${name}/${mode}: load stopped at ${load.sent} records (${load.resends} batches re-sent, ${load.unacknowledged} records of resolved sends never written and sent again${load.lastError ? `, last error: ${load.lastError}` : ''}); draining`)
    const end = await positions(admin, id, topics.CHAOS_INPUT)
    const drained = await waitForRecovery(admin, id, topics.CHAOS_INPUT, { at: Date.now(), mark: end.ends }, 0, 180_000)
    if (drained === undefined) log(`${name}/${mode}: the group did not commit the whole input within 180 s`)
    // Suppressed windows are emitted when stream time passes their close, at the next commit.
    await sleep(3_000)

    const [input, echo, totals, windows] = await Promise.all(
      Object.values(topics).map((t) =>
        dumpTopic(kafka, t, {
          transactional: mode === 'eos' && t !== topics.CHAOS_INPUT,
          onRereads: (n) => log(`${name}/${mode}: the checker's consumer was handed ${n} records of ${t} twice (counted once)`),
          onKafkajsFilterDiffers: (extra, missing) =>
            log(`${name}/${mode}: kafkajs' read_committed filter would show ${extra} aborted records of ${t} (and hide ${missing} committed ones); the checker filters itself (F9)`),
        }),
      ),
    )
    const byPartition = new Map<number, ChaosRecord[]>()
    for (const r of input!) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), JSON.parse(r.value) as ChaosRecord])
    const group = <V>(records: typeof input, parse: (v: string) => V): Map<string, V[]> => {
      const out = new Map<string, V[]>()
      for (const r of records!) out.set(r.key, [...(out.get(r.key) ?? []), parse(r.value)])
      return out
    }
    const verdict = judge(
      {
        input: byPartition,
        echo: echo!.map((r) => Number(r.value)),
        totals: group(totals, (v) => JSON.parse(v) as ChaosTotal),
        windows: group(windows, Number),
      },
      mode,
      { sizeMs: CHAOS_WINDOW_MS, graceMs: CHAOS_GRACE_MS },
    )
    const ok = passes(verdict, mode) && recovered !== undefined
    for (const example of verdict.examples) log(`${name}/${mode}: ${example}`)
    if (verdict.dup > 0) {
      // Where the doubled echo records are: the same seq at two offsets is a second write, not a second read.
      const at = new Map<string, string[]>()
      for (const r of echo!) at.set(r.value, [...(at.get(r.value) ?? []), `${r.partition}@${r.offset}`])
      const doubled = [...at].filter(([, places]) => places.length > 1).slice(0, 6)
      if (doubled.length > 0) log(`${name}/${mode}: doubled echo records at ${doubled.map(([seq, places]) => `${seq}: ${places.join(' ')}`).join('; ')}`)
    }
    const errors = everyInstance.flatMap((i) => i.logs.filter((l) => l.level >= 50 && l.logger !== 'kafkajs'))
    // With the cause: "stream processing failed" alone says nothing about which fault did it.
    const distinct = [...new Set(errors.map((l) => `${l.msg}${l.err ? ` (${String((l.err as { message?: unknown }).message ?? '').slice(0, 160)})` : ''}`))]
    if (distinct.length > 0) log(`${name}/${mode}: instance errors: ${distinct.slice(0, 5).join(' | ')}`)
    const exitedEarly = everyInstance.filter((i) => ctx.instances.includes(i) && i.process.exitCode !== null)
    if (exitedEarly.length > 0) log(`${name}/${mode}: ${exitedEarly.length} instance(s) died on their own`)
    log(`${name}/${mode}: input ${input!.length} records, echo ${echo!.length}, windows ${windows!.length}`)
    return {
      line: `CHAOS ${name} mode=${mode} lost=${verdict.lost} dup=${verdict.dup} wrong=${verdict.wrong} recovered_in_s=${recovered === undefined ? 'never' : recovered.toFixed(1)}`,
      ok,
    }
  } finally {
    await Promise.all(
      everyInstance.map(async (i) => {
        if (i.process.exitCode !== null || i.process.signalCode !== null) return
        i.kill('SIGCONT')
        i.kill('SIGTERM')
        const timer = setTimeout(() => i.kill('SIGKILL'), 20_000)
        await i.exited
        clearTimeout(timer)
      }),
    )
    stateDirs.removeAll()
    if (!process.env.CHAOS_KEEP_TOPICS) await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined)
  }
}

let failed = 0
try {
  let round = 0
  for (const [name, mode] of plan) {
    const outcome = await runScenario(name, mode, round++).catch((e: unknown): Outcome => {
      log(`${name}/${mode}: ${(e as Error).stack ?? String(e)}`)
      return { line: `CHAOS ${name} mode=${mode} lost=? dup=? wrong=? recovered_in_s=never (${(e as Error).message.split('\n')[0]})`, ok: false }
    })
    if (!outcome.ok) failed++
    console.log(outcome.line)
  }
} finally {
  await admin.disconnect()
  if (ours) await stopBroker()
}
console.log(`CHAOS summary: ${plan.length - failed} of ${plan.length} scenarios held their guarantee`)
process.exit(failed === 0 ? 0 : 1)
