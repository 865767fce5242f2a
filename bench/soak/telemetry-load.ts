/**
 * The soak's input: LLM telemetry from the app's synthetic generator, sent to the telemetry topic at
 * a steady target rate for as long as the soak runs. The generator's event time is compressed (hours
 * in seconds), so each event is re-stamped with the wall clock (the app refuses events more than
 * 24 h behind it) and a fresh event_id (the app drops ids it has seen within 24 h); when one
 * generator runs out the next seed takes over.
 *
 * Open loop with a bounded debt: every tick sends what the rate owes since the start, but never more
 * than one second of it, so a producer that cannot keep up shows as a lower achieved rate instead
 * of as bursts that hide it. Up to four sends in flight; `acked` counts what the broker took.
 */
import { randomUUID } from 'node:crypto'
import type { Kafka, Producer } from 'kafkajs'
import { TelemetryGenerator } from '../../apps/sentinel/generator/index.js'
import type { TelemetryEvent } from '../../schemas/telemetry/telemetry-event.js'

const TICK_MS = 100
const MAX_BATCH = 1_000
/** Sends in flight at once: one at a time could not offer 2K events/s on the loaded 2-core machine. */
const IN_FLIGHT = 4

export class TelemetryLoad {
  private readonly producer: Producer
  private seed = 1
  private events: Iterator<TelemetryEvent> = this.nextGenerator()
  private running = false
  private loop: Promise<void> | undefined
  /** Records the broker acknowledged. */
  acked = 0
  /** Records the rate owed but that were given up because the sender was more than a second behind. */
  skipped = 0
  failedSends = 0
  lastError: string | undefined

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly rate: number,
  ) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false })
  }

  private nextGenerator(): Iterator<TelemetryEvent> {
    return new TelemetryGenerator({ seed: this.seed++, hours: 6, incidents: false }).events()
  }

  private nextEvent(now: string): TelemetryEvent {
    let next = this.events.next()
    if (next.done) {
      this.events = this.nextGenerator()
      next = this.events.next()
    }
    return { ...(next.value as TelemetryEvent), event_id: randomUUID(), timestamp: now }
  }

  async start(): Promise<void> {
    await this.producer.connect()
    this.running = true
    this.loop = this.run()
  }

  private async run(): Promise<void> {
    const started = Date.now()
    let owedSoFar = 0
    while (this.running) {
      const owedNow = Math.floor(((Date.now() - started) / 1000) * this.rate)
      let due = owedNow - owedSoFar
      if (due > this.rate) {
        this.skipped += due - this.rate
        due = this.rate
      }
      owedSoFar = owedNow
      while (due > 0 && this.running) {
        const now = new Date().toISOString()
        const batches: number[] = []
        while (due > 0 && batches.length < IN_FLIGHT) {
          batches.push(Math.min(due, MAX_BATCH))
          due -= batches.at(-1)!
        }
        await Promise.all(batches.map((n) => this.send(n, now)))
      }
      await new Promise((r) => setTimeout(r, TICK_MS))
    }
  }

  private async send(n: number, now: string): Promise<void> {
    const messages = Array.from({ length: n }, () => {
      const event = this.nextEvent(now)
      // Keyed by the event id: spread over every partition (the app re-keys per detector anyway).
      return { key: event.event_id, value: JSON.stringify(event) }
    })
    try {
      await this.producer.send({ topic: this.topic, messages })
      this.acked += n
    } catch (e) {
      // A broker restart or a slow cluster: count it, the next tick goes on.
      this.failedSends++
      this.lastError = (e as Error).message
    }
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
    await this.producer.disconnect()
  }
}
