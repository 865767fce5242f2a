/** The byte-level records a task consumes and produces, and what it does with bad ones. */
import type { RecordHeaders } from '../../topology/processor.js'

/** A consumed record, as kafkajs delivers it (offset as a string). */
export interface SourceRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** The Kafka record timestamp, epoch ms. */
  readonly timestamp: number
  readonly headers: RecordHeaders
}

export interface OutputRecord {
  readonly topic: string
  /** Set for changelog records (the task's partition); otherwise see `choosePartition`. */
  readonly partition?: number
  /** A user `StreamPartitioner` bound to this record; `undefined` result = the producer's choice. */
  readonly choosePartition?: (partitionCount: number) => number | undefined
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly timestamp: number
  readonly headers: RecordHeaders
}

/** What happens to a record that cannot be deserialized, timestamped, processed or serialized. */
export type ErrorPolicy = 'dlq' | 'skip' | 'fail'

export type ErrorStage = 'deserialize' | 'timestamp' | 'process' | 'serialize' | 'punctuate'

/** Headers on DLQ records (and, for the `source.*` ones, late records). */
export const DLQ_HEADERS = {
  errorClass: 'sentinel.error.class',
  errorMessage: 'sentinel.error.message',
  stage: 'sentinel.error.stage',
  processor: 'sentinel.error.processor',
  applicationId: 'sentinel.application.id',
  taskId: 'sentinel.task.id',
  sourceTopic: 'sentinel.source.topic',
  sourcePartition: 'sentinel.source.partition',
  sourceOffset: 'sentinel.source.offset',
  sourceTimestamp: 'sentinel.source.timestamp',
} as const

export const LATE_HEADERS = {
  processor: 'sentinel.late.processor',
  closedAt: 'sentinel.late.window.closed-at',
  streamTime: 'sentinel.late.stream-time',
} as const
