/**
 * What an at-least-once offset commit's failure says about this member's place in the group. kafkajs
 * surfaces these as errors of the commit (wrapped in retry errors: `originalError`, or `cause`);
 * the instance used to stop on them (h16r: a batch and its commit longer than the session timeout,
 * then UNKNOWN_MEMBER_ID), where Kafka Streams reads them as "tasks migrated" and rejoins.
 *
 * - `out`: UNKNOWN_MEMBER_ID (25): the coordinator dropped this member; its tasks may be another's.
 * - `rebalancing`: REBALANCE_IN_PROGRESS (27) or ILLEGAL_GENERATION (22): a new generation is
 *   forming or formed; this member's join decides what it keeps, and nobody ran its tasks yet.
 */
export type CommitMembershipError = 'out' | 'rebalancing'

const OUT = new Set(['UNKNOWN_MEMBER_ID'])
const OUT_CODES = new Set([25])
const REBALANCING = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION'])
const REBALANCING_CODES = new Set([22, 27])

export function commitMembershipError(e: unknown): CommitMembershipError | null {
  for (let err = e as { type?: string; code?: number; originalError?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; depth++) {
    if ((err.type !== undefined && OUT.has(err.type)) || (err.code !== undefined && OUT_CODES.has(err.code))) return 'out'
    if ((err.type !== undefined && REBALANCING.has(err.type)) || (err.code !== undefined && REBALANCING_CODES.has(err.code))) return 'rebalancing'
    err = (err.originalError ?? err.cause) as typeof err
  }
  return null
}
