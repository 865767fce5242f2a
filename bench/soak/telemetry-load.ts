/**
 * The soak's input: LLM telemetry from the app's synthetic generator, sent to the telemetry topic at
 * a steady target rate for as long as the soak runs (`SteadyLoad`: open loop, at most a second of
 * debt). The generator's event time is compressed (hours in seconds), so each event is re-stamped
 * with the wall clock (the app refuses events more than 24 h behind it) and a fresh event_id (the
 * app drops ids it has seen within 24 h); when one generator runs out the next seed takes over.
 */
import { randomUUID } from 'node:crypto'
import type { Kafka } from 'kafkajs'
import { TelemetryGenerator } from '../../apps/sentinel/generator/index.js'
import type { TelemetryEvent } from '../../schemas/telemetry/telemetry-event.js'
import { SteadyLoad } from '../load/steady-load.js'

class TelemetryEvents {
  private seed = 1
  private events: Iterator<TelemetryEvent> = this.nextGenerator()

  private nextGenerator(): Iterator<TelemetryEvent> {
    return new TelemetryGenerator({ seed: this.seed++, hours: 6, incidents: false }).events()
  }

  next(now: string): TelemetryEvent {
    let next = this.events.next()
    if (next.done) {
      this.events = this.nextGenerator()
      next = this.events.next()
    }
    return { ...(next.value as TelemetryEvent), event_id: randomUUID(), timestamp: now }
  }
}

export class TelemetryLoad extends SteadyLoad {
  constructor(kafka: Kafka, topic: string, rate: number) {
    const events = new TelemetryEvents()
    super(kafka, topic, rate, (n, now) =>
      Array.from({ length: n }, () => {
        const event = events.next(now)
        // Keyed by the event id: spread over every partition (the app re-keys per detector anyway).
        return { key: event.event_id, value: JSON.stringify(event) }
      }),
    )
  }
}
