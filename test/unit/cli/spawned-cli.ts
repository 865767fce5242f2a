/**
 * The `sentinel-streams` command spawned as a user starts it: through the bin launcher, tsx, or npx
 * from the repository root, in its own process group so that `interrupt()` is a terminal's Ctrl-C
 * (SIGINT to every process of the group, launcher and CLI alike), not a signal to one pid.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, lstatSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../../../', import.meta.url))

export type Launcher = 'bin' | 'tsx' | 'npx'

const COMMANDS: Record<Launcher, string[]> = {
  bin: [process.execPath, join(root, 'bin/sentinel-streams.js')],
  tsx: [join(root, 'node_modules/.bin/tsx'), join(root, 'apps/cli/main.ts')],
  // --no: never fetch a package from the registry; the command must come from node_modules/.bin.
  npx: ['npx', '--no', 'sentinel-streams'],
}

/**
 * Why npx cannot find the command here, or undefined when it can. A worktree sharing another
 * checkout's node_modules (a symlink) has what that checkout installed; `npm install` links the
 * package's own bin through its `"sentinel-streams": "file:."` devDependency.
 */
export function npxUnavailable(): string | undefined {
  if (existsSync(join(root, 'node_modules/.bin/sentinel-streams'))) return undefined
  if (lstatSync(join(root, 'node_modules')).isSymbolicLink()) return 'node_modules is shared from another checkout that has not run npm install since the self-link was added'
  return undefined
}

export interface SpawnedCli {
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  readonly exited: Promise<number | null>
  /** SIGINT to the whole process group, as Ctrl-C in a terminal. */
  interrupt(): void
}

const children: ChildProcess[] = []
const dirs: string[] = []

export function tempDir(prefix = 'cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

/** Kills what is still running and removes the temporary directories; call from `after`. */
export function cleanUp(): void {
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) killGroup(child.pid, 'SIGKILL')
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

export function spawnCli(launcher: Launcher, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): SpawnedCli {
  const [command, ...prefix] = COMMANDS[launcher]
  // Brokers from the environment would change the run mode under test.
  const { KAFKA_BROKERS: _brokers, ...inherited } = process.env
  const child = spawn(command!, [...prefix, ...args], {
    cwd: options.cwd ?? root,
    env: { ...inherited, SENTINEL_RUN_DIR: process.env.SENTINEL_RUN_DIR ?? tempDir('cli-run-'), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => stdout, stderr: () => stderr, exited, interrupt: () => killGroup(child.pid!, 'SIGINT') }
}

export async function until(condition: () => boolean, what: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** stdout or stderr as JSON lines, skipping lines that are not JSON. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line)
      return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : []
    } catch {
      return []
    }
  })
}
