/**
 * `send` of the Kafka runtime: records written by application services (ingest, acknowledgements)
 * through one idempotent producer of the instance, apart from the stream thread's producer so a
 * service's writes never wait behind (or fail) a task's commit.
 */
import kafkajs, { type Admin, type IHeaders, type Kafka, type Message, type Producer } from 'kafkajs'
import type pino from 'pino'
import type { OutgoingRecord } from '../streams-runtime.js'
import { acknowledgedSender } from './acknowledged-sender.js'
import type { BatchSender } from './kafka-record-sink.js'
import { kafkajsLog } from './kafkajs-log.js'
import { AdminPartitionCounts } from './partition-counts.js'
import type { ProducerConnection } from './producer-connection.js'

// kafkajs is CommonJS; Node's static analysis does not see these exports.
const { Kafka: KafkaClient, Partitioners, logLevel } = kafkajs

/**
 * A writer on its own kafkajs client, for a thread that has no runtime (the ingest worker). Its
 * process must have loaded runtime/kafka/kafkajs-send-messages.ts before kafkajs, as every entry
 * point does: a retried send is otherwise not safe from duplicates.
 */
export function topicWriterFor(connection: ProducerConnection, logger: pino.Logger): TopicWriter {
  let log: ReturnType<typeof kafkajsLog> | undefined
  return new TopicWriter(
    () =>
      new KafkaClient({
        ...connection.kafka,
        clientId: connection.clientId,
        brokers: [...connection.brokers],
        logLevel: logLevel.WARN,
        logCreator: () => (log ??= kafkajsLog({ logger })),
      }),
  )
}

export class TopicWriter {
  private connecting: Promise<{ producer: Producer; admin: Admin; sender: BatchSender }> | undefined
  private closed = false

  constructor(private readonly kafka: () => Kafka) {}

  /** Resolves once every in-sync replica has the records (acks -1); the producer retries transient errors without duplicates. */
  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return
    const { sender } = await this.connect()
    await sender.sendBatch({ acks: -1, topicMessages: [{ topic, messages: records.map(toMessage) }] })
  }

  async close(): Promise<void> {
    this.closed = true
    const connecting = this.connecting
    this.connecting = undefined
    await connecting?.then(({ producer, admin }) => Promise.all([producer.disconnect(), admin.disconnect()])).catch(() => undefined)
  }

  private connect(): Promise<{ producer: Producer; admin: Admin; sender: BatchSender }> {
    if (this.closed) return Promise.reject(new Error('send() after close(): this runtime is closed; create a new one'))
    this.connecting ??= (async () => {
      // Idempotent: a retried send is not written twice. One request in flight keeps kafkajs' sequence numbers in order.
      const producer = this.kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
      await producer.connect()
      // The partition counts let every record's partition be known before the send, so a send that
      // kafkajs resolves without some partitions (after a leader move) is caught: acknowledgedSender.
      const admin = this.kafka().admin()
      await admin.connect()
      return { producer, admin, sender: acknowledgedSender(producer, new AdminPartitionCounts(admin)) }
    })().catch((e: unknown) => {
      this.connecting = undefined
      throw e
    })
    return this.connecting
  }
}

function toMessage(record: OutgoingRecord): Message {
  const message: Message = { key: record.key, value: record.value, timestamp: String(record.timestamp ?? Date.now()) }
  if (record.headers) message.headers = { ...record.headers } as IHeaders
  return message
}
