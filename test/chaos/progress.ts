/**
 * How far the application is behind its input, from the group's committed offsets (under
 * exactly-once these commit with the outputs, so committed means visible to read_committed readers).
 * Recovery time is measured from a fault to the moment everything produced before it is committed
 * and the lag is back under a bound.
 */
import type { Admin } from 'kafkajs'

export interface Positions {
  /** End offset per input partition. */
  ends: Map<number, number>
  /** Committed offset per input partition (-1: none). */
  committed: Map<number, number>
}

export async function positions(admin: Admin, groupId: string, topic: string): Promise<Positions> {
  const [ends, offsets] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })])
  return {
    ends: new Map(ends.map((o) => [o.partition, Number(o.high)])),
    committed: new Map(offsets[0]!.partitions.map((p) => [p.partition, Number(p.offset)])),
  }
}

export const lag = (p: Positions): number => [...p.ends].reduce((sum, [partition, end]) => sum + Math.max(0, end - Math.max(0, p.committed.get(partition) ?? 0)), 0)

/** Whether every partition's committed offset reached `mark` (the end offsets at some earlier moment). */
export const passed = (p: Positions, mark: ReadonlyMap<number, number>): boolean => [...mark].every(([partition, end]) => (p.committed.get(partition) ?? -1) >= end)

/**
 * Waits until everything produced before `since` (its end offsets `mark`) is committed and the lag is
 * at most `maxLag`; returns the seconds since `since`, or undefined past `timeoutMs`. Admin calls
 * failing while brokers move are retried: they are the weather, not the result.
 */
export async function waitForRecovery(
  admin: Admin,
  groupId: string,
  topic: string,
  since: { at: number; mark: ReadonlyMap<number, number> },
  maxLag: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const now = await positions(admin, groupId, topic).catch(() => undefined)
    if (now && passed(now, since.mark) && lag(now) <= maxLag) return (Date.now() - since.at) / 1000
    await new Promise((r) => setTimeout(r, 500))
  }
  return undefined
}
