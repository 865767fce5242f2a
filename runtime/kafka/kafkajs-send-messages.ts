/**
 * kafkajs' producer send (`producer/sendMessages.js`), with one change, installed in its place.
 *
 * kafkajs 2.2.4 sends one request per leader broker and awaits them with `Promise.all`: the first
 * broker to fail (a killed leader: ECONNREFUSED at once) starts the retry while the requests to the
 * other brokers are still in flight. Those brokers have no response recorded yet, so the retry sends
 * their partitions again. It waits for the broker's lock until the first request is answered, and by
 * then kafkajs has advanced the partitions' sequence numbers for it: the second request carries new
 * sequences and the broker appends the same records a second time, in the same transaction. Under
 * exactly-once that is a committed duplicate of one task's output on the partitions of one broker
 * (chaos finding F10). Two ways to get there: a leader kill (the dead broker's request fails at
 * once, while a surviving leader answers acks=all slowly until the dead follower leaves its ISR),
 * and, without any broker fault, the transaction coordinator answering a request's
 * AddPartitionsToTxn with CONCURRENT_TRANSACTIONS while the previous commit's markers are still
 * being written (kafkajs does that call inside the per-broker request, and does not retry it); a
 * rebalance storm logs that all the time, and had the same duplicates. It also
 * lets a send fail while one of its requests is still on the wire: the runtime then aborts the
 * transaction, and a produce the broker appends after the abort marker is left open in that
 * partition until the next commit marker of the same producer id commits it.
 *
 * The change: an attempt ends only when all its requests have settled (`Promise.allSettled`), then
 * fails with the first error. A broker that answered keeps its response and is not sent to again;
 * one that failed had its sequences rolled back, so its records go again with the same sequences and
 * a broker that appended them anyway drops them as duplicates. Everything else is kafkajs' code,
 * but the grouping of a send's messages by partition, made linear (`groupMessagesPerPartition`).
 *
 * kafkajs' message producer takes this module at load time, so it goes into Node's module cache under
 * kafkajs' own file name before kafkajs is loaded; the runtime's entry points import this module
 * first, beside the read_committed filter (`state/changelog/read-committed-filter.ts`).
 * `sendMessagesFixInstalled()` says whether that happened.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- kafkajs' internal objects are untyped */
import Module, { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

interface KafkajsInternals {
  KafkaJSMetadataNotLoaded: new (message: string) => Error
  staleMetadata(e: unknown): boolean
  groupMessagesPerPartition: typeof groupMessagesPerPartition
  createTopicData(topicData: unknown[]): { topic: string; partitions: { partition: number; messages: unknown[]; firstSequence?: number }[] }[]
  responseSerializer(response: unknown): unknown[]
}

function loadInternals(): KafkajsInternals | undefined {
  try {
    return {
      KafkaJSMetadataNotLoaded: (require('kafkajs/src/errors') as { KafkaJSMetadataNotLoaded: KafkajsInternals['KafkaJSMetadataNotLoaded'] })
        .KafkaJSMetadataNotLoaded,
      staleMetadata: (require('kafkajs/src/protocol/error') as { staleMetadata: KafkajsInternals['staleMetadata'] }).staleMetadata,
      groupMessagesPerPartition,
      createTopicData: require('kafkajs/src/producer/createTopicData') as KafkajsInternals['createTopicData'],
      responseSerializer: require('kafkajs/src/producer/responseSerializer') as KafkajsInternals['responseSerializer'],
    }
  } catch {
    return undefined
  }
}

/**
 * A send's messages by the partition the partitioner gives each, in order: kafkajs' own
 * (`producer/groupMessagesPerPartition.js`) copies a partition's array for every message it adds,
 * quadratic in the messages per partition (3% of the Sentinel app's profile on Kafka).
 */
export function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string
  partitionMetadata: unknown[]
  messages: unknown[]
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number
}): Record<string, unknown[]> {
  const byPartition: Record<string, unknown[]> = {}
  if (partitionMetadata.length === 0) return byPartition
  for (const message of messages) (byPartition[partitioner({ topic, partitionMetadata, message })] ??= []).push(message)
  return byPartition
}

/** The settled outcomes' first failure, thrown; nothing if every request was answered. */
export async function settleAll(requests: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(requests)
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failure) throw failure.reason
}

/** kafkajs' `createSendMessages`, with `settleAll` where kafkajs has `Promise.all` (see above). */
export function createSendMessages(internals: KafkajsInternals) {
  const { KafkaJSMetadataNotLoaded, staleMetadata, groupMessagesPerPartition, createTopicData, responseSerializer } = internals
  return ({ logger, cluster, partitioner, eosManager, retrier }: any) =>
    async ({ acks, timeout, compression, topicMessages }: any): Promise<unknown[]> => {
      const responsePerBroker = new Map<any, unknown[] | null>()

      const createProducerRequests = async (): Promise<Promise<void>[]> => {
        const topicMetadata = new Map<string, { partitionsPerLeader: Record<string, number[]>; messagesPerPartition: Record<string, unknown[]> }>()
        await cluster.refreshMetadataIfNecessary()
        for (const { topic, messages } of topicMessages as { topic: string; messages: unknown[] }[]) {
          const partitionMetadata = cluster.findTopicPartitionMetadata(topic)
          if (partitionMetadata.length === 0) {
            logger.debug('Producing to topic without metadata', { topic, targetTopics: Array.from(cluster.targetTopics) })
            throw new KafkaJSMetadataNotLoaded('Producing to topic without metadata')
          }
          const messagesPerPartition = groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner })
          const partitionsPerLeader = cluster.findLeaderForPartitions(topic, Object.keys(messagesPerPartition)) as Record<string, number[]>
          topicMetadata.set(topic, { partitionsPerLeader, messagesPerPartition })
          for (const nodeId of Object.keys(partitionsPerLeader)) {
            const broker = await cluster.findBroker({ nodeId })
            if (!responsePerBroker.has(broker)) responsePerBroker.set(broker, null)
          }
        }
        const brokersWithoutResponse = [...responsePerBroker.keys()].filter((broker) => !responsePerBroker.get(broker))
        return brokersWithoutResponse.map(async (broker) => {
          const topicData = createTopicData(
            [...topicMetadata.entries()]
              .filter(([, { partitionsPerLeader }]) => !!partitionsPerLeader[broker.nodeId])
              .map(([topic, { partitionsPerLeader, messagesPerPartition }]) => ({
                topic,
                partitions: partitionsPerLeader[broker.nodeId],
                messagesPerPartition,
              })),
          )
          await eosManager.acquireBrokerLock(broker)
          try {
            if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction(topicData)
            for (const { topic, partitions } of topicData) {
              for (const entry of partitions) {
                entry.firstSequence = eosManager.getSequence(topic, entry.partition)
                eosManager.updateSequence(topic, entry.partition, entry.messages.length)
              }
            }
            let response
            try {
              response = await broker.produce({
                transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
                producerId: eosManager.getProducerId(),
                producerEpoch: eosManager.getProducerEpoch(),
                acks,
                timeout,
                compression,
                topicData,
              })
            } catch (e) {
              for (const { topic, partitions } of topicData)
                for (const entry of partitions) eosManager.updateSequence(topic, entry.partition, -entry.messages.length)
              throw e
            }
            responsePerBroker.set(broker, acks !== 0 ? responseSerializer(response) : [])
          } catch (e) {
            responsePerBroker.delete(broker)
            throw e
          } finally {
            await eosManager.releaseBrokerLock(broker)
          }
        })
      }

      return retrier(async (bail: (e: unknown) => void, retryCount: number, retryTime: number) => {
        await cluster.addMultipleTargetTopics(topicMessages.map(({ topic }: { topic: string }) => topic))
        try {
          // The one change: no retry while a request of this attempt is still in flight.
          await settleAll(await createProducerRequests())
          return [...responsePerBroker.values()].flat()
        } catch (e: any) {
          if (e.name === 'KafkaJSConnectionClosedError') cluster.removeBroker({ host: e.host, port: e.port })
          if (!cluster.isConnected()) {
            logger.debug(`Cluster has disconnected, reconnecting: ${e.message}`, { retryCount, retryTime })
            await cluster.connect()
            await cluster.refreshMetadata()
            throw e
          }
          // The metadata may be stale (a leader moved, partitions were added).
          if (
            staleMetadata(e) ||
            e.name === 'KafkaJSMetadataNotLoaded' ||
            e.name === 'KafkaJSConnectionError' ||
            e.name === 'KafkaJSConnectionClosedError' ||
            (e.name === 'KafkaJSProtocolError' && e.retriable)
          ) {
            logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime })
            await cluster.refreshMetadata()
            throw e
          }
          logger.error(`${e.message}`, { retryCount, retryTime })
          if (e.retriable) throw e
          bail(e)
        }
      })
    }
}

let installedFactory: unknown

function install(): void {
  let sendMessagesPath: string
  let messageProducerPath: string
  try {
    sendMessagesPath = require.resolve('kafkajs/src/producer/sendMessages.js')
    messageProducerPath = require.resolve('kafkajs/src/producer/messageProducer.js')
  } catch {
    return
  }
  const cache = require.cache
  // Loaded already (kafkajs imported before the runtime): its message producer holds the old send.
  if (cache[messageProducerPath]) return
  const internals = loadInternals()
  if (!internals) return
  installedFactory = createSendMessages(internals)
  const module = new Module(sendMessagesPath)
  module.filename = sendMessagesPath
  module.loaded = true
  module.exports = installedFactory
  cache[sendMessagesPath] = module
}

install()

/** Whether kafkajs producers of this process use the corrected send. */
export function sendMessagesFixInstalled(): boolean {
  const path = require.resolve('kafkajs/src/producer/sendMessages.js')
  return installedFactory !== undefined && require.cache[path]?.exports === installedFactory
}

/** kafkajs' internals the send uses, for a test that runs it beside kafkajs' own. */
export const kafkajsSendInternals = (): KafkajsInternals | undefined => loadInternals()
