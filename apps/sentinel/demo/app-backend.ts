/**
 * Where the demo runs the whole Sentinel app: StandaloneStreams (embedded log, RocksDB state), or
 * SentinelStreams on a Kafka broker with fresh topics for the run (deleted at the end). Both give
 * the same StreamsRuntime to the services and the demo; what differs is how the demo knows that
 * everything sent has been processed, and that a consumer group has read a topic to its end.
 *
 * On Kafka the input has one partition: the generator's events are in event-time order, and one
 * partition keeps them so through the repartition topics, so nothing arrives later than a window's
 * grace.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import kafkajs, { type Admin } from 'kafkajs'
import type pino from 'pino'
import type { Registry } from 'prom-client'
import type { ProcessingGuarantee } from '../../../runtime/config.js'
import { createTopicsWithLeaders } from '../../../runtime/internal-topics.js'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { StandaloneStreams } from '../../../runtime/standalone/index.js'
import type { StreamsRuntime } from '../../../runtime/streams-runtime.js'
import type { Topology } from '../../../topology/index.js'
import { DEFAULT_TOPICS, type SentinelTopics } from '../sentinel-config.js'

const { Kafka, logLevel } = kafkajs

/** How long the run's fresh topics may take to get their leaders (a broker still busy with the previous load). */
const TOPICS_READY_TIMEOUT_MS = 60_000

export interface AppBackend {
  readonly applicationId: string
  /** The topics of this run (suffixed on Kafka, so runs never share them). */
  readonly topics: SentinelTopics
  /** Creates the runtime for the topology (topics are made first, on Kafka). */
  open(topology: Topology, context: { readonly logger: pino.Logger; readonly metrics: Registry }): Promise<StreamsRuntime>
  /** Resolves once the topology has processed everything sent so far. */
  idle(timeoutMs: number): Promise<void>
  /** Whether every group has read every listed topic to its end. */
  consumed(topic: string, groups: readonly string[]): Promise<boolean>
  /** Records on the topology's dead-letter topic; null when not counted (Kafka). */
  deadLetters(): Promise<number | null>
  /** Closes the runtime, deletes what the run made. */
  close(): Promise<void>
}

/** StandaloneStreams with its state in a temporary directory. */
export function standaloneBackend(applicationId: string): AppBackend {
  const stateDir = mkdtempSync(join(tmpdir(), 'sentinel-demo-state-'))
  let runtime: StandaloneStreams | undefined
  const size = (topic: string): number => {
    let n = 0
    for (let p = 0; p < (runtime?.log.partitionCount(topic) ?? 0); p++) n += runtime!.log.endOffset(topic, p)
    return n
  }
  return {
    applicationId,
    topics: DEFAULT_TOPICS,
    async open(topology, { logger, metrics }) {
      runtime = new StandaloneStreams(topology, { applicationId, stateDir, commitIntervalMs: 200 }, { logger, metrics })
      return runtime
    },
    idle: (timeoutMs) => runtime?.idle(timeoutMs) ?? Promise.resolve(),
    async consumed(topic, groups) {
      const log = runtime?.log
      if (!log) return true
      for (let p = 0; p < (log.partitionCount(topic) ?? 0); p++) {
        const end = log.endOffset(topic, p)
        if (end > 0 && groups.some((g) => (log.committed(g, topic, p) ?? 0) < end)) return false
      }
      return true
    },
    deadLetters: async () => (runtime ? size(runtime.deadLetterTopic) : 0),
    async close() {
      await runtime?.close()
      rmSync(stateDir, { recursive: true, force: true })
    },
  }
}

/** How often the demo commits: a fifth of the runtime's default, so its anomalies and alerts show soon. */
const DEMO_COMMIT_INTERVAL_MS = 200

/**
 * SentinelStreams on `brokers` (comma-separated), with topics of its own for this run; `admin`
 * replaces the Kafka admin client (tests). At-least-once and the demo's commit interval unless
 * `processingGuarantee` and `commitIntervalMs` say otherwise (`commitIntervalMs: 'default'` leaves it
 * to the runtime, as `sentinel-streams run` does).
 */
export function kafkaBackend(
  brokers: string,
  options: { admin?: Admin; processingGuarantee?: ProcessingGuarantee; commitIntervalMs?: number | 'default' } = {},
): AppBackend {
  const run = randomBytes(3).toString('hex')
  const applicationId = `sentinel-demo-${run}`
  const topics = Object.fromEntries(Object.entries(DEFAULT_TOPICS).map(([k, t]) => [k, `${t}-${run}`])) as unknown as SentinelTopics
  const kafka = new Kafka({ clientId: applicationId, brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const admin = options.admin ?? kafka.admin()
  const stateDir = mkdtempSync(join(tmpdir(), 'sentinel-demo-kafka-'))
  let runtime: SentinelStreams | undefined
  let connected = false

  /** Records `group` has yet to read on `topic` (every partition with records). */
  const behind = async (group: string, topic: string): Promise<number> => {
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
    let lag = 0
    for (const end of await admin.fetchTopicOffsets(topic)) {
      const done = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1')
      if (Number(end.high) > 0 && done < Number(end.high)) lag += Number(end.high) - Math.max(0, done)
    }
    return lag
  }

  return {
    applicationId,
    topics,
    async open(topology, { logger, metrics }) {
      await admin.connect()
      connected = true
      // Not kafkajs' `waitForLeaders: true`: it gives up on the UNKNOWN_TOPIC_OR_PARTITION a loaded
      // broker answers while its metadata lags the creation, which ended a load sweep (--ingest-thread,
      // 15K/s) before its load; this waits for every partition's leader through it.
      await createTopicsWithLeaders(
        admin,
        Object.values(topics).map((topic) => ({ topic, numPartitions: 1 })),
        TOPICS_READY_TIMEOUT_MS,
      )
      const guarantee = options.processingGuarantee === undefined ? {} : { processingGuarantee: options.processingGuarantee }
      const commit = options.commitIntervalMs ?? DEMO_COMMIT_INTERVAL_MS
      const interval = commit === 'default' ? {} : { commitIntervalMs: commit }
      runtime = new SentinelStreams(topology, { applicationId, brokers, stateDir, ...interval, ...guarantee }, { logger, metrics })
      return runtime
    },
    async idle(timeoutMs) {
      // The app's group reads the telemetry, the repartition topics and the anomalies; it has
      // processed everything when its committed offsets reach their ends, twice in a row.
      const deadline = Date.now() + timeoutMs
      let caughtUp = 0
      while (Date.now() < deadline) {
        const offsets = await admin.fetchOffsets({ groupId: applicationId })
        let lag = offsets.length === 0 ? 1 : 0
        for (const { topic } of offsets) lag += await behind(applicationId, topic)
        caughtUp = lag === 0 ? caughtUp + 1 : 0
        if (caughtUp >= 2) return
        await new Promise((r) => setTimeout(r, 250))
      }
      throw new Error(`the app did not process its input within ${timeoutMs} ms`)
    },
    async consumed(topic, groups) {
      for (const group of groups) if ((await behind(group, topic)) > 0) return false
      return true
    },
    deadLetters: async () => null,
    async close() {
      await runtime?.close().catch(() => undefined)
      if (connected) {
        const made = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.endsWith(run) || t.startsWith(`${applicationId}-`))
        await admin.deleteTopics({ topics: made }).catch(() => undefined)
        await admin.disconnect().catch(() => undefined)
      }
      rmSync(stateDir, { recursive: true, force: true })
    },
  }
}
