/**
 * Every record a task produces leaves through its one RecordCollector (Kafka Streams'
 * RecordCollector): sink and repartition output, dead letters, late records and the changelog
 * records of its stores. One buffer, filled synchronously as processors forward; sends to a
 * `RecordSink` chained per topic, never two holding the same topic at once, so two updates of a key
 * reach their topic in order whatever the producer's in-flight setting (sends of disjoint topics
 * overlap); and, per changelog topic-partition, the offset acknowledged so far, which is what the
 * task's checkpoint stores.
 */
import type { ChangelogSink } from '../../state/index.js'
import type { OutputRecord } from './records.js'
import type { AcknowledgedOffset, RecordSink } from './record-sink.js'

/** Records buffered before a send starts without waiting for a dispatch (a large store flush). */
const DISPATCH_AT_RECORDS = 10_000

export class RecordCollector {
  private buffer: OutputRecord[] = []
  /** Per topic, the send its next records must follow: the last one holding records of it. */
  private readonly topicTails = new Map<string, Promise<void>>()
  private readonly inFlight = new Set<Promise<void>>()
  /** Records handed to the sink and not yet acknowledged. */
  private inFlightRecords = 0
  private failure: unknown
  /** The acknowledgement round callers in one tick share (see `flush`). */
  private round: Promise<void> | undefined
  private readonly acknowledged = new Map<string, Map<number, number>>()

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

  /**
   * Starts writing what is buffered; `flush` awaits it. Records of a topic a send in flight holds
   * follow that send; the others (a commit's changelog records while the last batch's outputs are
   * still in flight) go at once, beside it, so the two wait for the broker together.
   */
  dispatch(): void {
    if (this.buffer.length === 0) return
    const records = this.buffer
    this.buffer = []
    const free: OutputRecord[] = []
    const following: OutputRecord[] = []
    const predecessors = new Set<Promise<void>>()
    for (const record of records) {
      const tail = this.topicTails.get(record.topic)
      if (tail === undefined) free.push(record)
      else {
        following.push(record)
        predecessors.add(tail)
      }
    }
    if (free.length > 0) this.writeNow(free)
    if (following.length > 0) this.track(following, Promise.all(predecessors).then(() => this.sink.write(following)))
  }

  private writeNow(records: OutputRecord[]): void {
    let written: ReturnType<RecordSink['write']>
    try {
      written = this.sink.write(records)
    } catch (err) {
      this.failure ??= err
      return
    }
    // A synchronous sink (in memory) is done here.
    if (Array.isArray(written)) this.acknowledge(written)
    else this.track(records, written as Promise<readonly AcknowledgedOffset[]>)
  }

  private track(records: readonly OutputRecord[], written: Promise<readonly AcknowledgedOffset[]>): void {
    const topics = new Set(records.map((r) => r.topic))
    this.inFlightRecords += records.length
    const done: Promise<void> = written
      .then((acks) => this.acknowledge(acks))
      .catch((err: unknown) => {
        this.failure ??= err
      })
      .finally(() => {
        this.inFlightRecords -= records.length
        this.inFlight.delete(done)
        for (const topic of topics) if (this.topicTails.get(topic) === done) this.topicTails.delete(topic)
      })
    this.inFlight.add(done)
    for (const topic of topics) this.topicTails.set(topic, done)
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

  /** Drops what is buffered (the task is being abandoned, e.g. its transaction aborted). */
  discard(): void {
    this.buffer = []
  }

  private async awaitAcknowledged(): Promise<void> {
    this.dispatch()
    await Promise.all(this.inFlight)
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
