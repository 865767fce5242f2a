import { createHash } from 'node:crypto'

/** Namespace of anomaly ids (a fixed random UUID), so ids never collide with other v5 names. */
export const ANOMALY_ID_NAMESPACE = '6f1c2a9e-3b8d-4e57-9a0c-5d2e7f1b4c38'

/**
 * Deterministic anomaly id: a UUID version 5 (RFC 9562: SHA-1 of namespace + name) of the detector,
 * the key and the window start. A replay after a crash emits the same id, so downstream can
 * deduplicate. `windowStart` is epoch milliseconds (or any number identifying the window).
 */
export function anomalyId(detectorId: string, key: string, windowStart: number): string {
  const namespace = Buffer.from(ANOMALY_ID_NAMESPACE.replace(/-/g, ''), 'hex')
  // Lengths prefix each part so ("a:b", "c") and ("a", "b:c") cannot produce the same name.
  const name = `${detectorId.length}:${detectorId}|${key.length}:${key}|${windowStart}`
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest()
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
