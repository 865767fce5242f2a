/**
 * Signed 64-bit big-endian integers for JS numbers in the safe range, without BigInt (whose
 * conversions dominate the cost of small serdes on the hot path).
 */
const TWO_32 = 2 ** 32

export function writeInt64BE(buffer: Buffer, value: number, offset: number): void {
  const hi = Math.floor(value / TWO_32)
  buffer.writeInt32BE(hi, offset)
  buffer.writeUInt32BE(value - hi * TWO_32, offset + 4)
}

/** May return a value outside the safe range (then imprecise); callers that care check it. */
export function readInt64BE(buffer: Buffer, offset: number): number {
  return buffer.readInt32BE(offset) * TWO_32 + buffer.readUInt32BE(offset + 4)
}
