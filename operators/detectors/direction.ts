/** Which side of the baseline counts: `up` only rises, `down` only falls, `both` either. */
export type Direction = 'up' | 'down' | 'both'

/** The deviation as seen in `direction`: negative values (wrong side) never reach a threshold. */
export function directed(deviation: number, direction: Direction): number {
  if (direction === 'up') return deviation
  if (direction === 'down') return -deviation
  return Math.abs(deviation)
}
