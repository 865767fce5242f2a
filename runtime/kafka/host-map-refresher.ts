/**
 * Brings each new assignment's host map (task → instance address, written by the group leader into
 * every member's assignment userData), and the member's own standby tasks, to this member. kafkajs decodes the assignment it receives and
 * drops its userData, so the member reads its own assignment back from the group coordinator
 * (DescribeGroups) right after joining. The coordinator shows assignments only while the group is
 * stable, and the read is accepted only if the topic-partitions there are the ones this member was
 * given, so a map of another generation is never taken for this one. Until it arrives (a few ms), and
 * while a rebalance runs, queries route by the previous map.
 */
import type { Admin } from 'kafkajs'
import type pino from 'pino'
import { decodeMemberAssignment, type HostAssignment } from '../assignor.js'
import type { SerialQueue } from './serial-queue.js'

const MAX_ATTEMPTS = 10
const RETRY_MS = 100

export interface HostMapRefresherOptions {
  readonly admin: Admin
  /** The instance's serialised admin calls. */
  readonly adminCalls: SerialQueue
  readonly groupId: string
  readonly logger: pino.Logger
  readonly onHostMap: (map: HostAssignment) => void
  /** The standby tasks the same assignment gives this member (none unless `numStandbyReplicas` > 0). */
  readonly onStandbyTasks?: (tasks: string[]) => void
}

/** Same topic-partitions, whatever the order. */
export function sameAssignment(a: Readonly<Record<string, readonly number[]>>, b: Readonly<Record<string, readonly number[]>>): boolean {
  const normal = (x: Readonly<Record<string, readonly number[]>>): string =>
    JSON.stringify(
      Object.entries(x)
        .filter(([, partitions]) => partitions.length > 0)
        .map(([topic, partitions]) => [topic, [...partitions].sort((p, q) => p - q)])
        .sort(([t1], [t2]) => String(t1).localeCompare(String(t2))),
    )
  return normal(a) === normal(b)
}

export class HostMapRefresher {
  /** Bumped by every join and by stop: an older refresh gives up. */
  private round = 0

  constructor(private readonly options: HostMapRefresherOptions) {}

  /** Called on each GROUP_JOIN with this member's id and the topic-partitions it was given. */
  refresh(memberId: string, assignment: Readonly<Record<string, readonly number[]>>): void {
    const round = ++this.round
    void this.read(round, memberId, assignment)
  }

  stop(): void {
    this.round++
  }

  private async read(round: number, memberId: string, assignment: Readonly<Record<string, readonly number[]>>): Promise<void> {
    const { admin, adminCalls, groupId, logger } = this.options
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && round === this.round; attempt++) {
      try {
        const { groups } = await adminCalls.run(() => admin.describeGroups([groupId]))
        const member = groups.find((g) => g.groupId === groupId)?.members.find((m) => m.memberId === memberId)
        const decoded = member ? decodeMemberAssignment(member.memberAssignment) : null
        if (decoded && sameAssignment(decoded.assignment, assignment)) {
          if (round === this.round) {
            this.options.onHostMap(decoded.hosts)
            this.options.onStandbyTasks?.(decoded.standby)
          }
          return
        }
      } catch (e) {
        logger.debug({ err: e, attempt }, 'reading the host map from the group coordinator failed')
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS * attempt))
    }
    if (round === this.round) logger.warn({ memberId }, 'could not read the host map of this assignment: queries route by the previous one until the next rebalance')
  }
}
