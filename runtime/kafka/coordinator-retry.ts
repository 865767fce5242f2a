/**
 * Group-coordinator calls that must survive the coordinator moving. When the broker leading the
 * group's __consumer_offsets partition dies, kafkajs' admin `fetchOffsets` fails with NOT_COORDINATOR
 * (or COORDINATOR_NOT_AVAILABLE / _LOAD_IN_PROGRESS while the new leader loads) and does not retry
 * it; a task re-initialising after a failed commit then stopped the whole instance, and in a leader
 * kill all three instances at once (chaos finding F7). Each retry finds the coordinator afresh.
 * Until the cluster elects a new one, a request may still go to the dead broker: its connection
 * errors, once kafkajs' own retries ran out, count as the coordinator moving too (F12: a task
 * re-initialising after a leader kill stopped its instance on ECONNREFUSED).
 */
// kafkajs 2.2.4 names these by their old protocol names (GROUP_LOAD_IN_PROGRESS, ...): matching only
// the current ones, as this did at first, retried nothing, and an instance still stopped on a
// loading coordinator after a group-coordinator kill. The codes (14, 15, 16) are what counts.
const MOVING_CODES = new Set([14, 15, 16])
/** The coordinator's broker is gone (kafkajs' error names). */
const UNREACHABLE = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError'])
const MOVING = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'GROUP_LOAD_IN_PROGRESS'])

/** kafkajs wraps a protocol error in retry errors (`originalError`) or, newer, in `cause`. */
export function isCoordinatorMoving(e: unknown): boolean {
  for (let err = e as { type?: string; name?: string; code?: number; originalError?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; depth++) {
    if ((err.type !== undefined && MOVING.has(err.type)) || (err.code !== undefined && MOVING_CODES.has(err.code))) return true
    if (err.name !== undefined && UNREACHABLE.has(err.name)) return true
    err = (err.originalError ?? err.cause) as typeof err
  }
  return false
}

export async function withCoordinatorRetry<T>(call: () => Promise<T>, options: { timeoutMs?: number; firstDelayMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  let delay = options.firstDelayMs ?? 250
  for (;;) {
    try {
      return await call()
    } catch (e) {
      if (!isCoordinatorMoving(e) || Date.now() + delay > deadline) throw e
      await new Promise((r) => setTimeout(r, delay))
      delay = Math.min(delay * 2, 2_000)
    }
  }
}
