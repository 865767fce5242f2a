/**
 * `npm run bench:peers`: this project beside Apache Kafka Streams 3.9.1 and both clients' raw
 * consume rates, on the same broker, input and topology (workload (a), the windowed aggregate of
 * bench/runtime/windowed-aggregate.ts), in interleaved rounds:
 *
 *   npm run bench:peers -- [--events 200000] [--rounds 3] [--partitions 4] [--passes 2] [--update-report]
 *
 * Each round fills a fresh input topic (keys spread evenly over the partitions, retention off) and
 * runs every contender once, in an order rotated per round, each in its own process: pass 1 is cold
 * (a new process), later passes warm (same process, new application id, same input). Results go to
 * bench/peers/out/RESULTS.md, or bench/peers/RESULTS.md with --update-report. The last line is
 * `PEERS project/kstreams=<x> project/kafkajs=<y> eos_project/kstreams=<z>` (warm medians; Kafka
 * Streams' faster thread count in each guarantee). Final values per key of every contender that
 * writes results are compared with the project's at-least-once run of the same round.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import kafkajs from 'kafkajs'
import { readLocalBroker, resolveBrokers } from '../../runtime/local-broker.js'
import { startBroker, stopBroker } from '../../scripts/kafka-broker.js'
import { isAlive } from '../../scripts/launcher/process.js'
import { fillTopic, UNLIMITED_RETENTION } from '../runtime/input.js'
import { CONTENDERS, type Contender } from './contenders.js'
import { differences, finalValues } from './final-values.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '4' },
    passes: { type: 'string', default: '2' },
    'update-report': { type: 'boolean', default: false },
  },
})
const [events, rounds, partitions, passes] = [values.events, values.rounds, values.partitions, values.passes].map(Number) as [number, number, number, number]
const JAVA_DIR = new URL('./java/', import.meta.url).pathname
const JAR = join(JAVA_DIR, 'target', 'peers.jar')

interface Sample {
  round: number
  rates: number[]
  peakRssKb: number
  differing: number | undefined
}

function buildPeers(): void {
  if (existsSync(JAR) && process.env.PEERS_REBUILD !== '1') return
  console.error('building the Java peers (mvn package, once)...')
  const built = spawnSync('mvn', ['-q', '-B', 'package', '-DskipTests'], { cwd: JAVA_DIR, stdio: 'inherit' })
  if (built.status !== 0) throw new Error('mvn package failed in bench/peers/java: see the output above (Maven Central must be reachable once)')
}

function runContender(contender: Contender, brokers: string, input: string, output: string): Omit<Sample, 'round' | 'differing'> {
  const stateDir = mkdtempSync(join(tmpdir(), 'peers-state-'))
  try {
    const { file, args } = contender.command({ brokers, input, output, events, passes, stateDir, jar: JAR })
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
const samples = new Map<string, Sample[]>(CONTENDERS.map((c) => [c.name, []]))
const created: string[] = []
try {
  await admin.connect()
  await producer.connect()
  for (let round = 1; round <= rounds; round++) {
    const input = `peers-in-${randomBytes(4).toString('hex')}`
    created.push(input)
    await fillTopic(admin, producer, input, events, partitions)
    const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round - 1) % CONTENDERS.length]!)
    const outputs = new Map<string, string>()
    for (const contender of order) {
      const output = `peers-out-${randomBytes(4).toString('hex')}`
      created.push(output)
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: output, numPartitions: partitions, configEntries: UNLIMITED_RETENTION }] })
      const sample = runContender(contender, brokers, input, output)
      outputs.set(contender.name, output)
      samples.get(contender.name)!.push({ round, ...sample, differing: undefined })
      console.error(`round ${round}/${rounds} ${contender.name}: ${sample.rates.join(' / ')} ev/s, peak RSS ${Math.round(sample.peakRssKb / 1024)} MB`)
    }
    const reference = await finalValues(kafka, outputs.get(CONTENDERS[0]!.name)!)
    for (const contender of CONTENDERS.filter((c) => c.writesOutput)) {
      const actual = await finalValues(kafka, outputs.get(contender.name)!)
      const differing = differences(reference, actual)
      samples.get(contender.name)!.at(-1)!.differing = differing.length
      if (differing.length > 0) {
        const example = differing.slice(0, 3).map((k) => `${k}: ${reference.get(k)} vs ${actual.get(k)}`)
        console.error(`round ${round}: ${contender.name} differs from the project on ${differing.length} of ${reference.size} keys, e.g. ${example.join('; ')}`)
      }
    }
  }
} finally {
  await producer.disconnect().catch(() => undefined)
  await admin.deleteTopics({ topics: created }).catch(() => undefined)
  await admin.disconnect().catch(() => undefined)
  if (ownBroker) await stopBroker()
}

const cold = (name: string): number => median(samples.get(name)!.map((s) => s.rates[0]!))
const warm = (name: string): number => median(samples.get(name)!.map((s) => s.rates.at(-1)!))
const rows = CONTENDERS.map((c) => {
  const runs = samples.get(c.name)!
  const differing = c.writesOutput ? runs.map((s) => s.differing).join(', ') : '-'
  return `| ${c.name} | ${Math.round(cold(c.name))} | ${Math.round(warm(c.name))} | ${Math.round(median(runs.map((s) => s.peakRssKb)) / 1024)} | ${differing} |`
})
const bestKStreams = (guarantee: string): number => Math.max(...CONTENDERS.filter((c) => c.name.startsWith('Kafka Streams') && c.name.endsWith(guarantee)).map((c) => warm(c.name)))
const ratios = {
  kstreams: warm(CONTENDERS[0]!.name) / bestKStreams('at-least-once'),
  kafkajs: warm(CONTENDERS[0]!.name) / warm('raw kafkajs consume'),
  eos: warm(CONTENDERS[1]!.name) / bestKStreams('exactly_once_v2'),
}
const report = `# Peers (bench/peers/run.ts)

Measured ${new Date().toISOString().slice(0, 10)}: workload (a), the windowed aggregate, ${events} JSON events on
${partitions} partitions (keys spread evenly, retention off), local Kafka 3.9.1 broker, ${rounds} interleaved rounds,
every contender in its own process, commit interval 1 s for all. Cold = first pass of a new process;
warm = pass ${passes} in the same process (new application id, same input). Rates from running (or group
join) to the last input record processed; medians over the rounds.

| contender | cold events/s | warm events/s | peak RSS MB | keys differing from the project, per round |
|---|---|---|---|---|
${rows.join('\n')}

Ratios (warm medians; Kafka Streams at its faster thread count): project / Kafka Streams ${ratios.kstreams.toFixed(2)},
project / raw kafkajs ${ratios.kafkajs.toFixed(2)}, project exactly-once / Kafka Streams exactly_once_v2 ${ratios.eos.toFixed(2)}.
`
const reportFile = values['update-report'] ? new URL('./RESULTS.md', import.meta.url).pathname : join(new URL('./out/', import.meta.url).pathname, 'RESULTS.md')
mkdirSync(join(reportFile, '..'), { recursive: true })
writeFileSync(reportFile, report)
console.log(report)
console.log(`report: ${reportFile}`)
console.log(`PEERS project/kstreams=${ratios.kstreams.toFixed(2)} project/kafkajs=${ratios.kafkajs.toFixed(2)} eos_project/kstreams=${ratios.eos.toFixed(2)}`)
process.exit(0)
