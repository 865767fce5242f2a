/**
 * The contenders of the peers bench, each a command run in its own process: this project (Node), Apache
 * Kafka Streams 3.9.1 (bench/peers/java), and the two clients' raw consume rates as ceilings.
 */
export interface Contender {
  readonly name: string
  /** Writes workload (a)'s results, so its final values are compared with the project's. */
  readonly writesOutput: boolean
  readonly command: (run: ContenderRun) => { file: string; args: string[] }
}

export interface ContenderRun {
  readonly brokers: string
  readonly input: string
  readonly output: string
  readonly events: number
  readonly passes: number
  readonly stateDir: string
  readonly jar: string
  readonly workload: 'a' | 'b'
}

const node = (mode: string) => (run: ContenderRun) => ({
  file: process.execPath,
  args: ['--import', 'tsx', 'bench/peers/node-runner.ts', '--mode', mode, '--input', run.input, '--output', run.output, '--events', String(run.events), '--passes', String(run.passes), '--workload', run.workload],
})

const java = (settings: string[]) => (run: ContenderRun) => ({
  file: 'java',
  args: ['-cp', run.jar, 'sentinel.peers.PeerMain', `brokers=${run.brokers}`, `input=${run.input}`, `output=${run.output}`, `events=${run.events}`, `passes=${run.passes}`, `stateDir=${run.stateDir}`, 'commitMs=1000', `workload=${run.workload}`, ...settings],
})

export const CONTENDERS: readonly Contender[] = [
  { name: 'project, at-least-once', writesOutput: true, command: node('project-alos') },
  { name: 'project, exactly-once', writesOutput: true, command: node('project-eos') },
  { name: 'Kafka Streams 1 thread, at-least-once', writesOutput: true, command: java(['mode=kstreams', 'threads=1', 'guarantee=at_least_once']) },
  { name: 'Kafka Streams 2 threads, at-least-once', writesOutput: true, command: java(['mode=kstreams', 'threads=2', 'guarantee=at_least_once']) },
  { name: 'Kafka Streams 1 thread, exactly_once_v2', writesOutput: true, command: java(['mode=kstreams', 'threads=1', 'guarantee=exactly_once_v2']) },
  { name: 'Kafka Streams 2 threads, exactly_once_v2', writesOutput: true, command: java(['mode=kstreams', 'threads=2', 'guarantee=exactly_once_v2']) },
  { name: 'raw kafkajs consume', writesOutput: false, command: node('kafkajs') },
  { name: 'raw Java consumer', writesOutput: false, command: java(['mode=raw']) },
]
