/**
 * One combined broker+controller KRaft node of the local launcher: its server.properties, its
 * storage format, and its JVM process. A node keeps its data dir across a kill or stop, so it can be
 * started again on the same logs, as a real broker restarts.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export interface KraftNodeSpec {
  id: number
  port: number
  controllerPort: number
  dataDir: string
}

const LOG4J = `log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=\${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
`

/**
 * Replication for every topic the cluster creates with the broker's defaults (internal topics and
 * the library's changelog/repartition topics, which ask for replication factor -1). On one broker
 * nothing can be replicated; on three, RF 3 with min.insync.replicas=2 survives one broker down
 * without losing an acknowledged write or refusing writes.
 */
function replicationProperties(nodes: number): string {
  const rf = nodes >= 3 ? 3 : 1
  const minIsr = nodes >= 3 ? 2 : 1
  return `default.replication.factor=${rf}
offsets.topic.replication.factor=${rf}
transaction.state.log.replication.factor=${rf}
transaction.state.log.min.isr=${minIsr}
min.insync.replicas=${minIsr}
`
}

/** A SASL_SSL listener beside the plaintext one (single-node launches with --secure). */
export interface NodeExtras {
  properties: { listener: string; protocol: string; body: string }
  formatArgs: string[]
}

/**
 * `log.retention.ms=-1`: tests, evaluations and the demo replay records with historical timestamps
 * (the fixtures' March 2026), and the default 7-day retention deleted them at the broker's next
 * retention check (every 5 min), from under a running test: outputs read back "missing" (the CI
 * failures of crash.test.ts and eos-liveness.test.ts on 6 Dec 2026). A local broker keeps all it has.
 */
export function nodeProperties(node: KraftNodeSpec, voters: readonly KraftNodeSpec[], extras?: NodeExtras): string {
  const x = extras?.properties ?? { listener: '', protocol: '', body: '' }
  return `process.roles=broker,controller
node.id=${node.id}
controller.quorum.voters=${voters.map((v) => `${v.id}@127.0.0.1:${v.controllerPort}`).join(',')}
listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}${x.listener}
advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}${x.listener}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${x.protocol}
inter.broker.listener.name=PLAINTEXT
${x.body}log.dirs=${join(node.dataDir, 'logs')}
num.partitions=1
${replicationProperties(voters.length)}offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.backoff.ms=1000
log.segment.bytes=16777216
log.retention.ms=-1
`
}

const propsFile = (node: KraftNodeSpec): string => join(node.dataDir, 'server.properties')
const jvmLogging = (node: KraftNodeSpec): string[] => [
  `-Dlog4j.configuration=${pathToFileURL(join(node.dataDir, 'log4j.properties')).href}`,
  `-Dkafka.logs.dir=${node.dataDir}`,
]

/** Writes the node's configs and formats its KRaft storage for `clusterId`. */
export function formatNode(classpath: string, node: KraftNodeSpec, voters: readonly KraftNodeSpec[], clusterId: string, extras?: NodeExtras): void {
  mkdirSync(node.dataDir, { recursive: true })
  writeFileSync(propsFile(node), nodeProperties(node, voters, extras))
  writeFileSync(join(node.dataDir, 'log4j.properties'), LOG4J)
  const format = spawnSync('java', ['-cp', classpath, ...jvmLogging(node), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile(node), ...(extras?.formatArgs ?? [])], {
    encoding: 'utf8',
  })
  if (format.status !== 0) throw new Error(`formatting KRaft storage of node ${node.id} failed:\n${format.stderr || format.stdout}`)
}

/** Starts the node's JVM, detached, on its (formatted) data dir. Returns its pid. */
export function spawnNode(classpath: string, node: KraftNodeSpec, heap: string): number {
  const out = openSync(join(node.dataDir, 'broker.out'), 'a')
  const broker = spawn(
    'java',
    [`-Xms256m`, `-Xmx${heap}`, '-XX:+UseG1GC', '-Djava.awt.headless=true', '-cp', classpath, ...jvmLogging(node), 'kafka.Kafka', propsFile(node)],
    { detached: true, stdio: ['ignore', out, out] },
  )
  broker.unref()
  if (broker.pid === undefined) throw new Error(`could not spawn java for Kafka node ${node.id}`)
  return broker.pid
}
