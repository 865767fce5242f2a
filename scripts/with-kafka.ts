/**
 * Runs a command against a Kafka broker: `tsx scripts/with-kafka.ts <command...>`.
 * With KAFKA_BROKERS set, or a launcher broker already running, it just runs the command.
 * Otherwise it starts the local broker, runs the command with KAFKA_BROKERS pointing at it, and
 * stops the broker afterwards — on failure and on Ctrl-C too.
 */
import { spawn } from 'node:child_process'
import { readLocalBroker } from '../runtime/local-broker.js'
import { startBroker, stopBroker } from './kafka-broker.js'
import { isAlive } from './launcher/process.js'

const [command, ...args] = process.argv.slice(2)
if (!command) {
  console.error('usage: tsx scripts/with-kafka.ts <command> [args...]')
  process.exit(2)
}

const preexisting = readLocalBroker()
const ours = !process.env.KAFKA_BROKERS && !(preexisting && isAlive(preexisting.pid))
let exitCode = 1
try {
  // A broker of its own also gets the SASL_SSL listener, for the secured-cluster test.
  const brokers = await startBroker({ secure: ours })
  const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, KAFKA_BROKERS: brokers } })
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  exitCode = await new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))
} catch (e) {
  console.error(`[kafka] ${(e as Error).message}`)
} finally {
  if (ours) await stopBroker()
}
process.exit(exitCode)
