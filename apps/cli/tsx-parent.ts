/**
 * `tsx apps/cli/main.ts` runs the CLI as a child of tsx's own process, which relays each signal to
 * it and then, unless the child acknowledges within 30 ms twice over, kills it with SIGKILL: a CLI
 * whose event loop is busy for a moment (a large batch, a restore) when Ctrl-C comes would die with
 * no clean shutdown. Under tsx, the CLI therefore runs one process further down, and this process,
 * idle, stays between tsx and it: it acknowledges at once and passes the signal on.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { constants, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'

/** tsx's CLI serves its children on this pipe (tsx 4's client: `<tmpdir>/tsx-<uid>/<parent pid>.pipe`). */
export function isChildOfTsxCli(): boolean {
  if (process.platform === 'win32') return false
  const user = process.geteuid?.() ?? userInfo().username
  return existsSync(join(tmpdir(), `tsx-${user}`, `${process.ppid}.pipe`))
}

/** Runs this same command in a child process, passing SIGINT and SIGTERM on; resolves with its exit code. */
export function runBelowTsx(): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  // The CLI counts a repeat within a second as the same signal, so a Ctrl-C that also reached it
  // from the terminal is not taken for a second one.
  const pass = (signal: NodeJS.Signals): void => void child.kill(signal)
  process.on('SIGINT', pass)
  process.on('SIGTERM', pass)
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0))))
}
