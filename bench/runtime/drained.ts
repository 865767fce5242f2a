/**
 * When a single-instance bench run is finished: the instance has consumed the whole input and,
 * from every repartition topic, at least as many records as it produced there (its own metrics;
 * a record counts as consumed once processed). Its later output then comes only from what `close()`
 * flushes. Waiting for the output topic to stop growing for a few seconds instead cuts a run short
 * whenever a downstream sub-topology stalls for longer than that (a cold start, a slow commit on a
 * busy machine), and the bench then compares a partial output. Committed offsets are no measure
 * under exactly-once: every upstream task's commit marker sits after its records, and a consumer
 * never commits past the markers at a partition's end.
 */
import type { Registry } from 'prom-client'
import { recordsByTopic } from './runtime-counters.js'

/** Topics of `internal` the instance has produced more records to than it has consumed from them. */
async function behind(registry: Registry, internal: readonly string[]): Promise<string[]> {
  const [produced, consumed] = await Promise.all([
    recordsByTopic(registry, 'sentinel_streams_records_produced_total'),
    recordsByTopic(registry, 'sentinel_streams_records_consumed_total'),
  ])
  return internal.filter((topic) => (consumed.get(topic) ?? 0) < (produced.get(topic) ?? 0))
}

/**
 * Resolves once every repartition topic of the instance whose metrics `registry` holds is consumed
 * as far as it was produced, twice in a row 250 ms apart (the input must already be consumed).
 * Rejects after `timeoutMs`, naming the topics still behind.
 */
export async function untilDrained(registry: Registry, repartitionTopics: readonly string[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let drainedPolls = 0
  for (;;) {
    const lagging = await behind(registry, repartitionTopics)
    drainedPolls = lagging.length === 0 ? drainedPolls + 1 : 0
    if (drainedPolls === 2) return
    if (Date.now() > deadline) throw new Error(`records produced to ${lagging.join(', ')} were not all consumed within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
