/** consume/send of a StreamsRuntime in memory, for the dispatcher's unit tests. */
import assert from 'node:assert/strict'
import type { DeliveryRecord } from '../../../../../apps/sentinel/delivery/delivery-record.js'
import type { BatchHandler, ConsumeOptions, IncomingRecord, OutgoingRecord } from '../../../../../runtime/streams-runtime.js'
import type { AlertEvent } from '../../../../../schemas/alert/alert-event.js'

/** consume/send of a StreamsRuntime, in memory. */
export class FakeRuntime {
  readonly consumers: { topic: string; options: ConsumeOptions; handler: BatchHandler; stopped: boolean }[] = []
  failSends = 0
  readonly sent: { topic: string; records: readonly OutgoingRecord[] }[] = []
  private offset = 0

  async consume(topic: string, options: ConsumeOptions, handler: BatchHandler): Promise<{ stop(): Promise<void> }> {
    const consumer = { topic, options, handler, stopped: false }
    this.consumers.push(consumer)
    return { stop: async () => void (consumer.stopped = true) }
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (this.failSends > 0) {
      this.failSends--
      throw new Error('broker unavailable')
    }
    this.sent.push({ topic, records })
  }

  records(values: readonly (AlertEvent | string)[]): IncomingRecord[] {
    return values.map((v) => ({
      topic: 'alerts',
      partition: 0,
      offset: String(this.offset++),
      key: typeof v === 'string' ? null : Buffer.from(v.alert_id),
      value: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)),
      headers: {},
      timestamp: 0,
    }))
  }

  /** Hands one batch to every consumer group, as the runtime would. */
  async batch(values: readonly (AlertEvent | string)[]): Promise<void> {
    assert.ok(this.consumers.length > 0, 'consume was called')
    const records = this.records(values)
    await Promise.all(this.consumers.map((c) => c.handler(records)))
  }

  /** Hands one batch to one consumer group. */
  batchFor(groupId: string, values: readonly (AlertEvent | string)[]): Promise<void> {
    const consumer = this.consumers.find((c) => c.options.groupId === groupId)
    assert.ok(consumer, `no consumer in group ${groupId}`)
    return consumer.handler(this.records(values))
  }

  deliveries(): DeliveryRecord[] {
    return this.sent.flatMap((s) => s.records.map((r) => JSON.parse(String(r.value)) as DeliveryRecord))
  }
}

