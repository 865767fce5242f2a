/**
 * Order-preserving binary encodings for store keys. Engines sort keys by unsigned bytes (memcmp), so
 * every number in a key is written big-endian with its sign bit flipped: then byte order = numeric
 * order, negative timestamps included.
 */

const TWO_32 = 4294967296

/** Writes `n` (an integer within ±2^53) as 8 order-preserving bytes at `offset`. */
export function writeOrderedInt64(target: Buffer, n: number, offset: number): void {
  const hi = Math.floor(n / TWO_32)
  const lo = n - hi * TWO_32
  target.writeUInt32BE((hi + 0x80000000) >>> 0, offset)
  target.writeUInt32BE(lo, offset + 4)
}

export function readOrderedInt64(source: Buffer, offset: number): number {
  const hi = source.readUInt32BE(offset) - 0x80000000
  return hi * TWO_32 + source.readUInt32BE(offset + 4)
}

/** The smallest key greater than every key starting with `prefix`, or undefined if none (all 0xff). */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] !== 0xff) {
      end[i] = end[i]! + 1
      return end.subarray(0, i + 1)
    }
  }
  return undefined
}

/** Cache and memory-engine map keys: latin1 keeps one char per byte, so string order = memcmp order. */
export const bytesToMapKey = (key: Buffer): string => key.toString('latin1')
export const mapKeyToBytes = (key: string): Buffer => Buffer.from(key, 'latin1')
