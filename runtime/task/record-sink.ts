/** Where a task's `RecordCollector` writes: Kafka in the runtime, memory in the test driver and standalone. */
import type { OutputRecord } from './records.js'

/** The next offset after the last acknowledged record of one topic-partition. */
export interface AcknowledgedOffset {
  readonly topic: string
  readonly partition: number
  readonly nextOffset: number
}

export interface RecordSink {
  /**
   * Writes the records in order; once all are acknowledged, gives the next offset of each
   * topic-partition the records named explicitly (changelog records: what a checkpoint stores).
   * A sink that writes synchronously returns the offsets themselves, not a promise: its records are
   * then visible as soon as the collector dispatches them. Calls never overlap: the collector chains
   * them.
   */
  write(records: readonly OutputRecord[]): Promise<readonly AcknowledgedOffset[]> | readonly AcknowledgedOffset[]
}

/**
 * A sink that hands every record to a synchronous append: the test driver's and the standalone
 * runtime's in-memory topics. Nothing there is checkpointed, so it acknowledges no offsets.
 */
export class InMemoryRecordSink implements RecordSink {
  constructor(private readonly append: (record: OutputRecord) => void) {}

  write(records: readonly OutputRecord[]): readonly AcknowledgedOffset[] {
    for (const record of records) this.append(record)
    return []
  }
}
