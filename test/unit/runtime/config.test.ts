import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, resolveConfig, type StreamsConfig } from '../../../runtime/config.js'

const base: StreamsConfig = { applicationId: 'llm-sentinel', brokers: '127.0.0.1:9092, kafka-2:9093' }

const rejects = (config: unknown, field: string, pattern: RegExp): void => {
  assert.throws(
    () => resolveConfig(config as StreamsConfig),
    (e: unknown) => e instanceof ConfigError && e.field === field && pattern.test(e.message),
  )
}

describe('resolveConfig', () => {
  test('fills defaults and splits a broker string', () => {
    const config = resolveConfig(base)
    assert.deepEqual(config.brokers, ['127.0.0.1:9092', 'kafka-2:9093'])
    assert.equal(config.processingGuarantee, 'at-least-once')
    assert.equal(config.commitIntervalMs, 1000)
    assert.equal(config.storeEngine, 'rocksdb')
    assert.equal(config.taskStallTimeoutMs, 60_000)
  })

  test('exactly-once commits more often by default, as a transaction spans a commit interval', () => {
    assert.equal(resolveConfig({ ...base, processingGuarantee: 'exactly-once' }).commitIntervalMs, 100)
    assert.equal(resolveConfig({ ...base, processingGuarantee: 'exactly-once', commitIntervalMs: 500 }).commitIntervalMs, 500)
  })

  test('names the field, the value and the fix', () => {
    rejects({ ...base, applicationId: 'has space' }, 'applicationId', /got "has space".*llm-sentinel/)
    rejects({ ...base, brokers: [] }, 'brokers', /kafka:start/)
    rejects({ ...base, brokers: 'localhost' }, 'brokers', /'localhost' is not host:port/)
    rejects({ ...base, commitIntervalMs: -5 }, 'commitIntervalMs', /positive integer, got -5/)
    rejects({ ...base, processingGuarantee: 'exactly_once' }, 'processingGuarantee', /'at-least-once', 'exactly-once', got "exactly_once"/)
    rejects({ ...base, storeEngine: 'redis' }, 'storeEngine', /'rocksdb', 'leveldb', 'memory'/)
    rejects({ ...base, sessionTimeoutMs: 1000 }, 'sessionTimeoutMs', /below 6000, the broker's group.min.session.timeout.ms/)
    rejects({ ...base, schemaRegistryUrl: 'registry:8081' }, 'schemaRegistryUrl', /not a URL|http/)
    rejects({ ...base, forwardingCacheMaxEntries: -1 }, 'forwardingCacheMaxEntries', /non-negative integer, got -1.*0 to forward every update/)
    rejects({ ...base, forwardingCacheMaxEntries: 1.5 }, 'forwardingCacheMaxEntries', /got 1.5/)
    rejects({ ...base, taskStallTimeoutMs: 0 }, 'taskStallTimeoutMs', /positive integer, got 0/)
  })

  test('RocksDB memory settings: defaults without a block cache, each field checked with its fix', () => {
    assert.deepEqual(resolveConfig(base).rocksdb, {
      blockCache: false,
      writeBufferSize: 4 * 1024 * 1024,
      maxOpenFiles: 64,
      maxBackgroundJobs: 2,
      memtableBudgetBytes: 128 * 1024 * 1024,
    })
    assert.deepEqual(resolveConfig({ ...base, rocksdb: { blockCache: true, maxOpenFiles: -1 } }).rocksdb, {
      blockCache: true,
      writeBufferSize: 4 * 1024 * 1024,
      maxOpenFiles: -1,
      maxBackgroundJobs: 2,
      memtableBudgetBytes: 128 * 1024 * 1024,
    })
    assert.equal(resolveConfig({ ...base, rocksdb: { memtableBudgetBytes: 0 } }).rocksdb.memtableBudgetBytes, 0)
    assert.equal(resolveConfig({ ...base, rocksdb: { memtableBudgetBytes: 32 << 20 } }).rocksdb.memtableBudgetBytes, 32 << 20)
    assert.equal(resolveConfig({ ...base, rocksdb: { writeBufferSize: 1 << 20, maxOpenFiles: 20 } }).rocksdb.writeBufferSize, 1 << 20)
    rejects({ ...base, rocksdb: 'small' }, 'rocksdb', /expected an object, got "small".*blockCache: false/)
    rejects({ ...base, rocksdb: { blockCache: 'off' } }, 'rocksdb.blockCache', /true or false, got "off".*32 MB cache per store/)
    rejects({ ...base, rocksdb: { blockCacheSize: 8 << 20 } }, 'rocksdb.blockCacheSize', /not a setting.*blockCache, writeBufferSize, maxOpenFiles/)
    rejects({ ...base, rocksdb: { writeBufferSize: 4 } }, 'rocksdb.writeBufferSize', /4 is below 65536.*bytes, not MiB/)
    rejects({ ...base, rocksdb: { writeBufferSize: '4MB' } }, 'rocksdb.writeBufferSize', /positive integer, got "4MB"/)
    rejects({ ...base, rocksdb: { maxOpenFiles: 10 } }, 'rocksdb.maxOpenFiles', /-1 \(all\) or an integer of at least 20, got 10.*raises smaller values to 20/)
    rejects({ ...base, rocksdb: { maxOpenFiles: 0 } }, 'rocksdb.maxOpenFiles', /got 0/)
    rejects({ ...base, rocksdb: { maxBackgroundJobs: 0 } }, 'rocksdb.maxBackgroundJobs', /positive integer, got 0/)
    rejects(
      { ...base, rocksdb: { memtableBudgetBytes: 128 } },
      'rocksdb.memtableBudgetBytes',
      /0 \(no budget\) or an integer of at least 1048576 \(bytes\), got 128.*bytes, not MiB/,
    )
    rejects({ ...base, rocksdb: { memtableBudgetBytes: -1 } }, 'rocksdb.memtableBudgetBytes', /got -1/)
    rejects({ ...base, rocksdb: { memtableBudgetBytes: '128MB' } }, 'rocksdb.memtableBudgetBytes', /got "128MB"/)
  })

  test('the forwarding cache is on by default; 0 turns it off', () => {
    assert.equal(resolveConfig(base).forwardingCacheMaxEntries, 10_000)
    assert.equal(resolveConfig({ ...base, forwardingCacheMaxEntries: 0 }).forwardingCacheMaxEntries, 0)
  })
})

describe('settings a Kafka Streams user expects', () => {
  const base = { applicationId: 'app', brokers: 'localhost:9092' }
  const fails = (config: Record<string, unknown>, field: string, message: RegExp): void => {
    assert.throws(
      () => resolveConfig({ ...base, ...config } as StreamsConfig),
      (e: unknown) => e instanceof ConfigError && e.field === field && message.test(e.message),
    )
  }

  test('a near miss of a setting fails naming the setting meant; keys of the topology pass', () => {
    fails({ comitIntervalMs: 200 }, 'comitIntervalMs', /Did you mean 'commitIntervalMs'\?/)
    fails({ StateDir: '/tmp/x' }, 'StateDir', /Did you mean 'stateDir'\?/)
    fails({ processingGuarentee: 'exactly-once' }, 'processingGuarentee', /Did you mean 'processingGuarantee'\?/)
    fails({ autoOffsetRest: 'latest' }, 'autoOffsetRest', /Did you mean 'autoOffsetReset'\?/)
    const resolved = resolveConfig({ ...base, sentinel: { api: { enabled: false } }, threshold: 100, inputTopic: 'calls' } as StreamsConfig)
    assert.equal(resolved.applicationId, 'app')
  })

  test('numStandbyReplicas is 0 by default, a non-negative integer otherwise, and a typo of it is caught', () => {
    assert.equal(resolveConfig(base).numStandbyReplicas, 0)
    assert.equal(resolveConfig({ ...base, numStandbyReplicas: 1 }).numStandbyReplicas, 1)
    rejects({ ...base, numStandbyReplicas: -1 }, 'numStandbyReplicas', /non-negative integer, got -1/)
    rejects({ ...base, numStandbyReplicas: '1' }, 'numStandbyReplicas', /got "1"/)
    rejects({ ...base, numStandbyReplica: 1 }, 'numStandbyReplica', /Did you mean 'numStandbyReplicas'\?/)
  })

  test('autoOffsetReset is earliest by default, latest on request, and nothing else', () => {
    assert.equal(resolveConfig(base).autoOffsetReset, 'earliest')
    assert.equal(resolveConfig({ ...base, autoOffsetReset: 'latest' }).autoOffsetReset, 'latest')
    fails({ autoOffsetReset: 'newest' }, 'autoOffsetReset', /newest/)
  })
})
