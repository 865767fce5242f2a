import type { KafkaConfig } from 'kafkajs'

/**
 * How an instance reaches its brokers, as plain data (structured-cloneable), so that another thread
 * of the process can write with its own producer (`SentinelStreams.producerConnection`).
 */
export interface ProducerConnection {
  readonly brokers: readonly string[]
  readonly clientId: string
  readonly kafka: Omit<KafkaConfig, 'brokers' | 'clientId'>
}
