/**
 * Where a broker started by `npm run kafka:start` announces itself, so that the tests and the CLI
 * find it without being told. The launcher (scripts/kafka-broker.ts) writes this file; nothing in
 * the library starts a broker.
 */
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One node of a launcher cluster; its data dir outlives a kill, so it can be restarted on it. */
export interface LocalBrokerNode {
  id: number
  /** The node's last process; it may be dead (killed or stopped on purpose). */
  pid: number
  port: number
  controllerPort: number
  dataDir: string
}

export interface LocalBrokerState {
  /** The first node's process (the only one of a single-broker launch). */
  pid: number
  /** Comma-separated `host:port` of every node. */
  bootstrap: string
  dataDir: string
  kafkaVersion: string
  startedAt: string
  /** Absent in state files of launchers before multi-broker clusters: one node, `pid`. */
  nodes?: LocalBrokerNode[]
  /** With `npm run kafka:secure:start`: a SASL_SSL listener beside the plaintext one. */
  secure?: SecureListenerState
}

/** A test broker's SASL_SSL listener and the throwaway credentials it accepts. */
export interface SecureListenerState {
  bootstrap: string
  /** PEM of the CA that signed the listener's certificate. */
  caFile: string
  /** PKCS#12 client key and certificate (the listener requires one), and its password. */
  clientKeystore: string
  keystorePassword: string
  /** A user known to PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 alike. */
  username: string
  password: string
}

export const localRunDir = (): string => process.env.SENTINEL_RUN_DIR ?? join(tmpdir(), 'sentinel-streams')
export const localBrokerStateFile = (): string => join(localRunDir(), 'kafka.json')

export function readLocalBroker(): LocalBrokerState | undefined {
  try {
    return JSON.parse(readFileSync(localBrokerStateFile(), 'utf8')) as LocalBrokerState
  } catch {
    return undefined
  }
}

/** Brokers from an explicit list, else `KAFKA_BROKERS`, else the local launcher's broker. */
export function resolveBrokers(explicit?: string | readonly string[]): string[] | undefined {
  const given = explicit ?? process.env.KAFKA_BROKERS
  if (given !== undefined && given.length > 0) {
    return (typeof given === 'string' ? given.split(',') : [...given]).map((b) => b.trim()).filter(Boolean)
  }
  const local = readLocalBroker()
  return local ? bootstrapList(local) : undefined
}

export const bootstrapList = (state: LocalBrokerState): string[] => state.bootstrap.split(',').map((b) => b.trim()).filter(Boolean)
