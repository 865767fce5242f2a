/** Small process-level pieces shared by the local service launchers (Kafka broker, schema registry). */
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Ends a process by its pid: SIGTERM, then SIGKILL after `graceMs`. Resolves once it is gone. */
export async function terminate(pid: number, graceMs = 20_000): Promise<void> {
  if (!isAlive(pid)) return
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (isAlive(pid) && Date.now() < deadline) await sleep(100)
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL')
    while (isAlive(pid)) await sleep(50)
  }
}

/** Whether a command can be run at all (`java -version`, `mvn -v`, ...). */
export function hasCommand(command: string, versionFlag = '--version'): boolean {
  const result = spawnSync(command, [versionFlag], { stdio: 'ignore' })
  return result.error === undefined && result.status === 0
}

/** Polls `probe` until it returns true, the process `pid` dies, or `timeoutMs` passes. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; pid?: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  while (Date.now() < deadline) {
    if (options.pid !== undefined && !isAlive(options.pid)) throw new Error(`${what} exited during start-up`)
    if (await probe().catch(() => false)) return
    await sleep(options.intervalMs ?? 200)
  }
  throw new Error(`${what} did not become ready within ${options.timeoutMs} ms`)
}
