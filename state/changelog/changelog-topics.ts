import kafkajs, { type Admin } from 'kafkajs'

// kafkajs is CommonJS: its enums are only reachable through the default export under ESM.
const { ConfigResourceTypes } = kafkajs

/** Extra time windowed changelogs keep records beyond the store's retention (Kafka Streams' default). */
export const WINDOWED_CHANGELOG_EXTRA_RETENTION_MS = 24 * 60 * 60 * 1000

export interface ChangelogTopicSpec {
  /** As the topology's plan names it. */
  topic: string
  store: string
  /** As many as the task's source topics have. */
  partitions: number
  /** Window and session stores: their changelog is `compact,delete` with this retention added. */
  retentionMs?: number
  replicationFactor?: number
}

/** The topic configs a store's changelog needs: compacted; windowed ones also time-limited. */
export function changelogTopicConfig(spec: ChangelogTopicSpec): Record<string, string> {
  if (spec.retentionMs === undefined) return { 'cleanup.policy': 'compact' }
  return { 'cleanup.policy': 'compact,delete', 'retention.ms': String(spec.retentionMs + WINDOWED_CHANGELOG_EXTRA_RETENTION_MS) }
}

/**
 * Creates missing changelog topics with the right configs; an existing one with another partition
 * count or cleanup policy is an error naming the topic (silently reusing it would corrupt state).
 */
export async function ensureChangelogTopics(admin: Admin, specs: readonly ChangelogTopicSpec[]): Promise<void> {
  if (specs.length === 0) return
  const wanted = new Map(specs.map((s) => [s.topic, s]))
  const existing = new Set(await admin.listTopics())
  const missing = [...wanted].filter(([topic]) => !existing.has(topic))
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map(([topic, spec]) => ({
        topic,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor ?? -1,
        configEntries: Object.entries(changelogTopicConfig(spec)).map(([name, value]) => ({ name, value })),
      })),
    })
  }
  const present = [...wanted].filter(([topic]) => existing.has(topic))
  if (present.length === 0) return
  const { topics } = await admin.fetchTopicMetadata({ topics: present.map(([t]) => t) })
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map(([topic]) => ({ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] })),
  })
  for (const [topic, spec] of present) {
    const partitions = topics.find((t) => t.name === topic)?.partitions.length
    if (partitions !== spec.partitions) {
      throw new Error(`changelog topic ${topic} has ${partitions} partitions, the store "${spec.store}" needs ${spec.partitions} (one per source partition): delete the topic (and the application's local state) or fix the source topics`)
    }
    const policy = configs.resources.find((r) => r.resourceName === topic)?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue
    const expected = changelogTopicConfig(spec)['cleanup.policy']!
    const normalize = (p: string | undefined): string => (p ?? '').split(',').map((x) => x.trim()).sort().join(',')
    if (normalize(policy) !== normalize(expected)) {
      throw new Error(`changelog topic ${topic} has cleanup.policy=${policy}, the store "${spec.store}" needs cleanup.policy=${expected}: alter the topic config or delete the topic`)
    }
  }
}
