/**
 * The input of the runtime benchmarks: a topic filled with synthetic LLM telemetry events (JSON),
 * keyed by model, with event times one millisecond apart so windows close as the run goes on.
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

export function benchEvent(i: number, start: number): { key: string; value: string; timestamp: string } {
  const model = MODELS[i % MODELS.length]!
  const event: BenchEvent = {
    model,
    application: `app-${i % 13}`,
    latency_ms: 200 + ((i * 7919) % 800),
    total_tokens: 100 + ((i * 104729) % 2000),
    timestamp: new Date(start + i).toISOString(),
  }
  return { key: model, value: JSON.stringify(event), timestamp: String(start + i) }
}

/** Creates `topic` and fills it with `count` events, in batches; returns the produce rate (events/s). */
export async function fillTopic(admin: Admin, producer: Producer, topic: string, count: number, partitions: number): Promise<number> {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] })
  const start = Date.parse('2026-01-01T00:00:00Z')
  const begun = performance.now()
  // Sends of 1,000: kafkajs' per-partition grouping is quadratic in the records of one send.
  const batch = 1_000
  for (let i = 0; i < count; i += batch) {
    const messages = Array.from({ length: Math.min(batch, count - i) }, (_, j) => benchEvent(i + j, start))
    await producer.send({ topic, messages })
  }
  return count / ((performance.now() - begun) / 1000)
}
