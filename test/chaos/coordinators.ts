/**
 * Which broker to kill: the leader of a topic's partitions, the group coordinator of a consumer
 * group, the transaction coordinator of a transactional id. Kafka places a group (transactional id)
 * on the partition `abs(javaHashCode(id)) % partitions` of __consumer_offsets (__transaction_state),
 * and its coordinator is that partition's leader. kafkajs' admin has no FindCoordinator call.
 */
import type { Admin } from 'kafkajs'

/** Java's String.hashCode, as a signed 32-bit int. */
export function javaHashCode(text: string): number {
  let h = 0
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0
  return h
}

/** Kafka's Utils.abs: Integer.MIN_VALUE maps to 0. */
const kafkaAbs = (n: number): number => (n === -2147483648 ? 0 : Math.abs(n))

export const coordinatorPartition = (id: string, partitions: number): number => kafkaAbs(javaHashCode(id)) % partitions

/** Leader broker id per partition of `topic`. */
export async function leaders(admin: Admin, topic: string): Promise<Map<number, number>> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
  return new Map(metadata.topics[0]!.partitions.map((p) => [p.partitionId, p.leader]))
}

/** The broker leading most partitions of `topic` (the one whose loss moves the most leaders). */
export async function busiestLeader(admin: Admin, topic: string): Promise<number> {
  const counts = new Map<number, number>()
  for (const leader of (await leaders(admin, topic)).values()) counts.set(leader, (counts.get(leader) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0]
}

export async function groupCoordinator(admin: Admin, groupId: string): Promise<number> {
  const offsets = await leaders(admin, '__consumer_offsets')
  return offsets.get(coordinatorPartition(groupId, offsets.size))!
}

/** The broker that coordinates the transactions of most of `transactionalIds`. */
export async function busiestTransactionCoordinator(admin: Admin, transactionalIds: readonly string[]): Promise<number> {
  const state = await leaders(admin, '__transaction_state')
  const counts = new Map<number, number>()
  for (const id of transactionalIds) {
    const broker = state.get(coordinatorPartition(id, state.size))!
    counts.set(broker, (counts.get(broker) ?? 0) + 1)
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0]
}
