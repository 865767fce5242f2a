import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Logger } from 'pino'
import { stateLogger } from '../log.js'

export const CHECKPOINT_FILE = '.checkpoint'

/** How the checkpoint file was found: a `missing` or `corrupt` one means no store may trust its files. */
export type CheckpointStatus = 'ok' | 'missing' | 'corrupt'

interface CheckpointFile {
  version: 1
  /** Store name -> next changelog offset to restore from. */
  offsets: Record<string, number>
}

/**
 * A task's checkpoint: for each store, the changelog offset its local files are complete up to.
 * Written atomically (temp file, fsync, rename), so a crash leaves the old or the new file, never half
 * of one. A corrupt file is treated as missing (full restore), never as a crash.
 */
export class TaskCheckpoint {
  private constructor(
    readonly path: string,
    readonly status: CheckpointStatus,
    private readonly offsets: Map<string, number>,
  ) {}

  static async read(taskDir: string, logger: Logger = stateLogger): Promise<TaskCheckpoint> {
    const path = join(taskDir, CHECKPOINT_FILE)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new TaskCheckpoint(path, 'missing', new Map())
      throw err
    }
    const offsets = parseCheckpoint(text)
    if (!offsets) {
      logger.warn({ path }, 'checkpoint file is corrupt: ignoring it, its stores will be wiped and fully restored')
      await rm(path, { force: true })
      return new TaskCheckpoint(path, 'corrupt', new Map())
    }
    return new TaskCheckpoint(path, 'ok', offsets)
  }

  offset(store: string): number | undefined {
    return this.offsets.get(store)
  }

  entries(): ReadonlyMap<string, number> {
    return this.offsets
  }

  update(store: string, offset: number): void {
    this.offsets.set(store, offset)
  }

  updateAll(offsets: ReadonlyMap<string, number>): void {
    for (const [store, offset] of offsets) this.offsets.set(store, offset)
  }

  remove(store: string): void {
    this.offsets.delete(store)
  }

  /**
   * Writes run one after another: the stores of one task restore side by side and each reports
   * progress, and two writes sharing the temp file would rename it from under each other (the loser
   * fails with ENOENT and takes the task's initialisation down with it). Each write takes the
   * offsets as they are when it runs, so the last one leaves the latest.
   */
  write(): Promise<void> {
    return this.inTurn(() => this.writeNow())
  }

  private writing: Promise<void> = Promise.resolve()

  /** Runs a file operation after the ones already queued, whether they failed or not. */
  private inTurn(operation: () => Promise<void>): Promise<void> {
    const next = this.writing.then(operation, operation)
    this.writing = next.catch(() => undefined)
    return next
  }

  private async writeNow(): Promise<void> {
    const body: CheckpointFile = { version: 1, offsets: Object.fromEntries(this.offsets) }
    const tmp = `${this.path}.tmp`
    await mkdir(dirname(this.path), { recursive: true })
    const handle = await open(tmp, 'w')
    try {
      await handle.writeFile(JSON.stringify(body))
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, this.path)
  }

  /** Deletes the file (e.g. under exactly-once while a task runs, so a crash forces a full restore). */
  delete(): Promise<void> {
    // In turn too: a write still in flight would otherwise bring the file back after the delete.
    return this.inTurn(() => rm(this.path, { force: true }))
  }
}

function parseCheckpoint(text: string): Map<string, number> | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<CheckpointFile>
    if (parsed.version !== 1 || typeof parsed.offsets !== 'object' || parsed.offsets === null) return undefined
    const offsets = new Map<string, number>()
    for (const [store, offset] of Object.entries(parsed.offsets)) {
      if (!Number.isSafeInteger(offset) || (offset as number) < 0) return undefined
      offsets.set(store, offset as number)
    }
    return offsets
  } catch {
    return undefined
  }
}
