/**
 * The Kafka backend of the demo and of `bench:sentinel --sweep` creates the run's topics and waits for
 * their leaders through UNKNOWN_TOPIC_OR_PARTITION: a sweep with --ingest-thread once ended at the
 * 15K/s load on that error from kafkajs' `createTopics({ waitForLeaders: true })`.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Admin } from 'kafkajs'
import pino from 'pino'
import { Registry } from 'prom-client'
import { kafkaBackend } from '../../../../../apps/sentinel/demo/app-backend.js'
import { Serdes } from '../../../../../schemas/index.js'
import { StreamsBuilder } from '../../../../../topology/index.js'

const unknownTopic = (): Error => Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' })

/** A broker whose metadata lags a creation `lagging` times, as a loaded one does; kafkajs' own wait then throws. */
function laggingAdmin(lagging: number) {
  const calls = { metadata: 0, created: [] as string[] }
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    createTopics: async ({ topics, waitForLeaders }: { topics: { topic: string }[]; waitForLeaders?: boolean }) => {
      calls.created.push(...topics.map((t) => t.topic))
      if (waitForLeaders && lagging > 0) throw unknownTopic()
      return true
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      calls.metadata++
      if (calls.metadata <= lagging) throw unknownTopic()
      return { topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 1 }] })) }
    },
    listTopics: async () => calls.created,
    deleteTopics: async () => undefined,
  } as unknown as Admin
  return { admin, calls }
}

test('open() waits for the topics it creates through UNKNOWN_TOPIC_OR_PARTITION, then makes the runtime', async () => {
  const { admin, calls } = laggingAdmin(3)
  const backend = kafkaBackend('127.0.0.1:1', { admin })
  const builder = new StreamsBuilder()
  builder
    .stream(backend.topics.telemetry, { key: Serdes.string(), value: Serdes.json() })
    .to(backend.topics.anomalies, { key: Serdes.string(), value: Serdes.json() })
  try {
    const runtime = await backend.open(builder.build(), { logger: pino({ level: 'silent' }), metrics: new Registry() })
    assert.equal(runtime.mode, 'kafka')
    assert.deepEqual(calls.created.sort(), Object.values(backend.topics).sort())
    assert.equal(calls.metadata, 4, 'asked again until the metadata had every leader')
  } finally {
    await backend.close()
  }
})
