/**
 * The input of the runtime benchmarks: a topic filled with synthetic LLM telemetry events (JSON),
 * keyed by model, with event times one millisecond apart so windows close as the run goes on.
 *
 * Each model's events go to partition `model index % partitions`, not to the default partitioner's
 * murmur2 hash: with 8 models on 4 partitions the hash put 62.5% of the events on one partition, so
 * a run measured one busy partition more than the runtime. Retention is off on the topic: the event
 * times are months old, and a retention check could otherwise delete input in the middle of a run.
 */
import type { Admin, Producer } from 'kafkajs'

export interface BenchEvent {
  model: string
  application: string
  latency_ms: number
  total_tokens: number
  timestamp: string
}

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet', 'llama-3-70b', 'mistral-large', 'gemini-1.5-pro', 'qwen-2-72b', 'phi-3']

export function benchEvent(i: number, start: number, partitions = 1): { key: string; value: string; timestamp: string; partition: number } {
  const modelIndex = i % MODELS.length
  const model = MODELS[modelIndex]!
  const event: BenchEvent = {
    model,
    application: `app-${i % 13}`,
    latency_ms: 200 + ((i * 7919) % 800),
    total_tokens: 100 + ((i * 104729) % 2000),
    timestamp: new Date(start + i).toISOString(),
  }
  return { key: model, value: JSON.stringify(event), timestamp: String(start + i), partition: modelIndex % partitions }
}

/** Topic settings for every bench topic: nothing is deleted by time or size during a run. */
export const UNLIMITED_RETENTION = [
  { name: 'retention.ms', value: '-1' },
  { name: 'retention.bytes', value: '-1' },
]

/** Creates `topic` and fills it with `count` events, in batches; returns the produce rate (events/s). */
export async function fillTopic(admin: Admin, producer: Producer, topic: string, count: number, partitions: number): Promise<number> {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, configEntries: UNLIMITED_RETENTION }] })
  const start = Date.parse('2026-01-01T00:00:00Z')
  const begun = performance.now()
  // Sends of 1,000: kafkajs' per-partition grouping is quadratic in the records of one send.
  const batch = 1_000
  for (let i = 0; i < count; i += batch) {
    const messages = Array.from({ length: Math.min(batch, count - i) }, (_, j) => benchEvent(i + j, start, partitions))
    await producer.send({ topic, messages })
  }
  return count / ((performance.now() - begun) / 1000)
}
