/**
 * A topology's generation: which structure it has, and from which version of the application's
 * configuration it was built. An application that rebuilds its topology while running (LLM-Sentinel
 * on a new detector version) tags each build with one, and the runtime's task assignor gives tasks
 * only to the members on the newest one, so no task runs under two topologies at once.
 */
import { createHash } from 'node:crypto'

export interface TopologyGeneration {
  /** The structure: sub-topologies, nodes, stores and topics (a hash of `describe()`). */
  readonly fingerprint: string
  /** The configuration version it was built from; higher is newer. */
  readonly version: number
}

/** Two builds with the same nodes, stores and topics have the same fingerprint, whatever their parameters (a `Topology`). */
export function topologyFingerprint(topology: { describe(): string }): string {
  return createHash('sha256').update(topology.describe()).digest('hex').slice(0, 16)
}

/** The generation of `topology` built from configuration `version`. */
export function topologyGeneration(topology: { describe(): string }, version: number): TopologyGeneration {
  if (!Number.isSafeInteger(version) || version < 0) throw new Error(`a topology generation's version must be a whole number ≥ 0, got ${version}`)
  return { fingerprint: topologyFingerprint(topology), version }
}
