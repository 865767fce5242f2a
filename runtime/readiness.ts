/**
 * Readiness of an instance for an orchestrator (Kubernetes' readiness probe), as Kafka Streams
 * users judge it: ready once it has run with its tasks restored, and still ready through a
 * rebalance that follows. Every instance joining or leaving rebalances the whole group (kafkajs'
 * protocol is eager), so answering "not ready" on `rebalancing` would take every pod out of its
 * Service, and its interactive queries off the air, each time one pod rolls.
 */
import type { StateSource, StreamsState } from './streams-state.js'

export interface ReadinessReport {
  readonly ready: boolean
  readonly state: StreamsState
  readonly reason: string
}

export class Readiness {
  private hasRun = false

  constructor(private readonly source: StateSource) {
    if (source.state === 'running') this.hasRun = true
    source.onStateChange((next) => {
      if (next === 'running') this.hasRun = true
      else if (next !== 'rebalancing') this.hasRun = false
    })
  }

  report(): ReadinessReport {
    const { state } = this.source
    if (state === 'running') return { ready: true, state, reason: 'running' }
    if (state === 'rebalancing' && this.hasRun) return { ready: true, state, reason: 'rebalancing after running: the tasks it had were restored' }
    if (state === 'rebalancing' || state === 'created') return { ready: false, state, reason: 'starting: tasks not yet assigned and restored' }
    return { ready: false, state, reason: state === 'error' ? 'failed' : 'shutting down' }
  }

  /** Liveness: false only once the runtime has failed, so a restart is the cure. */
  alive(): boolean {
    return this.source.state !== 'error'
  }
}
