/**
 * Binary serde of NabScorerState for the driver feed's store. The store serializes on every put,
 * and JSON spends ~200 µs per row on the two 2000-value rolling rings; here they are raw float64
 * (exact, like JSON for finite doubles) and only the small remainder is JSON:
 * [u32 n][u32 m][n + m × f64, little-endian: point ring then level ring][JSON of the rest, rings emptied].
 * The rings go through one typed-array copy each way: per-value Buffer writes cost as much as JSON.
 */
import { type Serde, SerdeError } from '../../schemas/serde.js'
import type { NabScorerState } from './detector.js'

export const nabScorerStateSerde: Serde<NabScorerState> = {
  name: 'nab-scorer-state',
  serialize(state) {
    const rest: NabScorerState = {
      ...state,
      point: { baseline: { ...state.point.baseline, values: [] } },
      level: { baseline: { ...state.level.baseline, values: [] } },
    }
    const json = Buffer.from(JSON.stringify(rest), 'utf8')
    const p = state.point.baseline.values
    const l = state.level.baseline.values
    const rings = new Float64Array(p.length + l.length)
    rings.set(p, 0)
    rings.set(l, p.length)
    const out = Buffer.allocUnsafe(8 + rings.byteLength + json.length)
    out.writeUInt32LE(p.length, 0)
    out.writeUInt32LE(l.length, 4)
    Buffer.from(rings.buffer, rings.byteOffset, rings.byteLength).copy(out, 8)
    json.copy(out, 8 + rings.byteLength)
    return out
  },
  deserialize(data) {
    try {
      const n = data.readUInt32LE(0)
      const m = data.readUInt32LE(4)
      const end = 8 + 8 * (n + m)
      // Copied out: the bytes need not be 8-byte aligned for a Float64Array view.
      const rings = new Float64Array(new Uint8Array(data.subarray(8, end)).buffer)
      const point = Array.from(rings.subarray(0, n))
      const level = Array.from(rings.subarray(n))
      const rest = JSON.parse(data.subarray(end).toString('utf8')) as NabScorerState
      return { ...rest, point: { baseline: { ...rest.point.baseline, values: point } }, level: { baseline: { ...rest.level.baseline, values: level } } }
    } catch (err) {
      throw new SerdeError('nab-scorer-state', `cannot read ${data.length} bytes`, { cause: err })
    }
  },
}
