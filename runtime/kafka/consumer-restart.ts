/**
 * Consumer calls a task makes when its restore ends (seek, resume), made to wait out a kafkajs
 * consumer restart. kafkajs restarts a crashed consumer (its fetch retries against a killed broker
 * ran out) by dropping its consumer group and joining anew; in between, `seek`, `pause` and `resume`
 * throw "Consumer group was not initialized". A task whose re-initialisation ended in that gap
 * stopped its instance after a leader kill (chaos F12). The restart takes seconds; the call is made
 * again until it goes through, the task is no longer wanted, or the bound passes.
 */

export const CONSUMER_RESTART_WAIT_MS = 60_000

/** kafkajs' refusal while its consumer group is being re-created. */
export function isConsumerRestarting(e: unknown): boolean {
  return /Consumer group was not initialized/.test((e as { message?: unknown } | undefined)?.message as string)
}

/** Makes `call` once the consumer runs; false if `stillWanted()` turned false first. */
export async function whenConsumerRuns(call: () => void, options: { stillWanted(): boolean; timeoutMs?: number; delayMs?: number }): Promise<boolean> {
  const deadline = Date.now() + (options.timeoutMs ?? CONSUMER_RESTART_WAIT_MS)
  for (;;) {
    if (!options.stillWanted()) return false
    try {
      call()
      return true
    } catch (e) {
      if (!isConsumerRestarting(e) || Date.now() > deadline) throw e
    }
    await new Promise((r) => setTimeout(r, options.delayMs ?? 250))
  }
}
