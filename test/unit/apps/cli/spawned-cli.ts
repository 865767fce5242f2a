/**
 * The `sentinel-streams` command spawned as a user starts it: through the bin launcher, tsx, or npx
 * from the repository root, in its own process group so that `interrupt()` is a terminal's Ctrl-C
 * (SIGINT to every process of the group, launcher and CLI alike), not a signal to one pid.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../../../../', import.meta.url))

export type Launcher = 'bin' | 'tsx' | 'npx'

const COMMANDS: Record<Launcher, string[]> = {
  bin: [process.execPath, join(root, 'bin/sentinel-streams.js')],
  tsx: [join(root, 'node_modules/.bin/tsx'), join(root, 'apps/cli/main.ts')],
  // --no: never fetch a same-named package from the registry; `--` keeps --version the command's.
  npx: ['npx', '--no', '--', 'sentinel-streams'],
}

export interface SpawnedCli {
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  /** The launcher's exit status as a shell reports it (128 + n when signal n ended it), once its output is done. */
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
  return spawnCommand(command!, [...prefix, ...args], options)
}

/** Any command (an installed package's bin, npm) spawned the same way. */
export function spawnCommand(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): SpawnedCli {
  // Brokers from the environment would change the run mode under test.
  const { KAFKA_BROKERS: _brokers, ...inherited } = process.env
  const child = spawn(command, args, {
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
  // 'close', not 'exit': under npx the CLI is a grandchild, still writing while its launcher exits.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + constants.signals[signal] : null))))
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

/**
 * The exit code a clean shutdown after one Ctrl-C gives under each launcher. npx reports 130: npm
 * runs the command through \`sh -c\`, and dash, interrupted with the rest of the group, waits for the
 * CLI's clean exit and then dies of the SIGINT itself, which npm re-raises.
 */
export const CLEAN_INTERRUPT_EXIT: Record<Launcher, number> = { bin: 0, tsx: 0, npx: 130 }
