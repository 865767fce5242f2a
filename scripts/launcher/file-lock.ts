/**
 * A cross-process lock on a file, so that two test files run in parallel by node's test runner do not
 * both start a service (or stop it under each other). The lock file holds the owner's pid; a lock whose
 * owner died is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { isAlive } from './process.js'

function tryLock(path: string): boolean {
  try {
    const fd = openSync(path, 'wx')
    writeSync(fd, String(process.pid))
    closeSync(fd)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    let owner: number
    try {
      owner = Number.parseInt(readFileSync(path, 'utf8'), 10)
    } catch {
      return false // released between our open and our read
    }
    // An empty file is a lock being written right now; only a dead owner's lock is stale.
    if (Number.isInteger(owner) && owner !== process.pid && !isAlive(owner)) rmSync(path, { force: true })
    return false
  }
}

export async function withFileLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (!tryLock(path)) {
    if (Date.now() > deadline) throw new Error(`could not take the lock ${path} within ${timeoutMs} ms (held by another process)`)
    await sleep(100)
  }
  try {
    return await fn()
  } finally {
    rmSync(path, { force: true })
  }
}
