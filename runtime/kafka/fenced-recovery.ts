/**
 * What to do with a task whose transactional producer was fenced. Usually a fence means the task
 * moved and this instance missed the rebalance: drop it, the group will say so. But a fence can also
 * come from an initialisation of this task on an instance that lost it, retried by kafkajs after the
 * rebalance — then the group is stable, still gives the task to this instance, and no rebalance will
 * ever come: waiting would stall the partition for good. So a fenced task the assignment still gives
 * here is re-initialised (a new producer bumps the epoch back), a bounded number of times with
 * backoff; past the bound the instance stops, so the group moves its tasks elsewhere.
 */
import type { Admin } from 'kafkajs'
import { decodeMemberAssignment, tasksOfAssignment, type SubtopologySources } from '../assignor.js'

/** Consecutive re-initialisations of one fenced task before the instance gives up. */
export const MAX_FENCED_RECOVERIES = 5
const FIRST_BACKOFF_MS = 250
const MAX_BACKOFF_MS = 10_000

export type FencedDecision =
  | { action: 'wait-for-rebalance' }
  | { action: 'reinitialize'; attempt: number; delayMs: number }
  | { action: 'give-up'; attempts: number }

/**
 * `attempt` counts this fence among the consecutive ones of the task (1 = first fence since it last
 * committed). A task not in the current assignment, or fenced while a rebalance runs, is left to it.
 */
export function decideOnFence(options: { assignedHere: boolean; rebalancing: boolean; attempt: number }): FencedDecision {
  if (!options.assignedHere || options.rebalancing) return { action: 'wait-for-rebalance' }
  if (options.attempt > MAX_FENCED_RECOVERIES) return { action: 'give-up', attempts: options.attempt - 1 }
  return { action: 'reinitialize', attempt: options.attempt, delayMs: Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (options.attempt - 1)) }
}

export type Ownership = 'ours' | 'not-ours' | 'unknown'

/**
 * Whether the group coordinator, in a stable group, gives `task` to `memberId`. A member whose view
 * is stale (dropped from the group, a rebalance it has not seen) must not re-initialise a task: its
 * new producer would fence the rightful owner, which would fence it back.
 */
export async function taskOwnership(options: { admin: Admin; groupId: string; memberId: string; task: string; subtopologies: readonly SubtopologySources[] }): Promise<Ownership> {
  const { groups } = await options.admin.describeGroups([options.groupId])
  const group = groups.find((g) => g.groupId === options.groupId)
  // Assignments are only shown, and only final, while the group is stable.
  if (!group || group.state !== 'Stable') return 'unknown'
  const member = group.members.find((m) => m.memberId === options.memberId)
  if (!member) return 'not-ours'
  const decoded = decodeMemberAssignment(member.memberAssignment)
  if (!decoded) return 'unknown'
  return tasksOfAssignment(decoded.assignment, options.subtopologies).includes(options.task) ? 'ours' : 'not-ours'
}
