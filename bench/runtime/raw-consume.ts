/**
 * The ceiling for the runtime: how fast plain kafkajs consumes the benchmark input on this machine
 * (eachBatch, JSON-parsing each value as any real consumer would, no state, no output).
 * The clock starts when the consumer has joined its group, as the topology's starts when it is
 * running: both then include their first fetch.
 */
import type { Kafka } from 'kafkajs'
import { randomBytes } from 'node:crypto'

export async function rawConsumeRate(kafka: Kafka, topic: string, count: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomBytes(4).toString('hex')}`, maxBytesPerPartition: 4 * 1024 * 1024 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let seen = 0
  let begun = 0
  consumer.on(consumer.events.GROUP_JOIN, () => {
    begun = performance.now()
  })
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          if (message.value) JSON.parse(message.value.toString('utf8'))
        }
        seen += batch.messages.length
        if (seen >= count) resolve(count / ((performance.now() - begun) / 1000))
      },
    })
  })
  try {
    return await done
  } finally {
    await consumer.disconnect()
  }
}
