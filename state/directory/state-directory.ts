import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { stateLogger } from '../log.js'
import { taskDirectory } from './paths.js'
import { TaskLock, TaskLockedError } from './task-lock.js'
import { TaskCheckpoint } from './task-checkpoint.js'

export interface StateDirectoryOptions {
  stateDir: string
  applicationId: string
  /** How long an unowned task's directory is kept (it may come back in the next rebalance). Default 10 min. */
  cleanupDelayMs?: number
  logger?: Logger
}

/**
 * `<stateDir>/<applicationId>/<taskId>/<store>/`, one checkpoint and one lock per task. Finds the
 * tasks that have state here (for sticky assignment), locks tasks, and deletes directories of tasks
 * this instance no longer owns once they have been idle for the cleanup delay.
 */
export class StateDirectory {
  readonly root: string
  private readonly cleanupDelayMs: number
  private readonly log: Logger

  constructor(private readonly options: StateDirectoryOptions) {
    if (!options.stateDir) throw new Error('stateDir is required: a directory for local state, e.g. /var/lib/sentinel-streams')
    this.root = join(options.stateDir, options.applicationId)
    this.cleanupDelayMs = options.cleanupDelayMs ?? 10 * 60 * 1000
    this.log = options.logger ?? stateLogger
  }

  taskDir(taskId: string): string {
    return taskDirectory(this.options.stateDir, this.options.applicationId, taskId)
  }

  lockTask(taskId: string): Promise<TaskLock> {
    return TaskLock.acquire(this.taskDir(taskId))
  }

  readCheckpoint(taskId: string): Promise<TaskCheckpoint> {
    return TaskCheckpoint.read(this.taskDir(taskId), this.log)
  }

  /** Task ids with a directory here: the tasks this instance could resume cheaply. */
  async tasksOnDisk(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true })
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  }

  /**
   * Deletes directories of tasks not in `owned` that were last used more than the cleanup delay ago
   * and that no live process holds locked. Returns the task ids removed.
   */
  async cleanUnowned(owned: ReadonlySet<string>, now = Date.now()): Promise<string[]> {
    const removed: string[] = []
    for (const taskId of await this.tasksOnDisk()) {
      if (owned.has(taskId)) continue
      const dir = this.taskDir(taskId)
      const idleFor = now - (await stat(dir)).mtimeMs
      if (idleFor < this.cleanupDelayMs) continue
      let lock: TaskLock
      try {
        lock = await TaskLock.acquire(dir)
      } catch (err) {
        if (err instanceof TaskLockedError) continue
        throw err
      }
      try {
        await rm(dir, { recursive: true, force: true })
        removed.push(taskId)
        this.log.info({ task: taskId, idleMs: Math.round(idleFor) }, 'removed state of a task no longer owned')
      } finally {
        await lock.release()
      }
    }
    return removed
  }
}
