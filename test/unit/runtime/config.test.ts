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

  test('the forwarding cache is on by default; 0 turns it off', () => {
    assert.equal(resolveConfig(base).forwardingCacheMaxEntries, 10_000)
    assert.equal(resolveConfig({ ...base, forwardingCacheMaxEntries: 0 }).forwardingCacheMaxEntries, 0)
  })
})
