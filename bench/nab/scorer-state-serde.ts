/**
 * Binary serde of NabScorerState for the driver feed's store. The store serializes on every put,
 * and JSON spends ~200 µs per row on the two 2000-value rolling rings; here they are raw float64
 * (exact, like JSON for finite doubles) and only the small remainder is JSON:
 * [u32 × 8 lengths][f64 values, little-endian: point ring, level ring, then each tail fence's ring and sorted copy][JSON of the rest, rings emptied].
 * The rings go through one typed-array copy each way: per-value Buffer writes cost as much as JSON.
 */
import { type Serde, SerdeError } from '../../schemas/serde.js'
import type { NabScorerState } from './detector.js'

/** Float64 arrays stored raw: point ring, level ring, the three tail fences' rings and their sorted copies. */
const RINGS = 8

export const nabScorerStateSerde: Serde<NabScorerState> = {
  name: 'nab-scorer-state',
  serialize(state) {
    const rest: NabScorerState = {
      ...state,
      point: { baseline: { ...state.point.baseline, values: [] } },
      level: { baseline: { ...state.level.baseline, values: [] } },
      tail: { ...state.tail, values: [], sorted: [] },
      seasonTail: { ...state.seasonTail, values: [], sorted: [] },
      levelTail: { ...state.levelTail, values: [], sorted: [] },
    }
    const json = Buffer.from(JSON.stringify(rest), 'utf8')
    const parts = [state.point.baseline.values, state.level.baseline.values, state.tail.values, state.tail.sorted, state.seasonTail.values, state.seasonTail.sorted, state.levelTail.values, state.levelTail.sorted]
    const rings = new Float64Array(parts.reduce((n, r) => n + r.length, 0))
    let at = 0
    for (const r of parts) {
      rings.set(r, at)
      at += r.length
    }
    const head = 4 * RINGS
    const out = Buffer.allocUnsafe(head + rings.byteLength + json.length)
    parts.forEach((r, i) => out.writeUInt32LE(r.length, 4 * i))
    Buffer.from(rings.buffer, rings.byteOffset, rings.byteLength).copy(out, head)
    json.copy(out, head + rings.byteLength)
    return out
  },
  deserialize(data) {
    try {
      const lengths = Array.from({ length: RINGS }, (_, i) => data.readUInt32LE(4 * i))
      const head = 4 * RINGS
      const end = head + 8 * lengths.reduce((a, b) => a + b, 0)
      // Copied out: the bytes need not be 8-byte aligned for a Float64Array view.
      const rings = new Float64Array(new Uint8Array(data.subarray(head, end)).buffer)
      let at = 0
      const [point, level, tailValues, tailSorted, seasonValues, seasonSorted, levelValues, levelSorted] = lengths.map((n) => Array.from(rings.subarray(at, (at += n))))
      const rest = JSON.parse(data.subarray(end).toString('utf8')) as NabScorerState
      return {
        ...rest,
        point: { baseline: { ...rest.point.baseline, values: point! } },
        level: { baseline: { ...rest.level.baseline, values: level! } },
        tail: { ...rest.tail, values: tailValues!, sorted: tailSorted! },
        seasonTail: { ...rest.seasonTail, values: seasonValues!, sorted: seasonSorted! },
        levelTail: { ...rest.levelTail, values: levelValues!, sorted: levelSorted! },
      }
    } catch (err) {
      throw new SerdeError('nab-scorer-state', `cannot read ${data.length} bytes`, { cause: err })
    }
  },
}
