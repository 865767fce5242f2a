/**
 * Resets an application to reprocess its input, as Kafka Streams' `kafka-streams-application-reset`
 * does: its internal topics (changelogs, repartition topics) are deleted, the group's committed
 * offsets on its input topics move to earliest, latest or a point in time, and its local state
 * directory is removed. The next start recreates the topics and rebuilds state from the input.
 *
 * It refuses while the group has members: a running instance would commit its old positions over
 * the reset, and write to changelogs being deleted.
 */
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Admin } from 'kafkajs'

export type ResetTarget = { readonly kind: 'earliest' } | { readonly kind: 'latest' } | { readonly kind: 'timestamp'; readonly ms: number }

export interface ResetRequest {
  readonly applicationId: string
  readonly to: ResetTarget
  /** Topics whose committed offsets move; default: every non-internal topic the group has offsets on. */
  readonly inputTopics?: readonly string[]
  /** The internal topics, when the topology is known (its plan); default: found by the application-id prefix. */
  readonly internalTopics?: readonly string[]
  readonly stateDir: string
}

export interface OffsetMove {
  readonly topic: string
  readonly partition: number
  /** The committed offset before the reset; null when the group had none. */
  readonly from: string | null
  readonly to: string
}

export interface ResetPlan {
  readonly applicationId: string
  readonly deleteTopics: readonly string[]
  readonly offsets: readonly OffsetMove[]
  /** The state directory to remove, when it exists. */
  readonly stateDirectory: string | null
  /** Topics of the application left in place, with why. */
  readonly kept: readonly string[]
}

export class ResetRefusedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ResetRefusedError'
  }
}

/** Internal topics by the naming rule of `TopologyPlan`: `<applicationId>-<name>-changelog|-repartition`. */
export const isInternalTopicOf = (applicationId: string, topic: string): boolean =>
  topic.startsWith(`${applicationId}-`) && (topic.endsWith('-changelog') || topic.endsWith('-repartition'))

/** Throws `ResetRefusedError` when the application's consumer group has members. */
export async function assertGroupInactive(admin: Admin, applicationId: string): Promise<void> {
  const { groups } = await admin.describeGroups([applicationId])
  const group = groups[0]
  if (group !== undefined && group.members.length > 0) {
    const hosts = [...new Set(group.members.map((m) => `${m.clientId}@${m.clientHost}`))]
    throw new ResetRefusedError(
      `the application '${applicationId}' still has ${group.members.length} running instance(s) (group state ${group.state}: ${hosts.join(', ')}). ` +
        'Stop every instance first (a running one would commit its old positions over the reset), then run reset again.',
    )
  }
}

/** What a reset would do; changes nothing. */
export async function planReset(admin: Admin, request: ResetRequest): Promise<ResetPlan> {
  const { applicationId } = request
  await assertGroupInactive(admin, applicationId)
  const existing = new Set(await admin.listTopics())
  const internal = request.internalTopics ?? [...existing].filter((t) => isInternalTopicOf(applicationId, t))
  const deleteTopics = internal.filter((t) => existing.has(t)).sort()

  const missing = (request.inputTopics ?? []).filter((t) => !existing.has(t))
  if (missing.length > 0) throw new ResetRefusedError(`input topic(s) ${missing.join(', ')} do not exist. Name the application's source topics in --input-topics.`)
  const committed = await admin.fetchOffsets({ groupId: applicationId, ...(request.inputTopics ? { topics: [...request.inputTopics] } : {}) })
  const inputs = request.inputTopics ?? committed.filter((t) => existing.has(t.topic) && !internal.includes(t.topic) && t.partitions.some((p) => Number(p.offset) >= 0)).map((t) => t.topic)

  const offsets: OffsetMove[] = []
  for (const topic of [...inputs].sort()) {
    const before = new Map(committed.find((t) => t.topic === topic)?.partitions.map((p) => [p.partition, Number(p.offset) >= 0 ? p.offset : null]) ?? [])
    for (const { partition, offset } of await targetOffsets(admin, topic, request.to)) {
      offsets.push({ topic, partition, from: before.get(partition) ?? null, to: offset })
    }
  }
  const dlq = `${applicationId}-dlq`
  const stateDirectory = join(request.stateDir, applicationId)
  return {
    applicationId,
    deleteTopics,
    offsets,
    stateDirectory: existsSync(stateDirectory) ? stateDirectory : null,
    kept: existing.has(dlq) ? [`${dlq} (dead letters record bad input; they are not state)`] : [],
  }
}

async function targetOffsets(admin: Admin, topic: string, to: ResetTarget): Promise<{ partition: number; offset: string }[]> {
  if (to.kind === 'timestamp') return admin.fetchTopicOffsetsByTimestamp(topic, to.ms)
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.map((p) => ({ partition: p.partition, offset: to.kind === 'earliest' ? p.low : p.high })).sort((a, b) => a.partition - b.partition)
}

/** Carries out a plan from `planReset`, checking again that no instance started meanwhile. */
export async function applyReset(admin: Admin, plan: ResetPlan): Promise<void> {
  await assertGroupInactive(admin, plan.applicationId)
  const byTopic = new Map<string, { partition: number; offset: string }[]>()
  for (const move of plan.offsets) byTopic.set(move.topic, [...(byTopic.get(move.topic) ?? []), { partition: move.partition, offset: move.to }])
  for (const [topic, partitions] of byTopic) await admin.setOffsets({ groupId: plan.applicationId, topic, partitions })
  if (plan.deleteTopics.length > 0) await admin.deleteTopics({ topics: [...plan.deleteTopics] })
  if (plan.stateDirectory !== null) rmSync(plan.stateDirectory, { recursive: true, force: true })
}
