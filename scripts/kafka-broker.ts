/**
 * Starts and stops the single-node Apache Kafka broker that the integration tests, benchmarks and
 * demos run against, on machines with no Docker: `tsx scripts/kafka-broker.ts start|stop|status`.
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
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { localBrokerStateFile, localRunDir, readLocalBroker, type LocalBrokerState, type SecureListenerState } from '../runtime/local-broker.js'
import { makeBrokerCertificates } from './launcher/broker-certificates.js'
import { cacheRoot } from './launcher/cache.js'
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

function brokerProperties(dataDir: string, port: number, controllerPort: number, secure?: SecureListenerState & { brokerKeystore: string; brokerTruststore: string }): string {
  const secureListener = secure ? `,SASL_SSL://${secure.bootstrap}` : ''
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${secureListener}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}${secureListener}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL' : ''}
inter.broker.listener.name=PLAINTEXT
${secure ? secureListenerProperties(secure) : ''}log.dirs=${join(dataDir, 'logs')}
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.backoff.ms=1000
log.segment.bytes=16777216
`
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

const LOG4J = `log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=\${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
`

async function answersMetadata(bootstrap: string): Promise<boolean> {
  const admin = new Kafka({ clientId: 'sentinel-launcher', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    return cluster.brokers.length > 0 && cluster.controller !== null
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** The running launcher broker, if its process is alive and it answers. */
async function runningBroker(): Promise<LocalBrokerState | undefined> {
  const state = readLocalBroker()
  if (!state || !isAlive(state.pid)) return undefined
  return (await answersMetadata(state.bootstrap).catch(() => false)) ? state : undefined
}

/** `secure`: also a SASL_SSL listener with fresh certificates and credentials (see SecureListenerState). */
export async function startBroker(options: { secure?: boolean } = {}): Promise<string> {
  if (process.env.KAFKA_BROKERS) {
    log(`KAFKA_BROKERS is set: using ${process.env.KAFKA_BROKERS}, starting nothing`)
    return process.env.KAFKA_BROKERS
  }
  const running = await runningBroker()
  if (running && options.secure && !running.secure) {
    throw new Error(`the broker running (pid ${running.pid}) has no SASL_SSL listener: stop it with \`npm run kafka:stop\`, then \`npm run kafka:secure:start\``)
  }
  if (running) {
    log(`reusing the broker already running (pid ${running.pid})`)
    return running.bootstrap
  }
  await stopBroker() // a stale state file or a half-dead broker from an earlier run
  if (!hasCommand('java', '-version')) throw new Error(`Java (17+) is needed to run the local Kafka broker. ${NO_TOOLS_HELP}`)
  const classpath = ensureKafkaJars()

  const started = Date.now()
  const [port, controllerPort] = [await freePort(), await freePort()]
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-kafka-'))
  const propsFile = join(dataDir, 'server.properties')
  const secure = options.secure ? await secureListener(dataDir) : undefined
  writeFileSync(propsFile, brokerProperties(dataDir, port, controllerPort, secure))
  writeFileSync(join(dataDir, 'log4j.properties'), LOG4J)
  const jvmLogging = [`-Dlog4j.configuration=${pathToFileURL(join(dataDir, 'log4j.properties')).href}`, `-Dkafka.logs.dir=${dataDir}`]

  const format = spawnSync('java', ['-cp', classpath, ...jvmLogging, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', propsFile, ...scramUsers(secure)], {
    encoding: 'utf8',
  })
  if (format.status !== 0) throw new Error(`formatting KRaft storage failed:\n${format.stderr || format.stdout}`)

  const out = openSync(join(dataDir, 'broker.out'), 'a')
  const broker = spawn(
    'java',
    ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', '-Djava.awt.headless=true', '-cp', classpath, ...jvmLogging, 'kafka.Kafka', propsFile],
    { detached: true, stdio: ['ignore', out, out] },
  )
  broker.unref()
  const pid = broker.pid
  if (pid === undefined) throw new Error('could not spawn java for the Kafka broker')
  const bootstrap = `127.0.0.1:${port}`
  const state: LocalBrokerState = { pid, bootstrap, dataDir, kafkaVersion: KAFKA_VERSION, startedAt: new Date().toISOString() }
  if (secure) {
    const { brokerKeystore: _keystore, brokerTruststore: _truststore, ...listener } = secure
    state.secure = listener
  }
  mkdirSync(localRunDir(), { recursive: true })
  writeFileSync(localBrokerStateFile(), JSON.stringify(state, null, 2))
  try {
    await waitUntil(`Kafka broker (pid ${pid})`, () => answersMetadata(bootstrap), { timeoutMs: 90_000, pid, intervalMs: 250 })
  } catch (e) {
    const tail = logTail(['server.log', 'broker.out'].map((f) => join(dataDir, f)))
    await stopBroker()
    throw new Error(`${(e as Error).message}\n--- broker log tail ---\n${tail}`, { cause: e })
  }
  if (secure) log(`SASL_SSL listener at ${secure.bootstrap} (credentials in ${localBrokerStateFile()})`)
  log(`Kafka ${KAFKA_VERSION} up at ${bootstrap} (pid ${pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
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

const scramUsers = (secure: SecureListenerState | undefined): string[] =>
  secure ? ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${secure.username},password=${secure.password}]`]) : []

/** Stops the launcher's broker by its own pid and removes its data dir. Safe to call repeatedly. */
export async function stopBroker(): Promise<void> {
  const state = readLocalBroker()
  if (!state) return
  if (isAlive(state.pid)) {
    log(`stopping broker pid ${state.pid}`)
    await terminate(state.pid)
  }
  rmSync(state.dataDir, { recursive: true, force: true })
  rmSync(localBrokerStateFile(), { force: true })
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'start':
      console.log(await startBroker({ secure: process.argv.includes('--secure') }))
      return
    case 'stop':
      if (process.env.KAFKA_BROKERS) log('KAFKA_BROKERS is set: nothing of ours to stop')
      await stopBroker()
      return
    case 'status': {
      const running = await runningBroker()
      console.log(running ? `running ${running.bootstrap} (pid ${running.pid}, Kafka ${running.kafkaVersion})` : 'not running')
      return
    }
    default:
      console.error('usage: tsx scripts/kafka-broker.ts start [--secure]|stop|status')
      process.exitCode = 2
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv[2]).catch((e: unknown) => {
    console.error(`[kafka] ${(e as Error).message}`)
    process.exit(1)
  })
}
