/**
 * Remembers the latest successful deliveries (alert id, receiver) of this process, least recently
 * used first out. A batch redelivered to the same instance (a failed history write, a retried
 * handler, a rebalance that hands the partition back) then does not resend: the cached delivery
 * record is written again instead. It is in memory only: after a restart, or on another instance,
 * a redelivered alert is sent again (receivers see at-least-once; PagerDuty folds repeats by
 * dedup_key, Shield by action_id).
 */
export class DeliveredCache<V> {
  private readonly entries = new Map<string, V>()

  constructor(readonly capacity: number) {
    if (!(capacity >= 0)) throw new Error(`capacity must be >= 0, got ${capacity}`)
  }

  static key(alertId: string, receiver: string): string {
    return `${alertId.length}:${alertId}|${receiver}`
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key)
    if (value !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, value)
    }
    return value
  }

  set(key: string, value: V): void {
    if (this.capacity === 0) return
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
  }

  get size(): number {
    return this.entries.size
  }
}
