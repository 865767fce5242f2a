/**
 * Every record a task produces leaves through its one RecordCollector (Kafka Streams'
 * RecordCollector): sink and repartition output, dead letters, late records and the changelog
 * records of its stores. One buffer, filled synchronously as processors forward; one chain of sends
 * to a `RecordSink`, never two at once, so two updates of a key reach their topic in order whatever
 * the producer's in-flight setting; and, per changelog topic-partition, the offset acknowledged so
 * far, which is what the task's checkpoint stores.
 */
import type { ChangelogSink } from '../../state/index.js'
import type { OutputRecord } from './records.js'
import type { AcknowledgedOffset, RecordSink } from './record-sink.js'

const ABANDONED = 'the task was abandoned: nothing more is sent'

/** Records buffered before a send starts without waiting for a dispatch (a large store flush). */
const DISPATCH_AT_RECORDS = 10_000

export class RecordCollector {
  private buffer: OutputRecord[] = []
  private tail: Promise<void> = Promise.resolve()
  private sendsInFlight = 0
  /** Records handed to the sink and not yet acknowledged. */
  private inFlightRecords = 0
  private failure: unknown
  /** The acknowledgement round callers in one tick share (see `flush`). */
  private round: Promise<void> | undefined
  private readonly acknowledged = new Map<string, Map<number, number>>()
  /** Set by `discard`: writes queued behind one in flight are dropped, not started. */
  private discarded = false

  constructor(private readonly sink: RecordSink) {}

  /** Records buffered or in flight and not yet acknowledged: what backpressure watches. */
  get unacknowledged(): number {
    return this.buffer.length + this.inFlightRecords
  }

  send(record: OutputRecord): void {
    this.buffer.push(record)
    if (this.buffer.length >= DISPATCH_AT_RECORDS) this.dispatch()
  }

  /**
   * Where a task's logged stores hand their flushed updates: to `topicOf(store)` at `partition`,
   * through this collector's buffer. A store awaits `flush` before it writes its local batch, so
   * local state is never ahead of an acknowledged changelog.
   */
  changelogSink(topicOf: ReadonlyMap<string, string>, partition: number): ChangelogSink {
    return {
      append: (store, key, value) => {
        const topic = topicOf.get(store)
        if (topic === undefined) throw new Error(`store '${store}' has no changelog topic in the plan but logged an update`)
        this.send({ topic, partition, key, value, timestamp: Date.now(), headers: {} })
      },
      flush: () => this.flush(),
    }
  }

  /** Starts writing what is buffered; `flush` awaits it. */
  dispatch(): void {
    if (this.buffer.length === 0 || this.discarded) return
    const records = this.buffer
    this.buffer = []
    if (this.sendsInFlight === 0) {
      // Nothing in flight: write at once; a synchronous sink (in memory) is then done here.
      let written: ReturnType<RecordSink['write']>
      try {
        written = this.sink.write(records)
      } catch (err) {
        this.failure ??= err
        return
      }
      if (Array.isArray(written)) this.acknowledge(written)
      else this.track(records.length, written as Promise<readonly AcknowledgedOffset[]>)
      return
    }
    this.track(
      records.length,
      // A write queued behind another must not start once the task was abandoned: its records are
      // an abandoned incarnation's, and landing after the next owner's would put stale values last.
      this.tail.then(() => {
        if (this.discarded) throw new Error(ABANDONED)
        return this.sink.write(records)
      }),
    )
  }

  private track(count: number, written: Promise<readonly AcknowledgedOffset[]>): void {
    this.inFlightRecords += count
    this.sendsInFlight++
    this.tail = written
      .then((acks) => this.acknowledge(acks))
      .catch((err: unknown) => {
        this.failure ??= err
      })
      .finally(() => {
        this.sendsInFlight--
        this.inFlightRecords -= count
      })
  }

  /**
   * Sends what is buffered and resolves once everything sent so far is acknowledged; rethrows a
   * failed send. Callers in the same tick share one round: the stores of a commit, flushed side by
   * side, each hand over their changelog records and ask for a flush, and one send with one wait
   * serves them all.
   */
  flush(): Promise<void> {
    this.round ??= Promise.resolve().then(() => {
      this.round = undefined
      return this.awaitAcknowledged()
    })
    return this.round
  }

  /** The next offset after everything acknowledged of one topic-partition (changelogs: the checkpoint). */
  acknowledgedOffset(topic: string, partition: number): number | undefined {
    return this.acknowledged.get(topic)?.get(partition)
  }

  /**
   * Drops what is buffered and what is queued behind the write in flight (the task is being
   * abandoned, e.g. its transaction aborted or its member left the group). The write in flight
   * cannot be called back: `settled` tells when it is over.
   */
  discard(): void {
    this.buffer = []
    this.discarded = true
  }

  /**
   * Resolves once no write is in flight, whatever its outcome. A task abandoned under at-least-once
   * waits for this before it is restored again: a late write of its previous incarnation, landing
   * after the restore read the changelog, would leave the changelog's last value for a key older
   * than the state built on it (chaos finding F14).
   */
  settled(): Promise<void> {
    return this.tail
  }

  /** False once discarded: a resend of an abandoned incarnation's records is not wanted. */
  get open(): boolean {
    return !this.discarded
  }

  private async awaitAcknowledged(): Promise<void> {
    // A flush after the task was abandoned must fail: its caller (a store) would otherwise write
    // locally what never reached the changelog.
    if (this.discarded) throw new Error(ABANDONED)
    this.dispatch()
    await this.tail
    if (this.failure !== undefined) {
      const failure = this.failure
      this.failure = undefined
      throw new Error(`producing records failed: ${(failure as Error).message ?? String(failure)}`, { cause: failure })
    }
  }

  private acknowledge(acks: readonly AcknowledgedOffset[]): void {
    for (const { topic, partition, nextOffset } of acks) {
      let partitions = this.acknowledged.get(topic)
      if (!partitions) this.acknowledged.set(topic, (partitions = new Map()))
      if (nextOffset > (partitions.get(partition) ?? -1)) partitions.set(partition, nextOffset)
    }
  }
}
