export { StreamTask, type StreamTaskOptions } from './stream-task.js'
export { StreamTaskError } from './bad-record-policy.js'
export { TaskMetrics } from './task-metrics.js'
export { type TaskStateOptions, openTaskStores } from './task-stores.js'
export {
  DLQ_HEADERS,
  LATE_HEADERS,
  type ErrorPolicy,
  type ErrorStage,
  type OutputRecord,
  type SourceRecord,
} from './records.js'
export { RecordCollector } from './record-collector.js'
export { type AcknowledgedOffset, InMemoryRecordSink, type RecordSink } from './record-sink.js'
