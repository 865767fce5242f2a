/**
 * kafkajs' log entries, at the level they deserve. kafkajs logs every error response at ERROR
 * before its own retry handles it: a healthy start (coordinators loading, leaders being elected, the
 * group rebalancing as instances join, two instances creating the same internal topic) printed a
 * screenful of level-50 lines that paged nobody usefully and hid the one that mattered. The caller
 * of a request that really fails gets the error and logs it once, with cause and action, so:
 *
 * - conditions kafkajs (or this runtime) retries as a matter of course go to debug;
 * - anything else kafkajs calls an error or a warning is a warning, at most one per distinct message
 *   per window, the next one saying how many were suppressed.
 */
import kafkajs, { type LogEntry } from 'kafkajs'
import type pino from 'pino'

const { logLevel } = kafkajs

/** Messages of broker error responses and kafkajs notices that a healthy cluster produces while it settles. */
const TRANSIENT = [
  "coordinator is loading", // COORDINATOR_LOAD_IN_PROGRESS (kafkajs: GROUP_LOAD_IN_PROGRESS)
  'not the correct coordinator', // NOT_COORDINATOR
  'coordinator is not available', // COORDINATOR_NOT_AVAILABLE
  'not the leader for that topic-partition', // NOT_LEADER_OR_FOLLOWER
  'no leader for this topic-partition', // LEADER_NOT_AVAILABLE, during an election
  'does not host this topic-partition', // UNKNOWN_TOPIC_OR_PARTITION, metadata lagging a new topic
  'group is rebalancing', // REBALANCE_IN_PROGRESS: every join of another instance
  'coordinator is not aware of this member', // UNKNOWN_MEMBER_ID: kafkajs rejoins
  'ongoing transaction', // CONCURRENT_TRANSACTIONS: InitProducerId waits for an abort to finish
  'topic creation errors', // CreateTopics racing another instance: ensureInternalTopics checks the result
  'topic with this name already exists',
  'was revoked from this instance', // our own socket gate (RevocableConnections) ending a revoked task's retries
].map((m) => m.toLowerCase())

export function isTransient(entry: LogEntry): boolean {
  const { message, error } = entry.log as { message?: unknown; error?: unknown }
  const text = `${String(message ?? '')} ${String(error ?? '')}`.toLowerCase()
  return TRANSIENT.some((m) => text.includes(m))
}

export interface KafkajsLogOptions {
  logger: pino.Logger
  /** One warning per distinct message per window. */
  windowMs?: number
  now?: () => number
}

/** A kafkajs `logCreator` body: `logCreator: () => kafkajsLog({ logger })`. */
export function kafkajsLog(options: KafkajsLogOptions): (entry: LogEntry) => void {
  const { logger, windowMs = 30_000, now = Date.now } = options
  const lastWarned = new Map<string, { at: number; suppressed: number }>()
  return (entry) => {
    const { message, ...extra } = entry.log
    const fields = { kafkajs: entry.namespace, ...extra }
    if (entry.level > logLevel.WARN || isTransient(entry)) {
      logger.debug(fields, message)
      return
    }
    const key = `${entry.namespace}|${message}|${String((extra as { error?: unknown }).error ?? '')}`
    const seen = lastWarned.get(key)
    const at = now()
    if (seen && at - seen.at < windowMs) {
      seen.suppressed++
      logger.debug(fields, message)
      return
    }
    // A bounded map: distinct kafkajs messages are few, but error texts can carry ids.
    if (lastWarned.size > 1_000) lastWarned.clear()
    lastWarned.set(key, { at, suppressed: 0 })
    logger.warn({ ...fields, ...(seen && seen.suppressed > 0 ? { suppressed: seen.suppressed } : {}) }, message)
  }
}
