/**
 * `SentinelStreams.producerConnection()`: the instance's connection as data another thread can take
 * (structured-cloneable), or null when the kafkajs settings hold functions, which cannot cross.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pino from 'pino'
import { SentinelStreams } from '../../../runtime/kafka/sentinel-streams.js'
import { Serdes } from '../../../schemas/index.js'
import { StreamsBuilder } from '../../../topology/index.js'

function streams(kafka: ConstructorParameters<typeof SentinelStreams>[1]['kafka']): SentinelStreams {
  const b = new StreamsBuilder()
  b.stream('in', { key: Serdes.string(), value: Serdes.string() }).to('out')
  return new SentinelStreams(
    b.build(),
    { applicationId: 'producer-connection', brokers: 'kafka-1:9092,kafka-2:9092', ...(kafka ? { kafka } : {}) },
    { logger: pino({ level: 'silent' }) },
  )
}

test('producerConnection: brokers, the instance client id and plain settings, copied', () => {
  const runtime = streams({ ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'p' }, connectionTimeout: 5000 })
  const connection = runtime.producerConnection()
  assert.ok(connection)
  assert.deepEqual(connection.brokers, ['kafka-1:9092', 'kafka-2:9092'])
  assert.match(connection.clientId, /^producer-connection-/)
  assert.equal(runtime.producerConnection()!.clientId, connection.clientId, 'one client id per instance')
  assert.deepEqual(connection.kafka, { ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'p' }, connectionTimeout: 5000 })
  assert.notEqual(connection.kafka, runtime.config.kafka, 'a copy, not the runtime object')
})

test('producerConnection: null when a setting is a function (an OAuth token provider)', () => {
  const runtime = streams({ sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: 'token' }) } })
  assert.equal(runtime.producerConnection(), null)
})
