/**
 * A sentinel-streams instance in its own process, started through the real CLI
 * (`sentinel-streams run <file>`), so tests can SIGKILL it like a crashed machine.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { kafkaBrokers } from '../../kafka.js'

export interface LogLine {
  msg: string
  level: number
  [field: string]: unknown
}

export interface CliInstance {
  readonly process: ChildProcess
  readonly logs: LogLine[]
  /** The last stderr lines that were not JSON log lines (a failed start prints `sentinel-streams: <cause>`, a crash its stack). */
  readonly plainLines: string[]
  /** Resolves with the first log line matching, or rejects after `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>
  kill(signal: NodeJS.Signals): void
}

const PLAIN_LINES_KEPT = 20

export function startInstance(options: {
  topologyFile: string
  applicationId: string
  stateDir: string
  env?: Record<string, string>
  settings?: Record<string, unknown>
  /** More CLI flags (e.g. `--metrics-port`). */
  args?: string[]
  /** The instance's log level (default SENTINEL_TEST_LOG_LEVEL, else info); every line is kept in `logs`. */
  logLevel?: string
}): CliInstance {
  const configFile = join(options.stateDir, `config-${process.hrtime.bigint()}.json`)
  writeFileSync(configFile, JSON.stringify(options.settings ?? {}))
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'apps/cli/main.ts',
      'run',
      options.topologyFile,
      '--brokers',
      kafkaBrokers().join(','),
      '--application-id',
      options.applicationId,
      '--state-dir',
      options.stateDir,
      '--config',
      configFile,
      '--log-level',
      options.logLevel ?? process.env.SENTINEL_TEST_LOG_LEVEL ?? 'info',
      ...(options.args ?? []),
    ],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'inherit', 'pipe'] },
  )
  const logs: LogLine[] = []
  const plainLines: string[] = []
  const waiters = new Set<{ predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>()
  let pending = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8')
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const text of lines) {
      let line: LogLine
      try {
        line = JSON.parse(text) as LogLine
      } catch {
        if (text.trim() !== '') plainLines.push(text)
        if (plainLines.length > PLAIN_LINES_KEPT) plainLines.shift()
        if (process.env.SENTINEL_TEST_VERBOSE) process.stderr.write(`[instance] ${text}\n`)
        continue
      }
      logs.push(line)
      if (process.env.SENTINEL_TEST_VERBOSE) process.stderr.write(`[instance ${child.pid}] ${text}\n`)
      for (const w of waiters) {
        if (w.predicate(line)) {
          waiters.delete(w)
          w.resolve(line)
        }
      }
    }
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    process: child,
    logs,
    plainLines,
    exited,
    kill: (signal) => void child.kill(signal),
    waitForLog(predicate, timeoutMs = 60_000) {
      const seen = logs.find(predicate)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve }
        waiters.add(waiter)
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no matching log line within ${timeoutMs} ms; last lines:\n${logs.slice(-10).map((l) => JSON.stringify(l)).join('\n')}`))
        }, timeoutMs)
        void exited.then(() => {
          if (!waiters.has(waiter)) return
          clearTimeout(timer)
          waiters.delete(waiter)
          reject(new Error(`instance exited before the log line appeared; last lines:\n${logs.slice(-10).map((l) => JSON.stringify(l)).join('\n')}`))
        })
        const original = waiter.resolve
        waiter.resolve = (l) => {
          clearTimeout(timer)
          original(l)
        }
      })
    },
  }
}
