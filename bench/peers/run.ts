/**
 * `npm run bench:peers`: this project beside Apache Kafka Streams 3.9.1 and both clients' raw
 * consume rates, on the same broker, input and topology, in interleaved rounds, for two workloads:
 * (a) the windowed aggregate of bench/runtime/windowed-aggregate.ts, (b) the detection shape of
 * bench/peers/detection-workload.ts:
 *
 *   npm run bench:peers -- [--workloads a,b] [--events 200000] [--rounds 3] [--partitions 4] [--passes 2] [--update-report]
 *                          [--only <name part>,...]   (a quick check of some contenders; the project's
 *                                                      at-least-once run is always there, as the reference)
 *
 * Each round fills a fresh input topic (keys spread evenly over the partitions, retention off) and
 * runs every contender once, in an order rotated per round, each in its own process: pass 1 is cold
 * (a new process), later passes warm (same process, new application id, same input). Results go to
 * bench/peers/out/RESULTS.md, or bench/peers/RESULTS.md with --update-report. The last line is
 * `PEERS project/kstreams=<x> project/kafkajs=<y> eos_project/kstreams=<z>` for (a) (warm medians;
 * Kafka Streams' faster thread count in each guarantee), then the same three for (b) prefixed `b_`. Final values per key of every contender that
 * writes results are compared with the project's at-least-once run of the same round.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import kafkajs from 'kafkajs'
import { readLocalBroker, resolveBrokers } from '../../runtime/local-broker.js'
import { startBroker, stopBroker } from '../../scripts/kafka-broker.js'
import { isAlive } from '../../scripts/launcher/process.js'
import { fillTopic, UNLIMITED_RETENTION } from '../runtime/input.js'
import { CONTENDERS as ALL_CONTENDERS, type Contender } from './contenders.js'
import { fillTelemetryTopic } from './detection-workload.js'
import { differences, finalValues } from './final-values.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '4' },
    passes: { type: 'string', default: '2' },
    workloads: { type: 'string', default: 'a,b' },
    only: { type: 'string' },
    'update-report': { type: 'boolean', default: false },
  },
})
const [events, rounds, partitions, passes] = [values.events, values.rounds, values.partitions, values.passes].map(Number) as [number, number, number, number]
const workloads = values.workloads.split(',').map((w) => w.trim())
for (const w of workloads) if (w !== 'a' && w !== 'b') throw new Error(`--workloads takes a, b or a,b; got ${values.workloads}`)
const wanted = values.only?.split(',').map((part) => part.trim().toLowerCase())
const CONTENDERS = ALL_CONTENDERS.filter((c, i) => i === 0 || !wanted || wanted.some((part) => c.name.toLowerCase().includes(part)))
const JAVA_DIR = new URL('./java/', import.meta.url).pathname
const JAR = join(JAVA_DIR, 'target', 'peers.jar')

type Workload = 'a' | 'b'

interface Sample {
  round: number
  rates: number[]
  peakRssKb: number
  differing: number | undefined
}

/** Builds the Java peers when the jar is missing or older than any of their sources or the pom. */
function buildPeers(): void {
  const sources = [join(JAVA_DIR, 'pom.xml'), ...readdirSync(join(JAVA_DIR, 'src'), { recursive: true, encoding: 'utf8' }).map((f) => join(JAVA_DIR, 'src', f))]
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs))
  if (existsSync(JAR) && statSync(JAR).mtimeMs >= newest) return
  console.error('building the Java peers (mvn package)...')
  const built = spawnSync('mvn', ['-q', '-B', 'package', '-DskipTests'], { cwd: JAVA_DIR, stdio: 'inherit' })
  if (built.status !== 0) throw new Error('mvn package failed in bench/peers/java: see the output above (Maven Central must be reachable once)')
}

function runContender(contender: Contender, workload: Workload, brokers: string, input: string, output: string): Omit<Sample, 'round' | 'differing'> {
  const stateDir = mkdtempSync(join(tmpdir(), 'peers-state-'))
  try {
    const { file, args } = contender.command({ brokers, input, output, events, passes, stateDir, jar: JAR, workload })
    const result = spawnSync(file, args, { encoding: 'utf8', env: { ...process.env, KAFKA_BROKERS: brokers }, timeout: 15 * 60_000 })
    const rates = [...result.stdout.matchAll(/^PASS \d+ events_per_s=(\d+)/gm)].map((m) => Number(m[1]))
    const peak = /^PEAK_RSS_KB (\d+)/m.exec(result.stdout)
    if (result.status !== 0 || rates.length !== passes) {
      throw new Error(`${contender.name} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr.slice(-3000)}`)
    }
    return { rates, peakRssKb: peak ? Number(peak[1]) : -1 }
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

buildPeers()
const preexisting = readLocalBroker()
const ownBroker = !process.env.KAFKA_BROKERS && !(preexisting && isAlive(preexisting.pid))
const brokerList = ownBroker ? [await startBroker()] : resolveBrokers()!
const brokers = brokerList.join(',')
const kafka = new kafkajs.Kafka({ clientId: 'bench-peers', brokers: brokerList, logLevel: kafkajs.logLevel.NOTHING })
const admin = kafka.admin()
const producer = kafka.producer()
const results = new Map<Workload, Map<string, Sample[]>>()
const created: string[] = []
try {
  await admin.connect()
  await producer.connect()
  for (const workload of workloads as Workload[]) {
    const samples = new Map<string, Sample[]>(CONTENDERS.map((c) => [c.name, []]))
    results.set(workload, samples)
    for (let round = 1; round <= rounds; round++) {
      const input = `peers-${workload}-in-${randomBytes(4).toString('hex')}`
      created.push(input)
      if (workload === 'a') await fillTopic(admin, producer, input, events, partitions)
      else await fillTelemetryTopic(admin, producer, input, events, partitions)
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round - 1) % CONTENDERS.length]!)
      const outputs = new Map<string, string>()
      for (const contender of order) {
        const output = `peers-${workload}-out-${randomBytes(4).toString('hex')}`
        created.push(output)
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic: output, numPartitions: partitions, configEntries: UNLIMITED_RETENTION }] })
        const sample = runContender(contender, workload, brokers, input, output)
        outputs.set(contender.name, output)
        samples.get(contender.name)!.push({ round, ...sample, differing: undefined })
        console.error(`(${workload}) round ${round}/${rounds} ${contender.name}: ${sample.rates.join(' / ')} ev/s, peak RSS ${Math.round(sample.peakRssKb / 1024)} MB`)
      }
      const reference = await finalValues(kafka, outputs.get(CONTENDERS[0]!.name)!)
      for (const contender of CONTENDERS.filter((c) => c.writesOutput)) {
        const actual = await finalValues(kafka, outputs.get(contender.name)!)
        const differing = differences(reference, actual)
        samples.get(contender.name)!.at(-1)!.differing = differing.length
        if (differing.length > 0) {
          const example = differing.slice(0, 3).map((k) => `${k}: ${reference.get(k)} vs ${actual.get(k)}`)
          console.error(`(${workload}) round ${round}: ${contender.name} differs from the project on ${differing.length} of ${reference.size} keys, e.g. ${example.join('; ')}`)
        }
      }
      console.error(`(${workload}) round ${round}: the project wrote ${reference.size} distinct result keys`)
    }
  }
} finally {
  await producer.disconnect().catch(() => undefined)
  await admin.deleteTopics({ topics: created }).catch(() => undefined)
  await admin.disconnect().catch(() => undefined)
  if (ownBroker) await stopBroker()
}

const WORKLOAD_TITLES: Record<Workload, string> = {
  a: 'Workload (a): the windowed aggregate (per model and minute, tumbling, 5 s grace), input keyed by model',
  b: 'Workload (b): the detection shape (session profiles and error streaks per user, z-scores of 10 s windows per model through two repartitions), input keyed by user',
}

function section(workload: Workload, samples: Map<string, Sample[]>): { text: string; ratios: { kstreams: number; kafkajs: number; eos: number } } {
  // NaN for a contender left out with --only: its ratio prints as NaN rather than a made-up figure.
  const cold = (name: string): number => median((samples.get(name) ?? []).map((s) => s.rates[0]!))
  const warm = (name: string): number => median((samples.get(name) ?? []).map((s) => s.rates.at(-1)!))
  const rows = CONTENDERS.map((c) => {
    const runs = samples.get(c.name)!
    const differing = c.writesOutput ? runs.map((s) => s.differing).join(', ') : '-'
    return `| ${c.name} | ${Math.round(cold(c.name))} | ${Math.round(warm(c.name))} | ${Math.round(median(runs.map((s) => s.peakRssKb)) / 1024)} | ${differing} |`
  })
  const bestKStreams = (guarantee: string): number => {
    const rates = CONTENDERS.filter((c) => c.name.startsWith('Kafka Streams') && c.name.endsWith(guarantee)).map((c) => warm(c.name))
    return rates.length > 0 ? Math.max(...rates) : Number.NaN
  }
  const ratios = {
    kstreams: warm('project, at-least-once') / bestKStreams('at-least-once'),
    kafkajs: warm('project, at-least-once') / warm('raw kafkajs consume'),
    eos: warm('project, exactly-once') / bestKStreams('exactly_once_v2'),
  }
  const text = `## ${WORKLOAD_TITLES[workload]}

| contender | cold events/s | warm events/s | peak RSS MB | keys differing from the project, per round |
|---|---|---|---|---|
${rows.join('\n')}

Ratios (warm medians; Kafka Streams at its faster thread count): project / Kafka Streams ${ratios.kstreams.toFixed(2)},
project / raw kafkajs ${ratios.kafkajs.toFixed(2)}, project exactly-once / Kafka Streams exactly_once_v2 ${ratios.eos.toFixed(2)}.
`
  return { text, ratios }
}

const sections = [...results].map(([workload, samples]) => ({ workload, ...section(workload, samples) }))
const report = `# Peers (bench/peers/run.ts)

Measured ${new Date().toISOString().slice(0, 10)}: ${events} JSON events on ${partitions} partitions (keys spread evenly,
retention off), local Kafka 3.9.1 broker, ${rounds} interleaved rounds, every contender in its own process,
commit interval 1 s for all. Cold = first pass of a new process; warm = pass ${passes} in the same process
(new application id, same input). Rates from running (or group join) to the last input record
processed; medians over the rounds.

${sections.map((s) => s.text).join('\n')}`
const reportFile = values['update-report'] ? new URL('./RESULTS.md', import.meta.url).pathname : join(new URL('./out/', import.meta.url).pathname, 'RESULTS.md')
mkdirSync(join(reportFile, '..'), { recursive: true })
writeFileSync(reportFile, report)
console.log(report)
console.log(`report: ${reportFile}`)
console.log(`PEERS ${sections.map((x) => `${x.workload === 'a' ? '' : `${x.workload}_`}project/kstreams=${x.ratios.kstreams.toFixed(2)} ${x.workload === 'a' ? '' : `${x.workload}_`}project/kafkajs=${x.ratios.kafkajs.toFixed(2)} ${x.workload === 'a' ? '' : `${x.workload}_`}eos_project/kstreams=${x.ratios.eos.toFixed(2)}`).join(' ')}`)
process.exit(0)
