/**
 * Settings of a standalone run: the streams settings that mean something in one process (state,
 * commits, caches, idle timeout), plus the embedded log's. Kafka-only settings (brokers, kafka,
 * processingGuarantee, sessionTimeoutMs) are accepted, so one config file serves both modes, and ignored.
 */
import { ConfigError, resolveConfig, type StreamsConfig } from '../config.js'
import type { HostInfo } from '../streams-runtime.js'
import type { RocksDBEngineOptions } from '../../state/engines/rocksdb-options.js'
import type { EngineKind } from '../../state/types.js'
import { LOG_DEFAULTS, type LogRetention } from './embedded-log.js'

export interface StandaloneConfig extends Omit<Partial<StreamsConfig>, 'applicationId'> {
  applicationId: string
  /** Partitions of each source topic of the embedded log: one count for all, or per topic (default 1). */
  partitions?: number | Readonly<Record<string, number>>
  /** Per-partition bound of the embedded log (it is memory only): oldest records dropped beyond it. */
  logRetention?: LogRetention
  /** Records read from one task's inputs per round (default 1000). */
  maxBatchRecords?: number
  /**
   * How long the processing loop may hold the event loop before letting I/O in (default 5 ms): an
   * HTTP request beside the topology waits about this long for a turn. A task's round is processed in
   * slices sized to fit it; smaller means lower ingest latency for a little throughput.
   */
  maxBlockMs?: number
}

export interface ResolvedStandaloneConfig {
  readonly applicationId: string
  readonly stateDir: string
  readonly storeEngine: EngineKind
  readonly rocksdb: Required<RocksDBEngineOptions>
  readonly commitIntervalMs: number
  readonly cacheMaxBytes: number
  readonly forwardingCacheMaxEntries: number
  readonly idleTimeoutMs: number
  readonly applicationServer: HostInfo | null
  readonly partitions: (topic: string) => number
  readonly logRetention: Required<LogRetention>
  readonly maxBatchRecords: number
  readonly maxBlockMs: number
}

/** A placeholder that passes the Kafka settings' broker check: standalone mode never connects. */
const NO_BROKER = 'embedded-log:0'

export function resolveStandaloneConfig(input: StandaloneConfig): ResolvedStandaloneConfig {
  // The shared settings are validated by the same code (and messages) as on Kafka.
  const base = resolveConfig({ ...input, brokers: NO_BROKER })
  return {
    applicationId: base.applicationId,
    stateDir: base.stateDir,
    storeEngine: base.storeEngine,
    rocksdb: base.rocksdb,
    commitIntervalMs: base.commitIntervalMs,
    cacheMaxBytes: base.cacheMaxBytes,
    forwardingCacheMaxEntries: base.forwardingCacheMaxEntries,
    idleTimeoutMs: base.idleTimeoutMs,
    applicationServer: base.applicationServer,
    partitions: partitionsOf(input.partitions),
    logRetention: {
      maxRecords: count('logRetention.maxRecords', input.logRetention?.maxRecords, LOG_DEFAULTS.maxRecords),
      maxBytes: count('logRetention.maxBytes', input.logRetention?.maxBytes, LOG_DEFAULTS.maxBytes),
    },
    maxBatchRecords: count('maxBatchRecords', input.maxBatchRecords, 1000),
    maxBlockMs: count('maxBlockMs', input.maxBlockMs, 5),
  }
}

function partitionsOf(value: StandaloneConfig['partitions']): (topic: string) => number {
  if (value === undefined) return () => 1
  if (typeof value === 'number') {
    const n = count('partitions', value, 1)
    return () => n
  }
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError('partitions', `expected a number or an object of topic -> count, got ${JSON.stringify(value)}`, 'Set e.g. partitions: 1, or { "llm-telemetry": 2 }.')
  }
  const counts = new Map(Object.entries(value).map(([topic, n]) => [topic, count(`partitions.${topic}`, n, 1)]))
  return (topic) => counts.get(topic) ?? 1
}

function count(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(field, `expected a positive integer, got ${JSON.stringify(value)}`, `Set ${field} to e.g. ${fallback}.`)
  }
  return value
}
