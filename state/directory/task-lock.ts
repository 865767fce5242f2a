import { hostname } from 'node:os'
import { mkdir, open, readFile, rename, rm, utimes } from 'node:fs/promises'
import { join } from 'node:path'

export const LOCK_FILE = '.lock'

interface LockOwner {
  pid: number
  host: string
  since: string
}

export class TaskLockedError extends Error {
  constructor(
    readonly taskDir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `task state ${taskDir} is locked by pid ${owner.pid} on ${owner.host} since ${owner.since}: two instances must not share a ` +
        `task's state; give each instance its own stateDir (or stop the other process)`,
    )
    this.name = 'TaskLockedError'
  }
}

/** Whether a process runs (EPERM: it does, as another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>
    if (typeof owner.pid === 'number' && typeof owner.host === 'string') return { pid: owner.pid, host: owner.host, since: String(owner.since) }
  } catch {
    // Unreadable or half-written: treated as stale below.
  }
  return undefined
}

/** Held while the lock is: a locked task is not open in another process or twice in this one. */
const heldHere = new Set<string>()

/**
 * Exclusive lock on a task's state directory: a `.lock` file created with O_EXCL holding the owner's
 * pid and host. A lock left by a dead process on this host is taken over (stale); a live owner, or
 * one on another host whose liveness we cannot check, makes `acquire` throw `TaskLockedError`.
 */
export class TaskLock {
  private released = false

  private constructor(readonly taskDir: string) {}

  static async acquire(taskDir: string): Promise<TaskLock> {
    const path = join(taskDir, LOCK_FILE)
    if (heldHere.has(path)) throw new TaskLockedError(taskDir, { pid: process.pid, host: hostname(), since: 'now (this process)' })
    await mkdir(taskDir, { recursive: true })
    const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const handle = await open(path, 'wx')
        try {
          await handle.writeFile(JSON.stringify(me))
        } finally {
          await handle.close()
        }
        heldHere.add(path)
        return new TaskLock(taskDir)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const owner = await readOwner(path)
      if (owner && (owner.host !== me.host || (owner.pid !== process.pid && isProcessAlive(owner.pid)) || owner.pid === process.pid)) {
        throw new TaskLockedError(taskDir, owner)
      }
      // Stale: move it aside under a name only we use, then check we did not grab a fresh lock that
      // a racing process created in between; if we did, put it back and report it as held.
      const aside = `${path}.stale-${process.pid}-${attempt}`
      try {
        await rename(path, aside)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw err
      }
      const moved = await readOwner(aside)
      if (moved && moved.pid !== owner?.pid && isProcessAlive(moved.pid)) {
        await rename(aside, path)
        throw new TaskLockedError(taskDir, moved)
      }
      await rm(aside, { force: true })
    }
    throw new Error(`could not lock task state ${taskDir}: the lock file kept changing (another process racing for it?)`)
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    const path = join(this.taskDir, LOCK_FILE)
    heldHere.delete(path)
    const owner = await readOwner(path)
    if (owner?.pid === process.pid) await rm(path, { force: true })
    // The cleanup delay of an unowned task counts from when it was last used.
    const now = new Date()
    await utimes(this.taskDir, now, now).catch(() => undefined)
  }
}

