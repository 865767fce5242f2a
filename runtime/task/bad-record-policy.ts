/**
 * What a task does with records it cannot handle, and with late ones: the error policy (dead-letter
 * with the reason in headers, skip, or fail) and the late-records topic. Processing goes on past a
 * bad record unless the policy is `fail`; a store read that was not prefetched always fails, since
 * it is a bug in the topology, not a bad record.
 */
import type pino from 'pino'
import { StoreMissError } from '../../state/index.js'
import type { LateRecord } from '../../topology/internal-context.js'
import { FatalTaskError, type PunctuationType, type RecordHeaders, type RecordMetadata } from '../../topology/processor.js'
import { BadRecordWarnings } from './bad-record-warnings.js'
import type { RecordCollector } from './record-collector.js'
import { DLQ_HEADERS, type ErrorPolicy, type ErrorStage, LATE_HEADERS, type SourceRecord } from './records.js'
import type { TaskMetrics } from './task-metrics.js'

/** Thrown under the `fail` policy (and for failures outside any record). */
export class StreamTaskError extends Error {
  constructor(
    readonly taskId: string,
    readonly stage: ErrorStage,
    readonly processor: string | undefined,
    readonly source: RecordMetadata | undefined,
    cause: unknown,
  ) {
    const where = source ? ` at ${source.topic}-${source.partition}@${source.offset}` : ''
    super(`task ${taskId}: ${stage} failed in ${processor ?? 'source'}${where}: ${errorMessage(cause)}`, { cause })
    this.name = 'StreamTaskError'
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export interface BadRecordPolicyOptions {
  applicationId: string
  taskId: string
  dlqTopic: string
  policy: ErrorPolicy
  collector: RecordCollector
  metrics: TaskMetrics
  log: pino.Logger
  wallClock: () => number
}

export class BadRecordPolicy {
  private readonly warnings: BadRecordWarnings

  constructor(private readonly options: BadRecordPolicyOptions) {
    this.warnings = new BadRecordWarnings(options.log, options.wallClock)
  }

  /** A record failed at `stage` in `processor`: dead-letter it, skip it, or throw, as the policy says. */
  recordFailed(err: unknown, stage: ErrorStage, raw: SourceRecord, processor: string): void {
    const { policy, metrics, taskId } = this.options
    const source = { topic: raw.topic, partition: raw.partition, offset: raw.offset }
    // A store read that was not prefetched is a bug in the topology, not a bad record: dead-lettering
    // every record would empty the stream into the DLQ. A FatalTaskError is a processor saying the same.
    if (policy === 'fail' || err instanceof StoreMissError || err instanceof FatalTaskError) throw new StreamTaskError(taskId, stage, processor, source, err)
    if (policy === 'skip') {
      metrics.skipped++
      this.warnings.warn(stage, { err, processor, ...source }, 'bad record skipped')
      return
    }
    this.warnings.warn(stage, { err, processor, ...source, dlq: this.options.dlqTopic }, 'bad record dead-lettered')
    this.sendDeadLetter(raw, stage, processor, err)
  }

  /** A punctuator failed: no record to blame, so its dead letter carries only the error. */
  punctuationFailed(err: unknown, processor: string, type: PunctuationType): void {
    const { policy, metrics, taskId } = this.options
    if (policy === 'fail' || err instanceof StoreMissError) throw new StreamTaskError(taskId, 'punctuate', processor, undefined, err)
    metrics.punctuationErrors++
    this.options.log.warn({ err, processor, type }, 'punctuator failed')
    if (policy === 'dlq') this.sendDeadLetter(null, 'punctuate', processor, err)
  }

  /** A record arrived after its window closed: counted, and copied to the late-records topic if one is set. */
  recordLate(late: LateRecord, raw: SourceRecord | undefined, streamTime: number): void {
    this.options.metrics.recordLate(late.processor)
    this.options.log.debug({ processor: late.processor, closedAt: late.closedAt, streamTime }, 'late record dropped')
    if (late.lateRecordsTopic === undefined || !raw) return
    this.options.collector.send({
      topic: late.lateRecordsTopic,
      key: raw.key,
      value: raw.value,
      timestamp: raw.timestamp,
      headers: {
        ...raw.headers,
        ...this.sourceHeaders(raw),
        [LATE_HEADERS.processor]: late.processor,
        [LATE_HEADERS.closedAt]: String(late.closedAt),
        [LATE_HEADERS.streamTime]: String(streamTime),
      },
    })
  }

  private sourceHeaders(raw: SourceRecord): RecordHeaders {
    return {
      [DLQ_HEADERS.applicationId]: this.options.applicationId,
      [DLQ_HEADERS.taskId]: this.options.taskId,
      [DLQ_HEADERS.sourceTopic]: raw.topic,
      [DLQ_HEADERS.sourcePartition]: String(raw.partition),
      [DLQ_HEADERS.sourceOffset]: raw.offset,
      [DLQ_HEADERS.sourceTimestamp]: String(raw.timestamp),
    }
  }

  private sendDeadLetter(raw: SourceRecord | null, stage: ErrorStage, processor: string, err: unknown): void {
    const { applicationId, taskId } = this.options
    this.options.metrics.deadLettered++
    const error = err instanceof Error ? err : new Error(String(err))
    this.options.collector.send({
      topic: this.options.dlqTopic,
      key: raw?.key ?? null,
      value: raw?.value ?? null,
      timestamp: raw?.timestamp ?? this.options.wallClock(),
      headers: {
        ...(raw ? { ...raw.headers, ...this.sourceHeaders(raw) } : { [DLQ_HEADERS.applicationId]: applicationId, [DLQ_HEADERS.taskId]: taskId }),
        [DLQ_HEADERS.errorClass]: error.name,
        [DLQ_HEADERS.errorMessage]: error.message.slice(0, 2000),
        [DLQ_HEADERS.stage]: stage,
        [DLQ_HEADERS.processor]: processor,
      },
    })
  }
}
