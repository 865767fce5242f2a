/**
 * Calls about topics that some broker just listed, retried while another broker does not know them
 * yet. In a KRaft cluster each broker replays topic creations from the metadata log on its own; on a
 * loaded 3-broker cluster a topic created seconds ago was listed by one broker and refused by the next
 * ("This server does not host this topic-partition"): 5 of 8 starts failed on a source topic
 * (test/chaos/fresh-topic-start.ts, chaos finding F1), and an instance starting while another had
 * just created the internal topics failed the same way on them.
 */
export const METADATA_SETTLE_MS = 15_000

function isUnknownTopic(e: unknown): boolean {
  for (let err = e as { type?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; depth++) {
    if (err.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true
    err = (err.originalError ?? err.cause) as typeof err
  }
  return false
}

/** Runs `call`, again every 250 ms while it fails with UNKNOWN_TOPIC_OR_PARTITION, for `settleMs` at most. */
export async function whileTopicMetadataSettles<T>(call: () => Promise<T>, settleMs = METADATA_SETTLE_MS): Promise<T> {
  const deadline = Date.now() + settleMs
  for (;;) {
    try {
      return await call()
    } catch (e) {
      // Listed a moment ago, so a broker that does not know it yet is behind, not right.
      if (!isUnknownTopic(e) || Date.now() > deadline) throw e
      await new Promise((r) => setTimeout(r, 250))
    }
  }
}
