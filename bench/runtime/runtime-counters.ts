/** The runtime's per-topic record counters, read from its prom-client registry in process. */
import type { Registry } from 'prom-client'

export type TopicCounter = 'sentinel_streams_records_consumed_total' | 'sentinel_streams_records_produced_total'

/** Records by topic label of one of the runtime's counters (empty when it has none yet). */
export async function recordsByTopic(registry: Registry, counter: TopicCounter): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  const metric = registry.getSingleMetric(counter)
  if (!metric) return out
  for (const v of (await metric.get()).values) {
    const topic = String(v.labels.topic)
    out.set(topic, (out.get(topic) ?? 0) + v.value)
  }
  return out
}

/** Records consumed from `topic` alone (repartition topics are counted under their own names). */
export async function consumedFrom(registry: Registry, topic: string): Promise<number> {
  return (await recordsByTopic(registry, 'sentinel_streams_records_consumed_total')).get(topic) ?? 0
}
