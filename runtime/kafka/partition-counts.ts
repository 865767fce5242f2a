import type { Admin } from 'kafkajs'

/** Partition counts of output topics, looked up once per topic. */
export interface PartitionCounts {
  get(topic: string): number | undefined
  load(topics: readonly string[]): Promise<void>
}

/**
 * How long a topic that one broker lists may be unknown to another. In a KRaft cluster each broker
 * replays topic creations from the metadata log on its own; on a loaded 3-broker cluster a topic
 * created seconds ago was listed by one broker and refused by the next ("This server does not host
 * this topic-partition") in 5 of 8 starts (test/chaos/fresh-topic-start.ts).
 */
const METADATA_SETTLE_MS = 15_000

const isUnknownTopic = (e: unknown): boolean => (e as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION'

/** Partition counts of topics, read from cluster metadata once per topic. */
export class AdminPartitionCounts implements PartitionCounts {
  private readonly counts = new Map<string, number>()

  constructor(
    private readonly admin: Admin,
    private readonly settleMs = METADATA_SETTLE_MS,
  ) {}

  get(topic: string): number | undefined {
    return this.counts.get(topic)
  }

  async load(topics: readonly string[]): Promise<void> {
    const missing = topics.filter((t) => !this.counts.has(t))
    if (missing.length === 0) return
    const existing = new Set(await this.admin.listTopics())
    const absent = missing.filter((t) => !existing.has(t))
    if (absent.length > 0) {
      throw new Error(`topic(s) ${absent.map((t) => `'${t}'`).join(', ')} do not exist; create them first (topic auto-creation is not relied on)`)
    }
    const deadline = Date.now() + this.settleMs
    for (;;) {
      try {
        const metadata = await this.admin.fetchTopicMetadata({ topics: missing })
        for (const topic of metadata.topics) this.counts.set(topic.name, topic.partitions.length)
        return
      } catch (e) {
        // Listed a moment ago, so a broker that does not know it yet is behind, not right.
        if (!isUnknownTopic(e) || Date.now() > deadline) throw e
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  }
}
