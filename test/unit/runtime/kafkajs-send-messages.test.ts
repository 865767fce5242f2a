// First, as in the runtime's entry points: the corrected send must be in place before kafkajs loads.
import { createSendMessages, groupMessagesPerPartition, kafkajsSendInternals, sendMessagesFixInstalled } from '../../../runtime/kafka/kafkajs-send-messages.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { Kafka } from 'kafkajs'

const require = createRequire(import.meta.url)
const createEosManager = require('kafkajs/src/producer/eosManager') as (options: object) => { initProducerId(): Promise<void> }
const createRetry = require('kafkajs/src/retry') as (options: object) => unknown

const noLog = { debug() {}, info() {}, warn() {}, error() {} }
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Produced {
  broker: number
  partition: number
  firstSequence: number
  records: number
}

/**
 * A leader kill as kafkajs sees it: partition 0's leader (broker 1) refuses connections, so its
 * request fails at once; partition 1's leader (broker 2) appends and answers slowly (acks=all while
 * the dead follower is still in its ISR). After the metadata refresh partition 0 is on broker 2.
 */
function leaderKill() {
  const produced: Produced[] = []
  let leaderOf0 = 1
  const broker = (nodeId: number) => ({
    nodeId,
    async initProducerId() {
      return { producerId: 7, producerEpoch: 0 }
    },
    async produce({ topicData }: { topicData: { topic: string; partitions: { partition: number; firstSequence: number; messages: unknown[] }[] }[] }) {
      if (nodeId === 1) {
        await sleep(5)
        throw Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true })
      }
      await sleep(300)
      const partitions = topicData[0]!.partitions
      for (const p of partitions) produced.push({ broker: nodeId, partition: p.partition, firstSequence: p.firstSequence, records: p.messages.length })
      return { topics: [{ topicName: 't', partitions: partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) }] }
    },
  })
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]))
  const cluster = {
    retry: { retries: 5, initialRetryTime: 20 },
    targetTopics: new Set<string>(),
    async refreshMetadataIfNecessary() {},
    async refreshMetadata() {
      leaderOf0 = 2
    },
    async addMultipleTargetTopics() {},
    isConnected: () => true,
    removeBroker() {},
    async findControllerBroker() {
      return brokers.get(2)
    },
    findTopicPartitionMetadata: () => [
      { partitionId: 0, leader: leaderOf0 },
      { partitionId: 1, leader: 2 },
    ],
    findLeaderForPartitions(_topic: string, partitions: string[]) {
      const out: Record<number, number[]> = {}
      for (const p of partitions.map(Number)) (out[p === 0 ? leaderOf0 : 2] ??= []).push(p)
      return out
    },
    async findBroker({ nodeId }: { nodeId: string }) {
      return brokers.get(Number(nodeId))
    },
  }
  return { produced, cluster }
}

type SendFactory = (options: object) => (request: object) => Promise<unknown[]>

async function sendThroughLeaderKill(createSend: SendFactory): Promise<Produced[]> {
  const { produced, cluster } = leaderKill()
  const eosManager = createEosManager({ logger: noLog, cluster, transactional: false })
  await eosManager.initProducerId()
  const send = createSend({
    logger: noLog,
    cluster,
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    eosManager,
    retrier: createRetry(cluster.retry),
  })
  const messages = [0, 0, 1, 1].map((partition, i) => ({ partition, key: `k${i}`, value: `v${i}` }))
  await send({ acks: -1, timeout: 30_000, topicMessages: [{ topic: 't', messages }] })
  return produced
}

test('a leader kill mid-send: the slow broker gets its partition once, with its first sequence', async () => {
  const produced = await sendThroughLeaderKill(createSendMessages(kafkajsSendInternals()!) as SendFactory)
  // Partition 0 moved to a broker that had already answered and is not sent at all: kafkajs' other
  // retry bug (F8), which the runtime's acknowledgedSender makes up for by sending it again.
  assert.deepEqual(produced, [{ broker: 2, partition: 1, firstSequence: 0, records: 2 }])
})

test("kafkajs' own send retries while the slow request is in flight: the same records again under new sequences (chaos F10)", async () => {
  // kafkajs' file itself, not the module cache entry the fix installs under its name.
  const path = require.resolve('kafkajs/src/producer/sendMessages.js')
  const installed = require.cache[path]
  delete require.cache[path]
  const kafkajsSend = require(path) as SendFactory
  require.cache[path] = installed
  const produced = await sendThroughLeaderKill(kafkajsSend)
  const partition1 = produced.filter((p) => p.partition === 1)
  // Appended twice: the broker takes sequence 2 after 0-1 as new records, not as a retry.
  assert.deepEqual(
    partition1.map((p) => p.firstSequence),
    [0, 2],
  )
})

test('the corrected send is what kafkajs producers of this process use', () => {
  assert.ok(new Kafka({ brokers: ['localhost:1'] }).producer())
  assert.equal(sendMessagesFixInstalled(), true)
})

test('messages grouped by partition as kafkajs groups them: every message once, in order, the partitioner asked once each', () => {
  const kafkajsGrouping = require('kafkajs/src/producer/groupMessagesPerPartition') as typeof groupMessagesPerPartition
  const partitionMetadata = [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }]
  const messages = Array.from({ length: 2_000 }, (_, i) => ({ key: `k${(i * 7) % 13}`, value: String(i) }))
  const asked: unknown[] = []
  const partitioner = ({ message }: { message: unknown }): number => {
    asked.push(message)
    return Number((message as { key: string }).key.slice(1)) % 3
  }
  const ours = groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner })
  assert.deepEqual(asked, messages)
  assert.deepEqual(ours, kafkajsGrouping({ topic: 't', partitionMetadata, messages, partitioner }))
  assert.deepEqual(Object.keys(ours).sort(), ['0', '1', '2'])
  assert.equal(Object.values(ours).flat().length, messages.length)
  assert.deepEqual(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner }), {})
})
