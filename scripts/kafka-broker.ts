/**
 * Starts and stops the Apache Kafka broker that the integration tests, benchmarks and demos run
 * against, on machines with no Docker: `tsx scripts/kafka-broker.ts start [--brokers 3]|stop|status`.
 * With `--brokers 3`, a KRaft cluster of three combined broker+controller nodes, replication factor
 * 3 and min.insync.replicas=2 by default (for the fault suite, `npm run chaos`); one node of it can
 * be killed, stopped and started again on its data dir: `kill-broker|stop-broker|restart-broker <id>`.
 *
 * - `KAFKA_BROKERS` set: that cluster is used and nothing is started.
 * - Otherwise the pinned Kafka release is fetched from Maven Central with Maven (once, into
 *   ~/.cache/sentinel-streams/), KRaft storage is formatted in a fresh temp dir, and one combined
 *   broker+controller is started on 127.0.0.1 on free ports. The bootstrap address is written to
 *   the state file that `runtime/local-broker.ts` reads, and printed as the last line.
 *
 * Why Kafka 3.9: it is the last line that keeps every protocol version kafkajs 2.2.4 speaks.
 * Kafka 4.0 removed old request versions (KIP-896) and kafkajs is unmaintained, so 4.x is a risk we
 * would only take to test features kafkajs cannot use anyway. 3.9 runs KRaft without ZooKeeper.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { bootstrapList, localBrokerStateFile, localRunDir, readLocalBroker, type LocalBrokerNode, type LocalBrokerState, type SecureListenerState } from '../runtime/local-broker.js'
import { makeBrokerCertificates } from './launcher/broker-certificates.js'
import { cacheRoot } from './launcher/cache.js'
import { formatNode, spawnNode, type KraftNodeSpec } from './launcher/kraft-node.js'
import { logTail } from './launcher/log-tail.js'
import { freePort, hasCommand, isAlive, terminate, waitUntil } from './launcher/process.js'

export const KAFKA_VERSION = '3.9.1'
const SCALA_VERSION = '2.13'

const kafkaHome = (): string => join(cacheRoot(), `kafka_${SCALA_VERSION}-${KAFKA_VERSION}`)
const log = (message: string): void => void process.stderr.write(`[kafka] ${message}\n`)

const NO_TOOLS_HELP =
  'Alternatives: point sentinel-streams at an existing cluster with KAFKA_BROKERS=host:port, ' +
  'or on a machine with Docker run `docker compose -f docker/compose.yml up kafka` and set KAFKA_BROKERS=localhost:9092.'

/** The broker's jars, fetched with Maven into the cache on first use. Returns the classpath glob. */
function ensureKafkaJars(): string {
  const home = kafkaHome()
  const libs = join(home, 'libs')
  if (existsSync(join(home, '.complete'))) return join(libs, '*')
  if (!hasCommand('mvn', '-v')) throw new Error(`Maven (mvn) is needed once to fetch Kafka ${KAFKA_VERSION} from Maven Central. ${NO_TOOLS_HELP}`)
  mkdirSync(home, { recursive: true })
  // slf4j-reload4j gives the broker a logging backend; without it Kafka logs nothing at all.
  writeFileSync(
    join(home, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sentinel-streams</groupId><artifactId>kafka-broker</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_${SCALA_VERSION}</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`,
  )
  log(`fetching Kafka ${KAFKA_VERSION} from Maven Central into ${home} (once)`)
  const started = Date.now()
  const mvn = spawnSync(
    'mvn',
    ['-B', '-q', '-Dstyle.color=never', 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'],
    // Maven's output goes to stderr: stdout carries only the bootstrap address.
    { cwd: home, stdio: ['ignore', process.stderr, process.stderr] },
  )
  if (mvn.status !== 0) throw new Error(`Maven could not fetch Kafka ${KAFKA_VERSION} (exit ${mvn.status}). ${NO_TOOLS_HELP}`)
  writeFileSync(join(home, '.complete'), new Date().toISOString())
  log(`fetched in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return join(libs, '*')
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, as `kafka-storage random-uuid`. */
/** Never starting with '-': the storage tool's argument parser takes such an id for an option (1 start in 64 failed). Kafka's own Uuid avoids it too. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/**
 * The SASL_SSL listener: PLAIN and both SCRAM mechanisms for one user (SCRAM credentials are
 * written into the KRaft metadata at format time), and TLS that also requires a client certificate.
 */
function secureListenerProperties(secure: SecureListenerState & { brokerKeystore: string; brokerTruststore: string }): string {
  return `sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${secure.username}="${secure.password}";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=${secure.brokerKeystore}
ssl.keystore.password=${secure.keystorePassword}
ssl.key.password=${secure.keystorePassword}
ssl.truststore.type=PKCS12
ssl.truststore.location=${secure.brokerTruststore}
ssl.truststore.password=${secure.keystorePassword}
ssl.client.auth=required
`
}

/** The ids of the brokers the cluster's metadata lists, or undefined when no node answers. */
async function liveBrokerIds(bootstrap: readonly string[]): Promise<number[] | undefined> {
  const admin = new Kafka({ clientId: 'sentinel-launcher', brokers: [...bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    return cluster.controller === null ? undefined : cluster.brokers.map((b) => b.nodeId)
  } catch {
    return undefined
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

const nodesOf = (state: LocalBrokerState): LocalBrokerNode[] =>
  state.nodes ?? [{ id: 1, pid: state.pid, port: Number(state.bootstrap.split(':').pop()), controllerPort: 0, dataDir: state.dataDir }]

/** The running launcher broker (or cluster), if one of its processes is alive and it answers. */
async function runningBroker(): Promise<LocalBrokerState | undefined> {
  const state = readLocalBroker()
  if (!state || !nodesOf(state).some((n) => isAlive(n.pid))) return undefined
  return (await liveBrokerIds(bootstrapList(state))) ? state : undefined
}

function writeState(state: LocalBrokerState): void {
  mkdirSync(localRunDir(), { recursive: true })
  writeFileSync(localBrokerStateFile(), JSON.stringify(state, null, 2))
}

/** `secure` (one broker only): also a SASL_SSL listener with fresh certificates and credentials (see SecureListenerState). */
export async function startBroker(options: { brokers?: number; secure?: boolean } = {}): Promise<string> {
  const count = options.brokers ?? 1
  if (!Number.isInteger(count) || count < 1) throw new Error(`--brokers must be a positive integer, got ${count}`)
  if (options.secure && count !== 1) throw new Error('--secure starts a single broker: drop --brokers, or --secure')
  if (process.env.KAFKA_BROKERS) {
    log(`KAFKA_BROKERS is set: using ${process.env.KAFKA_BROKERS}, starting nothing`)
    return process.env.KAFKA_BROKERS
  }
  const running = await runningBroker()
  if (running && options.secure && !running.secure) {
    throw new Error(`the broker running (pid ${running.pid}) has no SASL_SSL listener: stop it with \`npm run kafka:stop\`, then \`npm run kafka:secure:start\``)
  }
  if (running && nodesOf(running).length === count) {
    log(`reusing the ${count === 1 ? 'broker' : `${count}-broker cluster`} already running (pid ${running.pid})`)
    return running.bootstrap
  }
  await stopBroker() // a stale state file, a half-dead broker from an earlier run, or another size
  if (!hasCommand('java', '-version')) throw new Error(`Java (17+) is needed to run the local Kafka broker. ${NO_TOOLS_HELP}`)
  const classpath = ensureKafkaJars()

  const started = Date.now()
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-kafka-'))
  const specs: KraftNodeSpec[] = []
  for (let id = 1; id <= count; id++) {
    // A single broker keeps its logs where it always did: in the data dir itself.
    specs.push({ id, port: await freePort(), controllerPort: await freePort(), dataDir: count === 1 ? dataDir : join(dataDir, `node-${id}`) })
  }
  const secure = options.secure ? await secureListener(dataDir) : undefined
  const id = clusterId()
  for (const spec of specs) formatNode(classpath, spec, specs, id, secure ? { properties: secureNodeProperties(secure), formatArgs: scramUsers(secure) } : undefined)
  // Three JVMs on a shared machine: a smaller heap each is plenty for test traffic.
  const heap = count === 1 ? '768m' : '512m'
  const nodes: LocalBrokerNode[] = specs.map((spec) => ({ ...spec, pid: spawnNode(classpath, spec, heap) }))
  const bootstrap = nodes.map((n) => `127.0.0.1:${n.port}`).join(',')
  const state: LocalBrokerState = { pid: nodes[0]!.pid, bootstrap, dataDir, kafkaVersion: KAFKA_VERSION, startedAt: new Date().toISOString(), nodes }
  if (secure) {
    const { brokerKeystore: _keystore, brokerTruststore: _truststore, ...listener } = secure
    state.secure = listener
  }
  writeState(state)
  try {
    await waitUntil(
      count === 1 ? `Kafka broker (pid ${state.pid})` : `Kafka cluster of ${count} (pids ${nodes.map((n) => n.pid).join(', ')})`,
      async () => {
        if (!nodes.every((n) => isAlive(n.pid))) throw new Error('a node exited during start-up')
        return ((await liveBrokerIds(bootstrapList(state))) ?? []).length === count
      },
      { timeoutMs: 90_000 * Math.max(1, count / 2), intervalMs: 250 },
    )
  } catch (e) {
    const tail = logTail(specs.flatMap((n) => ['server.log', 'broker.out'].map((f) => join(n.dataDir, f))))
    await stopBroker()
    throw new Error(`${(e as Error).message}\n--- broker log tail ---\n${tail}`, { cause: e })
  }
  if (secure) log(`SASL_SSL listener at ${secure.bootstrap} (credentials in ${localBrokerStateFile()})`)
  log(`Kafka ${KAFKA_VERSION} up at ${bootstrap} (pids ${nodes.map((n) => n.pid).join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return bootstrap
}

async function secureListener(dataDir: string): Promise<SecureListenerState & { brokerKeystore: string; brokerTruststore: string }> {
  const started = Date.now()
  const certificates = makeBrokerCertificates(mkdtempSync(join(dataDir, 'tls-')))
  log(`TLS certificates made with keytool in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return {
    bootstrap: `127.0.0.1:${await freePort()}`,
    caFile: certificates.caFile,
    clientKeystore: certificates.clientKeystore,
    brokerKeystore: certificates.brokerKeystore,
    brokerTruststore: certificates.brokerTruststore,
    keystorePassword: certificates.password,
    username: 'sentinel',
    password: randomBytes(12).toString('hex'),
  }
}

/** What a secure single node adds to its listeners and properties. */
function secureNodeProperties(secure: SecureListenerState & { brokerKeystore: string; brokerTruststore: string }): { listener: string; protocol: string; body: string } {
  return { listener: `,SASL_SSL://${secure.bootstrap}`, protocol: ',SASL_SSL:SASL_SSL', body: secureListenerProperties(secure) }
}

const scramUsers = (secure: SecureListenerState | undefined): string[] =>
  secure ? ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${secure.username},password=${secure.password}]`]) : []

/** Stops the launcher's broker(s) by their own pids and removes the data dir. Safe to call repeatedly. */
export async function stopBroker(): Promise<void> {
  const state = readLocalBroker()
  if (!state) return
  const alive = nodesOf(state).filter((n) => isAlive(n.pid))
  if (alive.length > 0) log(`stopping broker pid ${alive.map((n) => n.pid).join(', ')}`)
  await Promise.all(alive.map((n) => terminate(n.pid)))
  rmSync(state.dataDir, { recursive: true, force: true })
  rmSync(localBrokerStateFile(), { force: true })
}

function clusterNode(id: number): { state: LocalBrokerState; node: LocalBrokerNode } {
  const state = readLocalBroker()
  if (!state) throw new Error(`no launcher broker in ${localBrokerStateFile()}: start one with \`npm run kafka:start -- --brokers 3\``)
  const node = nodesOf(state).find((n) => n.id === id)
  if (!node) throw new Error(`no node ${id}: the launcher cluster has nodes ${nodesOf(state).map((n) => n.id).join(', ')}`)
  return { state, node }
}

/** kill -9 of one node, as a crashed machine: its data dir stays, for `startNode`. */
export function killNode(id: number): void {
  const { node } = clusterNode(id)
  if (isAlive(node.pid)) process.kill(node.pid, 'SIGKILL')
  log(`killed node ${id} (pid ${node.pid})`)
}

/** A clean shutdown of one node (SIGTERM: it hands over leadership first), data dir kept. */
export async function stopNode(id: number): Promise<void> {
  const { node } = clusterNode(id)
  await terminate(node.pid, 60_000)
  log(`stopped node ${id} (pid ${node.pid})`)
}

/** Starts a stopped or killed node again on its data dir; resolves once the cluster lists it. */
export async function startNode(id: number): Promise<void> {
  const { state, node } = clusterNode(id)
  if (isAlive(node.pid)) throw new Error(`node ${id} is running (pid ${node.pid}): stop or kill it first`)
  const started = Date.now()
  const pid = spawnNode(ensureKafkaJars(), node, nodesOf(state).length === 1 ? '768m' : '512m')
  const nodes = nodesOf(state).map((n) => (n.id === id ? { ...n, pid } : n))
  writeState({ ...state, nodes, pid: nodes[0]!.pid })
  await waitUntil(`Kafka node ${id} (pid ${pid})`, async () => ((await liveBrokerIds([`127.0.0.1:${node.port}`])) ?? []).includes(id), {
    timeoutMs: 120_000,
    pid,
    intervalMs: 250,
  })
  log(`node ${id} back (pid ${pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

const USAGE = 'usage: tsx scripts/kafka-broker.ts start [--brokers <n>] [--secure] | stop | status | kill-broker <id> | stop-broker <id> | restart-broker <id>'

function nodeIdArg(value: string | undefined): number {
  const id = Number(value)
  if (!Number.isInteger(id) || id < 1) throw new Error(`a node id (1, 2, 3, ...) is needed. ${USAGE}`)
  return id
}

async function main(command: string | undefined, args: string[]): Promise<void> {
  switch (command) {
    case 'start': {
      const at = args.indexOf('--brokers')
      console.log(await startBroker({ ...(at >= 0 ? { brokers: Number(args[at + 1]) } : {}), secure: args.includes('--secure') }))
      return
    }
    case 'stop':
      if (process.env.KAFKA_BROKERS) log('KAFKA_BROKERS is set: nothing of ours to stop')
      await stopBroker()
      return
    case 'status': {
      const running = await runningBroker()
      if (!running) {
        console.log('not running')
        return
      }
      console.log(`running ${running.bootstrap} (pid ${running.pid}, Kafka ${running.kafkaVersion})`)
      if (running.nodes && running.nodes.length > 1) {
        for (const n of running.nodes) console.log(`  node ${n.id}: 127.0.0.1:${n.port} pid ${n.pid} ${isAlive(n.pid) ? 'up' : 'down'}`)
      }
      return
    }
    case 'kill-broker':
      killNode(nodeIdArg(args[0]))
      return
    case 'stop-broker':
      await stopNode(nodeIdArg(args[0]))
      return
    case 'restart-broker': {
      const id = nodeIdArg(args[0])
      await stopNode(id)
      await startNode(id)
      return
    }
    default:
      console.error(USAGE)
      process.exitCode = 2
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv[2], process.argv.slice(3)).catch((e: unknown) => {
    console.error(`[kafka] ${(e as Error).message}`)
    process.exit(1)
  })
}
