/**
 * Which runtime `sentinel-streams run` uses: Kafka when brokers come from anywhere (--brokers,
 * KAFKA_BROKERS, the config's `brokers`, or a running broker of `npm run kafka:start`), standalone
 * when none does or when `--standalone` asks for it.
 */
import { bootstrapList, readLocalBroker } from '../../runtime/local-broker.js'
import { isProcessAlive } from '../../state/directory/task-lock.js'

export type RunMode = { readonly kind: 'kafka'; readonly brokers: string[]; readonly source: string } | { readonly kind: 'standalone'; readonly forced: boolean }

export class RunModeError extends Error {}

export const STANDALONE_NOTICE =
  'no Kafka brokers configured: running standalone — embedded log, no scale-out, no crash recovery of in-flight records; pass --brokers to run on Kafka'

export function chooseRunMode(options: {
  standalone: boolean
  flag: string | undefined
  env: string | undefined
  config: string | readonly string[] | undefined
}): RunMode {
  const explicit: [string, string | readonly string[] | undefined][] = [
    ['--brokers', options.flag],
    ['KAFKA_BROKERS', options.env],
    ["the config's brokers", options.config],
  ]
  if (options.standalone) {
    if (options.flag !== undefined) throw new RunModeError('--standalone and --brokers contradict each other: pass one of them')
    return { kind: 'standalone', forced: true }
  }
  for (const [source, value] of explicit) {
    const brokers = list(value)
    if (brokers.length > 0) return { kind: 'kafka', brokers, source }
  }
  const local = readLocalBroker()
  if (local && isProcessAlive(local.pid)) return { kind: 'kafka', brokers: bootstrapList(local), source: 'the local broker of npm run kafka:start' }
  return { kind: 'standalone', forced: false }
}

function list(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return []
  return (typeof value === 'string' ? value.split(',') : [...value]).map((b) => b.trim()).filter(Boolean)
}
