/**
 * Creates the topics an application owns (repartition, changelog, dead-letter) with the configs they
 * need, and refuses to start on one that exists with the wrong shape: a changelog with the wrong
 * partition count maps task state to the wrong partitions, and one with `cleanup.policy=delete`
 * silently loses state after retention. Both are corruption, so both fail fast with the fix named.
 */
import kafkajs, { type Admin, type ITopicConfig } from 'kafkajs'
import { whileTopicMetadataSettles } from './topic-metadata-settle.js'

// kafkajs is CommonJS; Node's static analysis does not see this export.
const { ConfigResourceTypes } = kafkajs

/** An internal topic with its partition count resolved (the topology plan states it as a rule). */
export interface ResolvedTopicSpec {
  readonly name: string
  /** What it is for, in messages: `changelog`, `repartition`, `dlq`, ... */
  readonly role: string
  readonly partitions: number
  /** Topic configs; `cleanup.policy` is checked on existing topics, the rest only set at creation. */
  readonly configs: Readonly<Record<string, string>>
}

export class InternalTopicError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InternalTopicError'
  }
}

const sameCleanupPolicy = (a: string | undefined, b: string | undefined): boolean =>
  (a ?? 'delete').split(',').map((p) => p.trim()).sort().join(',') === (b ?? 'delete').split(',').map((p) => p.trim()).sort().join(',')

/**
 * Makes every spec'd topic exist with its partition count and cleanup policy.
 * Returns the names of the topics it created.
 */
export async function ensureInternalTopics(admin: Admin, specs: readonly ResolvedTopicSpec[], replicationFactor = -1): Promise<string[]> {
  if (specs.length === 0) return []
  const existing = new Set(await admin.listTopics())
  const present = specs.filter((s) => existing.has(s.name))
  const missing = specs.filter((s) => !existing.has(s.name))

  if (present.length > 0) {
    // Listed, perhaps just created by another instance, and maybe not yet known to the broker asked next.
    const metadata = await whileTopicMetadataSettles(() => admin.fetchTopicMetadata({ topics: present.map((s) => s.name) }))
    const partitionCounts = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]))
    const configs = await whileTopicMetadataSettles(() =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: present.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name, configNames: ['cleanup.policy'] })),
      }),
    )
    const policies = new Map(
      configs.resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue]),
    )
    const problems: string[] = []
    for (const spec of present) {
      const partitions = partitionCounts.get(spec.name)
      if (partitions !== spec.partitions) {
        problems.push(
          `${spec.role} topic '${spec.name}' has ${partitions} partitions, but the topology needs ${spec.partitions}` +
            (spec.role === 'changelog' || spec.role === 'repartition'
              ? ' (it must match the partition count of its source topics). Delete it (the application must be stopped; its state is rebuilt from the inputs) or restore the source topics\' partition count.'
              : '. Recreate it with that many partitions.'),
        )
      }
      const wanted = spec.configs['cleanup.policy']
      if (wanted !== undefined && !sameCleanupPolicy(policies.get(spec.name), wanted)) {
        problems.push(
          `${spec.role} topic '${spec.name}' has cleanup.policy=${policies.get(spec.name) ?? 'delete'}, but it must be ${wanted}. ` +
            `Fix it with: kafka-configs --alter --entity-type topics --entity-name ${spec.name} --add-config cleanup.policy=[${wanted}]`,
        )
      }
    }
    if (problems.length > 0) throw new InternalTopicError(`internal topics do not match the topology:\n- ${problems.join('\n- ')}`)
  }

  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((s) => ({
      topic: s.name,
      numPartitions: s.partitions,
      replicationFactor,
      configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
    }))
    try {
      await admin.createTopics({ topics, waitForLeaders: false })
    } catch (e) {
      // Instances starting together race to create the same topics, from the same plan.
      if (!isOnlyAlreadyExists(e)) throw e
    }
  }
  // Also for topics another instance just created: their metadata can lag their creation.
  await waitForLeaders(admin, specs.map((s) => s.name))
  return missing.map((s) => s.name)
}

function isOnlyAlreadyExists(e: unknown): boolean {
  const errors = (e as { errors?: { type?: string }[] }).errors
  if (Array.isArray(errors) && errors.length > 0) return errors.every((err) => err.type === 'TOPIC_ALREADY_EXISTS')
  return (e as { type?: string }).type === 'TOPIC_ALREADY_EXISTS'
}

/**
 * Creates `topics` (an existing one is not an error) and waits until each partition has a leader.
 * Not kafkajs' `createTopics({ waitForLeaders: true })`: that retries only LEADER_NOT_AVAILABLE and
 * gives up on the UNKNOWN_TOPIC_OR_PARTITION a loaded broker answers while its metadata still lags
 * the creation, which failed starts (and tests) at random under load.
 */
export async function createTopicsWithLeaders(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  try {
    await admin.createTopics({ topics, waitForLeaders: false })
  } catch (e) {
    if (!isOnlyAlreadyExists(e)) throw e
  }
  await waitForLeaders(admin, topics.map((t) => t.topic), timeoutMs)
}

/** Waits until every partition of `topics` has a leader (metadata can lag a creation briefly). */
async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] })
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return
    } catch (e) {
      if (Date.now() > deadline) throw e
    }
    if (Date.now() > deadline) throw new InternalTopicError(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
