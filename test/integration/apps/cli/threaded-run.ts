/**
 * The command line of `sentinel-streams run <file> --threads N` on Kafka, and its /ready probe:
 * shared by the threads integration test and the threads bench (bench/runtime/threads.ts), which
 * both start the CLI as a user does and wait for every thread to run.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface ThreadedRun {
  readonly topologyFile: string
  readonly brokers: readonly string[]
  readonly applicationId: string
  readonly stateDir: string
  readonly threads: number
  /** Written to `settings.json` in the state directory and passed as --config. */
  readonly settings?: Record<string, unknown>
  readonly healthPort?: number
  readonly metricsPort?: number
  readonly logLevel?: string
}

/** The arguments after the command (`run …`). */
export function threadedRunArgs(run: ThreadedRun): string[] {
  const args = [
    'run',
    run.topologyFile,
    '--brokers',
    run.brokers.join(','),
    '--application-id',
    run.applicationId,
    '--state-dir',
    run.stateDir,
    '--threads',
    String(run.threads),
  ]
  if (run.settings) {
    const file = join(run.stateDir, 'settings.json')
    writeFileSync(file, JSON.stringify(run.settings))
    args.push('--config', file)
  }
  if (run.healthPort !== undefined) args.push('--health-port', String(run.healthPort))
  if (run.metricsPort !== undefined) args.push('--metrics-port', String(run.metricsPort))
  if (run.logLevel !== undefined) args.push('--log-level', run.logLevel)
  return args
}

/** What the run's /ready answers now; 0 while nothing listens yet. */
export async function readyStatus(healthPort: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${healthPort}/ready`).catch(() => undefined))?.status ?? 0
}
