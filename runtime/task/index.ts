export { StreamTask, StreamTaskError, type StreamTaskOptions } from './stream-task.js'
export { TaskMetrics } from './task-metrics.js'
export { type TaskStateOptions, openTaskStores } from './task-stores.js'
export {
  DLQ_HEADERS,
  LATE_HEADERS,
  type ErrorPolicy,
  type ErrorStage,
  type OutputRecord,
  type RecordCollector,
  type SourceRecord,
} from './records.js'
