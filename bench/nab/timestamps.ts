/**
 * NAB writes timestamps as `YYYY-MM-DD HH:MM:SS` in the data and `YYYY-MM-DD HH:MM:SS.ffffff` in
 * the windows file; both are naive (no zone). They are compared as UTC milliseconds.
 */
export function parseNabTimestamp(text: string): number {
  const s = text.trim()
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/.exec(s)
  if (!m) throw new Error(`timestamp "${text}": expected YYYY-MM-DD HH:MM:SS[.ffffff]`)
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) + Math.round(frac)
}
