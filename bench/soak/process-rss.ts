/**
 * Resident memory of an instance's process, from /proc (Linux: the machines this runs on). Its
 * direct children are added: the CLI may run one process further down (apps/cli/tsx-parent.ts).
 */
import { readFileSync } from 'node:fs'

/** One process's resident bytes (its children not added); 0 when it is gone. */
export function ownRssBytes(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? 0 : Number(kb) * 1024
  } catch {
    return 0 // gone between the listing and the read
  }
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** Bytes, or undefined when the process is not there. */
export function processRssBytes(pid: number): number | undefined {
  const own = ownRssBytes(pid)
  if (own === 0) return undefined
  return own + children(pid).reduce((sum, child) => sum + ownRssBytes(child), 0)
}
