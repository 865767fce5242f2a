import { type Admin, type ITopicConfig, Kafka, logLevel } from 'kafkajs'
import { randomBytes } from 'node:crypto'
import { createTopicsWithLeaders } from '../runtime/internal-topics.js'
import { resolveBrokers } from '../runtime/local-broker.js'

/** The brokers integration tests talk to: `KAFKA_BROKERS`, or the one `npm run kafka:start` started. */
export function kafkaBrokers(): string[] {
  const brokers = resolveBrokers()
  if (!brokers) {
    throw new Error(
      'no Kafka broker for the integration tests: run them with `npm run test:integration` (starts one), ' +
        'or start one with `npm run kafka:start`, or set KAFKA_BROKERS=host:port',
    )
  }
  return brokers
}

/** A kafkajs client on the test broker, quiet unless KAFKAJS_LOG is set. */
export function testKafka(clientId = 'sentinel-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: kafkaBrokers(),
    logLevel: process.env.KAFKAJS_LOG ? logLevel.INFO : logLevel.NOTHING,
  })
}

/** Creates topics and waits until every partition has a leader, through UNKNOWN_TOPIC_OR_PARTITION (up to a minute). */
export const createTopicsAndWait = (admin: Admin, topics: ITopicConfig[]): Promise<void> => createTopicsWithLeaders(admin, topics, 60_000)

/** A topic name no other test run uses. */
export const uniqueTopic = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`

/**
 * A topic's values as text, read from its beginning by a new group until `atLeast` arrived (or a
 * minute passed), then for `quietMs` more, so that anything extra has time to arrive too.
 */
export async function readTextValues(topic: string, atLeast: number, quietMs = 0): Promise<string[]> {
  const consumer = testKafka().consumer({ groupId: uniqueTopic('text-reader') })
  const values: string[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value?.toString() ?? '') })
  const deadline = Date.now() + 60_000
  while (values.length < atLeast && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  if (quietMs > 0) await new Promise((r) => setTimeout(r, quietMs))
  await consumer.disconnect()
  return values
}

/** Every record of a topic from its beginning, by key, decoded by `decode`, collected until `stop()`. */
export async function collectTopic<V>(topic: string, decode: (value: Buffer) => V): Promise<{ byKey: Map<string, V[]>; stop: () => Promise<void> }> {
  const byKey = new Map<string, V[]>()
  const consumer = testKafka().consumer({ groupId: uniqueTopic('collector') })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = String(message.key)
      byKey.set(key, [...(byKey.get(key) ?? []), decode(message.value!)])
    },
  })
  return { byKey, stop: () => consumer.disconnect() }
}

/** Waits up to a minute for `done()`, failing with `what()` (evaluated then, so it can say what is missing). */
export async function waitUntil(done: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  if (!done()) throw new Error(`timed out waiting for ${what()}`)
}
