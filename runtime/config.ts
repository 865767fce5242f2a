/**
 * The configuration of a running application, validated once at start. Every error names the
 * field, what was given and what to do, because a misconfigured streams app otherwise fails minutes
 * later inside a rebalance with a message about something else.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { distance } from 'fastest-levenshtein'
import type { KafkaConfig } from 'kafkajs'
import { ROCKSDB_DEFAULTS, type RocksDBEngineOptions } from '../state/engines/rocksdb-options.js'
import type { EngineKind } from '../state/types.js'
import { ConfigError } from './config-error.js'
import { kafkaSecurityOptions, type SecurityConfig } from './security-config.js'
import type { HostInfo } from './streams-runtime.js'

export { ConfigError }

export type ProcessingGuarantee = 'at-least-once' | 'exactly-once'

export interface StreamsConfig {
  /** Consumer group id and prefix of every internal topic and state directory. */
  applicationId: string
  /** `host:port` list, or a comma-separated string. */
  brokers: string | readonly string[]
  /** kafkajs client options (ssl, sasl, timeouts), except brokers and clientId. */
  kafka?: Omit<KafkaConfig, 'brokers' | 'clientId'>
  /**
   * A secured cluster: `security.protocol`, SASL mechanism and user, TLS CA and client certificate,
   * with the secrets read from environment variables it names. Becomes kafkajs' `ssl` and `sasl`.
   */
  security?: SecurityConfig
  /** Where task state lives: `<stateDir>/<applicationId>/<taskId>/<store>/`. */
  stateDir?: string
  processingGuarantee?: ProcessingGuarantee
  /** How often caches are flushed and offsets committed. */
  commitIntervalMs?: number
  /**
   * Byte budget of the record cache, shared by the tasks of one instance. The CLI's `--threads N`
   * runs N instances in one application process and gives each 1/N, as Kafka Streams divides
   * `statestore.cache.max.bytes` among its stream threads.
   */
  cacheMaxBytes?: number
  /**
   * Pending table updates (aggregations, table sources) held per task, each the latest value of its
   * row, and forwarded downstream at commit (Kafka Streams' record cache): a key updated many times
   * within `commitIntervalMs` produces one output record. Over the bound the oldest are forwarded
   * early. 0 forwards every update as it happens (Kafka Streams' `statestore.cache.max.bytes=0`).
   */
  forwardingCacheMaxEntries?: number
  storeEngine?: EngineKind
  /**
   * Native memory of the RocksDB engine, per store (an instance holds one RocksDB database per store
   * per task, so each figure is multiplied by that count): `blockCache` (default off: the binding
   * can only give every database its own 32 MB cache), `writeBufferSize` (default 4 MiB; two per
   * store at most) and `maxOpenFiles` (default 64 table files per store).
   */
  rocksdb?: RocksDBEngineOptions
  /** Confluent-compatible Schema Registry, for Avro serdes. */
  schemaRegistryUrl?: string
  /** After this long without records, a task's stream time advances with the wall clock so its windows close. 0 = off. */
  idleTimeoutMs?: number
  /**
   * A task assigned to this instance but not running (restoring, fenced, failed to start) for longer
   * than this is logged at error with its cause and counted in `sentinel_streams_stalled_tasks`.
   * Set it above the longest restore you expect.
   */
  taskStallTimeoutMs?: number
  /** How long the group waits for a silent member (a crashed instance) before moving its tasks. Broker minimum: 6000. */
  sessionTimeoutMs?: number
  /**
   * This instance's address for interactive queries ("host:port"), e.g. where its HTTP API listens.
   * It travels to every other instance with the group's assignment, so each one can say which
   * instance holds a key (`queryMetadataForKey`). Unset: this instance answers for its own stores only.
   */
  applicationServer?: string
  /**
   * Create the topology's missing source and output topics at start with these settings, instead of
   * refusing to start (the default, as Kafka Streams does). Convenient for applications that own
   * their topics (LLM-Sentinel); the partition count is the most instances that can share the work.
   */
  createMissingTopics?: TopicSettings
  /**
   * Where a task starts reading a source topic that has no committed offset for the application:
   * `earliest` (default, as Kafka Streams) or `latest` (skip what was written before the first
   * start). Internal repartition topics always start at the earliest offset: the application wrote
   * them itself.
   */
  autoOffsetReset?: AutoOffsetReset
  /**
   * Warm copies of each stateful task's stores kept on other instances (Kafka Streams'
   * `num.standby.replicas`): an instance holding one consumes the task's changelog into local
   * stores, so when the task moves there (its owner died) only the changelog's tail is restored.
   * Default 0. More than the instances minus one cannot all be placed; the extra ones are skipped.
   */
  numStandbyReplicas?: number
}

export type AutoOffsetReset = 'earliest' | 'latest'

export interface TopicSettings {
  partitions: number
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number
}

export type ResolvedStreamsConfig = Required<Omit<StreamsConfig, 'kafka' | 'security' | 'schemaRegistryUrl' | 'brokers' | 'applicationServer' | 'createMissingTopics' | 'rocksdb'>> & {
  rocksdb: Required<RocksDBEngineOptions>
  createMissingTopics: TopicSettings | null
  brokers: string[]
  applicationServer: HostInfo | null
  kafka: Omit<KafkaConfig, 'brokers' | 'clientId'>
  schemaRegistryUrl: string | undefined
}

export const DEFAULTS = {
  processingGuarantee: 'at-least-once',
  commitIntervalMs: 1_000,
  exactlyOnceCommitIntervalMs: 100,
  cacheMaxBytes: 64 * 1024 * 1024,
  forwardingCacheMaxEntries: 10_000,
  storeEngine: 'rocksdb',
  idleTimeoutMs: 0,
  sessionTimeoutMs: 30_000,
  taskStallTimeoutMs: 60_000,
  autoOffsetReset: 'earliest',
  numStandbyReplicas: 0,
} as const

/** Where task state lives when `stateDir` is not set. */
export const defaultStateDir = (): string => join(tmpdir(), 'sentinel-streams', 'state')

/** Every StreamsConfig key: a near miss of one is a typo, not a setting of the topology's own. */
export const KNOWN_KEYS: readonly (keyof StreamsConfig)[] = [
  'applicationId',
  'brokers',
  'kafka',
  'security',
  'stateDir',
  'processingGuarantee',
  'commitIntervalMs',
  'cacheMaxBytes',
  'forwardingCacheMaxEntries',
  'storeEngine',
  'rocksdb',
  'schemaRegistryUrl',
  'idleTimeoutMs',
  'taskStallTimeoutMs',
  'sessionTimeoutMs',
  'applicationServer',
  'createMissingTopics',
  'autoOffsetReset',
  'numStandbyReplicas',
]

/**
 * A config may carry keys of its own for the topology (the CLI passes the whole file), so unknown
 * keys are allowed; one that is a near miss of a setting (`comitIntervalMs`, `StateDir`) is a typo
 * that would otherwise be ignored in silence, and fails naming the setting meant.
 */
function rejectNearMisses(input: object): void {
  const known = new Set<string>(KNOWN_KEYS)
  for (const key of Object.keys(input)) {
    if (known.has(key)) continue
    let best: { name: string; d: number } | undefined
    for (const name of KNOWN_KEYS) {
      const d = key.toLowerCase() === name.toLowerCase() ? 0 : distance(key.toLowerCase(), name.toLowerCase())
      if (best === undefined || d < best.d) best = { name, d }
    }
    // Within two edits, and less than a quarter of the name: `kafka` and `stateDir` stay far apart.
    if (best !== undefined && best.d <= Math.min(2, Math.floor(best.name.length / 4))) {
      throw new ConfigError(key, 'is not a setting', `Did you mean '${best.name}'? (Settings: ${KNOWN_KEYS.join(', ')}.)`)
    }
  }
}

const APPLICATION_ID = /^[a-zA-Z0-9._-]{1,200}$/
const BROKER = /^[^\s:,]+:\d{1,5}$/
/** A host name, an IPv4 address, or a bracketed IPv6 address, then a port. */
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:,/[\]]+):(\d{1,5})$/

/** Parses an `applicationServer` address ("host:port"); a `ConfigError` naming the field otherwise. */
export function parseHostInfo(address: unknown, field = 'applicationServer'): HostInfo {
  const match = typeof address === 'string' ? HOST_PORT.exec(address) : null
  const port = match ? Number(match[2]) : NaN
  if (!match || port < 1 || port > 65_535) {
    throw new ConfigError(
      field,
      `${JSON.stringify(address)} is not host:port`,
      `Set it to the address other instances and clients reach this instance at (its HTTP API), e.g. "sentinel-1:8080".`,
    )
  }
  return { host: match[1]!, port }
}

export const formatHostInfo = (host: HostInfo): string => `${host.host}:${host.port}`

function positiveInteger(field: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ConfigError(field, `expected a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(value)}`, `Set ${field} to e.g. ${fallback || 1000}.`)
  }
  return value
}

function forwardingCacheBound(value: unknown): number {
  if (value === undefined) return DEFAULTS.forwardingCacheMaxEntries
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigError(
      'forwardingCacheMaxEntries',
      `expected a non-negative integer, got ${JSON.stringify(value)}`,
      `Set it to the pending table updates a task may hold back until commit (default ${DEFAULTS.forwardingCacheMaxEntries}), or to 0 to forward every update.`,
    )
  }
  return value
}

function atLeast(field: string, value: unknown, fallback: number, minimum: number, why: string): number {
  const n = positiveInteger(field, value, fallback)
  if (n < minimum) throw new ConfigError(field, `${n} is below ${minimum}, ${why}`, `Set ${field} to ${minimum} or more.`)
  return n
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) {
    throw new ConfigError(field, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`, `Use one of those values.`)
  }
  return value as T
}

function topicSettings(field: string, value: TopicSettings | undefined): TopicSettings | null {
  if (value === undefined) return null
  if (typeof value !== 'object' || value === null) throw new ConfigError(field, `expected { partitions, replicationFactor? }, got ${JSON.stringify(value)}`, 'For example { partitions: 4 }.')
  const count = (name: 'partitions' | 'replicationFactor', n: unknown): number => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ConfigError(`${field}.${name}`, `expected a positive integer, got ${JSON.stringify(n)}`, 'For example { partitions: 4 } (replicationFactor is optional).')
    return n
  }
  const partitions = count('partitions', value.partitions)
  return value.replicationFactor === undefined ? { partitions } : { partitions, replicationFactor: count('replicationFactor', value.replicationFactor) }
}

const ROCKSDB_KEYS: readonly (keyof RocksDBEngineOptions)[] = ['blockCache', 'writeBufferSize', 'maxOpenFiles', 'maxBackgroundJobs', 'memtableBudgetBytes']
/** RocksDB raises a smaller `max_open_files` to 20 without saying so. */
const MIN_OPEN_FILES = 20
/** A smaller budget would flush at almost every write: a number in MiB given as bytes, most likely. */
const MIN_MEMTABLE_BUDGET = 1024 * 1024

function rocksdbSettings(value: unknown): Required<RocksDBEngineOptions> {
  if (value === undefined) return { ...ROCKSDB_DEFAULTS }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('rocksdb', `expected an object, got ${JSON.stringify(value)}`, `For example { blockCache: false, writeBufferSize: ${ROCKSDB_DEFAULTS.writeBufferSize}, maxOpenFiles: ${ROCKSDB_DEFAULTS.maxOpenFiles} }.`)
  }
  const input = value as Record<string, unknown>
  const unknownKey = Object.keys(input).find((k) => !(ROCKSDB_KEYS as readonly string[]).includes(k))
  if (unknownKey !== undefined) throw new ConfigError(`rocksdb.${unknownKey}`, 'is not a setting', `Settings: ${ROCKSDB_KEYS.join(', ')}.`)
  const { blockCache, maxOpenFiles, memtableBudgetBytes } = input
  if (blockCache !== undefined && typeof blockCache !== 'boolean') {
    throw new ConfigError('rocksdb.blockCache', `expected true or false, got ${JSON.stringify(blockCache)}`, 'Set it to false (default: no block cache) or true (a 32 MB cache per store).')
  }
  if (maxOpenFiles !== undefined && maxOpenFiles !== -1 && !(typeof maxOpenFiles === 'number' && Number.isInteger(maxOpenFiles) && maxOpenFiles >= MIN_OPEN_FILES)) {
    throw new ConfigError('rocksdb.maxOpenFiles', `expected -1 (all) or an integer of at least ${MIN_OPEN_FILES}, got ${JSON.stringify(maxOpenFiles)}`, `Set it to e.g. ${ROCKSDB_DEFAULTS.maxOpenFiles}; RocksDB raises smaller values to ${MIN_OPEN_FILES}.`)
  }
  if (memtableBudgetBytes !== undefined && memtableBudgetBytes !== 0 && !(typeof memtableBudgetBytes === 'number' && Number.isInteger(memtableBudgetBytes) && memtableBudgetBytes >= MIN_MEMTABLE_BUDGET)) {
    throw new ConfigError(
      'rocksdb.memtableBudgetBytes',
      `expected 0 (no budget) or an integer of at least ${MIN_MEMTABLE_BUDGET} (bytes), got ${JSON.stringify(memtableBudgetBytes)}`,
      `Set it to e.g. ${ROCKSDB_DEFAULTS.memtableBudgetBytes} (the default, bytes, not MiB) or 0.`,
    )
  }
  return {
    blockCache: blockCache ?? ROCKSDB_DEFAULTS.blockCache,
    writeBufferSize: atLeast('rocksdb.writeBufferSize', input.writeBufferSize, ROCKSDB_DEFAULTS.writeBufferSize, 64 * 1024, 'too small a memtable for RocksDB to flush sensibly (bytes, not MiB)'),
    maxOpenFiles: (maxOpenFiles as number | undefined) ?? ROCKSDB_DEFAULTS.maxOpenFiles,
    maxBackgroundJobs: positiveInteger('rocksdb.maxBackgroundJobs', input.maxBackgroundJobs, ROCKSDB_DEFAULTS.maxBackgroundJobs),
    memtableBudgetBytes: (memtableBudgetBytes as number | undefined) ?? ROCKSDB_DEFAULTS.memtableBudgetBytes,
  }
}

export function resolveConfig(input: StreamsConfig): ResolvedStreamsConfig {
  if (typeof input !== 'object' || input === null) throw new ConfigError('(config)', 'expected an object', 'Pass { applicationId, brokers, ... }.')
  rejectNearMisses(input)
  const { applicationId } = input
  if (typeof applicationId !== 'string' || !APPLICATION_ID.test(applicationId)) {
    throw new ConfigError(
      'applicationId',
      `expected 1-200 characters of [a-zA-Z0-9._-], got ${JSON.stringify(applicationId)}`,
      'It names the consumer group and prefixes internal topics, so it must be a valid topic name part, e.g. "llm-sentinel".',
    )
  }
  const brokerList = typeof input.brokers === 'string' ? input.brokers.split(',').map((b) => b.trim()).filter(Boolean) : [...(input.brokers ?? [])]
  if (brokerList.length === 0) {
    throw new ConfigError('brokers', 'no broker given', 'Pass brokers: ["host:9092"], set KAFKA_BROKERS, or start a local one with `npm run kafka:start`.')
  }
  const badBroker = brokerList.find((b) => !BROKER.test(b))
  if (badBroker !== undefined) throw new ConfigError('brokers', `'${badBroker}' is not host:port`, 'Write each broker as host:port, e.g. "kafka-1:9092".')

  const processingGuarantee = oneOf('processingGuarantee', input.processingGuarantee, ['at-least-once', 'exactly-once'], DEFAULTS.processingGuarantee)
  const commitFallback = processingGuarantee === 'exactly-once' ? DEFAULTS.exactlyOnceCommitIntervalMs : DEFAULTS.commitIntervalMs
  if (input.schemaRegistryUrl !== undefined) {
    if (!URL.canParse(input.schemaRegistryUrl) || !/^https?:$/.test(new URL(input.schemaRegistryUrl).protocol)) {
      throw new ConfigError('schemaRegistryUrl', `'${input.schemaRegistryUrl}' is not an http(s) URL`, 'Write it as http(s)://host:port.')
    }
  }
  return {
    applicationId,
    brokers: brokerList,
    kafka: { ...(input.kafka ?? {}), ...kafkaSecurityOptions(input.security) },
    stateDir: input.stateDir ?? defaultStateDir(),
    processingGuarantee,
    commitIntervalMs: positiveInteger('commitIntervalMs', input.commitIntervalMs, commitFallback),
    cacheMaxBytes: positiveInteger('cacheMaxBytes', input.cacheMaxBytes, DEFAULTS.cacheMaxBytes, true),
    forwardingCacheMaxEntries: forwardingCacheBound(input.forwardingCacheMaxEntries),
    storeEngine: oneOf('storeEngine', input.storeEngine, ['rocksdb', 'leveldb', 'memory'], DEFAULTS.storeEngine),
    rocksdb: rocksdbSettings(input.rocksdb),
    schemaRegistryUrl: input.schemaRegistryUrl,
    idleTimeoutMs: positiveInteger('idleTimeoutMs', input.idleTimeoutMs, DEFAULTS.idleTimeoutMs, true),
    applicationServer: input.applicationServer === undefined ? null : parseHostInfo(input.applicationServer),
    createMissingTopics: topicSettings('createMissingTopics', input.createMissingTopics),
    taskStallTimeoutMs: positiveInteger('taskStallTimeoutMs', input.taskStallTimeoutMs, DEFAULTS.taskStallTimeoutMs),
    sessionTimeoutMs: atLeast('sessionTimeoutMs', input.sessionTimeoutMs, DEFAULTS.sessionTimeoutMs, 6_000, "the broker's group.min.session.timeout.ms"),
    autoOffsetReset: oneOf('autoOffsetReset', input.autoOffsetReset, ['earliest', 'latest'], DEFAULTS.autoOffsetReset),
    numStandbyReplicas: positiveInteger('numStandbyReplicas', input.numStandbyReplicas, DEFAULTS.numStandbyReplicas, true),
  }
}
