/**
 * Bytes a cache keeps for long. Small Buffers (`Buffer.from`, serializer output, engine reads) are
 * often views into Node's shared 8 KiB allocation pool, and one retained view pins its whole pool
 * block: a cache of small entries held kilobytes per entry that its budget never counted (the soak
 * of 2026-12 grew ArrayBuffer memory by 280 MB in minutes). A copy in an allocation of its own holds
 * only its bytes.
 */
export function retainedCopy(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes
  const copy = Buffer.allocUnsafeSlow(bytes.length)
  bytes.copy(copy)
  return copy
}
