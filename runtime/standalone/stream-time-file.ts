/**
 * A standalone task's stream time, kept beside its stores (`<taskDir>/.stream-time`) and written at
 * each commit: on Kafka it rides in the committed offsets' metadata, here there are no durable
 * offsets. Without it a restarted task would accept a late record into a window it already emitted.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'

const FILE = '.stream-time'

export async function readStreamTime(taskDir: string): Promise<number> {
  try {
    const parsed = JSON.parse(await readFile(join(taskDir, FILE), 'utf8')) as { streamTime?: unknown }
    return typeof parsed.streamTime === 'number' && Number.isFinite(parsed.streamTime) ? parsed.streamTime : -1
  } catch {
    // Missing or unreadable: the task starts without a stream time, as a new one does.
    return -1
  }
}

/** Atomic (temp file, fsync, rename): a crash leaves the previous value or the new one. */
export async function writeStreamTime(taskDir: string, streamTime: number): Promise<void> {
  const path = join(taskDir, FILE)
  const tmp = `${path}.tmp`
  await mkdir(taskDir, { recursive: true })
  const handle = await open(tmp, 'w')
  try {
    await handle.writeFile(JSON.stringify({ version: 1, streamTime }))
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, path)
}
