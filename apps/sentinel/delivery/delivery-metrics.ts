/**
 * The dispatcher's Prometheus metrics. `sentinel_alerts_sent_total{receiver,status}` is the seed's
 * name (001, "Prometheus Metrics Export"). With no registry given they go to a private one nobody
 * scrapes, so recording costs nanoseconds and needs no branches.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { CircuitState } from './circuit-breaker.js'

export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 }

export class DeliveryMetrics {
  readonly registry: Registry
  readonly sent: Counter<'receiver' | 'status'>
  readonly seconds: Histogram<'receiver'>
  readonly retries: Counter<'receiver'>
  readonly circuit: Gauge<'receiver'>

  /** `circuitStates` is read at each scrape, so an open circuit that has cooled down reads half-open. */
  constructor(registry: Registry | undefined, circuitStates: () => Iterable<readonly [string, CircuitState]>) {
    this.registry = registry ?? new Registry()
    const registers = [this.registry]
    this.sent = new Counter({ name: 'sentinel_alerts_sent_total', help: 'Alert deliveries by receiver and outcome (success, failed, circuit_open, skipped)', labelNames: ['receiver', 'status'], registers })
    this.seconds = new Histogram({
      name: 'sentinel_alert_delivery_seconds',
      help: 'Time of one delivery to a receiver, retries and backoff included',
      labelNames: ['receiver'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    })
    this.retries = new Counter({ name: 'sentinel_alert_delivery_retries_total', help: 'Failed delivery attempts that were retried', labelNames: ['receiver'], registers })
    this.circuit = new Gauge({
      name: 'sentinel_alert_receiver_circuit_state',
      help: 'Circuit breaker of each receiver: 0 closed, 1 half-open, 2 open',
      labelNames: ['receiver'],
      registers,
      collect() {
        for (const [receiver, state] of circuitStates()) this.set({ receiver }, CIRCUIT_STATE_VALUE[state])
      },
    })
  }
}
