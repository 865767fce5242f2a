import type { Admin } from 'kafkajs'
import { METADATA_SETTLE_MS, whileTopicMetadataSettles } from '../topic-metadata-settle.js'

/** Partition counts of output topics, looked up once per topic. */
export interface PartitionCounts {
  get(topic: string): number | undefined
  load(topics: readonly string[]): Promise<void>
}

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
    const metadata = await whileTopicMetadataSettles(() => this.admin.fetchTopicMetadata({ topics: missing }), this.settleMs)
    for (const topic of metadata.topics) this.counts.set(topic.name, topic.partitions.length)
  }
}
