/**
 * Task counters (plain numbers on each task's TaskMetrics) into the runtime's Prometheus counters,
 * as increments since the last export. Both runtimes export at commit, so the hot path only bumps
 * numbers.
 */
import type { TaskMetrics } from '../task/task-metrics.js'
import type { RuntimeMetrics } from './runtime-metrics.js'

interface Exported {
  late: number
  dlq: number
  ahead: number
  behind: number
  duplicates: number
}

export class TaskCountersExport {
  private readonly exported = new Map<string, Exported>()

  constructor(private readonly metrics: RuntimeMetrics) {}

  export(taskId: string, counters: TaskMetrics): void {
    const before = this.exported.get(taskId) ?? { late: 0, dlq: 0, ahead: 0, behind: 0, duplicates: 0 }
    const now: Exported = {
      late: counters.late,
      dlq: counters.deadLettered,
      ahead: counters.outOfBounds.ahead,
      behind: counters.outOfBounds.behind,
      duplicates: counters.duplicates,
    }
    const task = { task: taskId }
    // A re-created task (re-initialised after a failed commit) counts from 0 again.
    const since = (field: keyof Exported): number => now[field] - (now[field] < before[field] ? 0 : before[field])
    if (since('late') > 0) this.metrics.late.inc(task, since('late'))
    if (since('dlq') > 0) this.metrics.dlq.inc(task, since('dlq'))
    if (since('ahead') > 0) this.metrics.eventTimeRejected.inc({ ...task, side: 'ahead' }, since('ahead'))
    if (since('behind') > 0) this.metrics.eventTimeRejected.inc({ ...task, side: 'behind' }, since('behind'))
    if (since('duplicates') > 0) this.metrics.duplicates.inc(task, since('duplicates'))
    this.exported.set(taskId, now)
  }
}
