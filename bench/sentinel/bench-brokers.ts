/** Which broker a Sentinel bench on Kafka talks to. */
import { readLocalBroker, resolveBrokers } from '../../runtime/local-broker.js'
import { startBroker } from '../../scripts/kafka-broker.js'
import { isAlive } from '../../scripts/launcher/process.js'

/** KAFKA_BROKERS, the local broker when one runs, or one started here (`own`: stop it at the end). */
export async function benchBrokers(): Promise<{ brokers: string; own: boolean }> {
  const preexisting = readLocalBroker()
  const own = !process.env.KAFKA_BROKERS && !(preexisting && isAlive(preexisting.pid))
  return { brokers: own ? await startBroker() : resolveBrokers()!.join(','), own }
}
