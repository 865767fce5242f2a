import { createHash } from 'node:crypto'

/** Namespace of alert ids (a fixed random UUID), distinct from anomaly ids'. */
export const ALERT_ID_NAMESPACE = 'b3e0d5a4-7c19-4f62-8e2b-91d4c6a8f053'

/** RFC 9562 UUID version 5: SHA-1 of the namespace's bytes and the name. */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest()
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * Deterministic alert id of one rule firing for one group in one window, so a replay yields the same
 * id (the dispatcher can drop repeats). `window` is the window start (epoch ms), or for rules without
 * aggregation the anomaly id (each anomaly is its own window).
 */
export function alertId(ruleId: string, groupKey: string, window: number | string): string {
  // Length prefixes keep ("a|b", "c") and ("a", "b|c") apart.
  return uuidV5(ALERT_ID_NAMESPACE, `${ruleId.length}:${ruleId}|${groupKey.length}:${groupKey}|${typeof window === 'number' ? `t${window}` : `a${window}`}`)
}
