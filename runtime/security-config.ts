/**
 * The `security` section of the config: how the application authenticates to a secured cluster,
 * in the terms of Kafka's client settings (`security.protocol`, `sasl.mechanism`, truststore,
 * keystore), turned into kafkajs' `ssl` and `sasl` options. Secrets never sit in the config file:
 * it names the environment variables that hold them, so the file can be committed and printed.
 */
import { readFileSync } from 'node:fs'
import type { KafkaConfig, SASLOptions } from 'kafkajs'
import type { ConnectionOptions } from 'node:tls'
import { ConfigError } from './config-error.js'

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'
export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

export interface SecurityConfig {
  /** Kafka's `security.protocol`. */
  protocol: SecurityProtocol
  sasl?: {
    mechanism: SaslMechanism
    username: string
    /** The environment variable holding the password. */
    passwordEnv: string
  }
  tls?: {
    /** PEM file of the CA(s) that signed the brokers' certificates (Kafka's truststore); default: the system's. */
    caFile?: string
    /** Client certificate, for brokers with `ssl.client.auth=required`: PEM certificate and key files... */
    certFile?: string
    keyFile?: string
    /** ... or one PKCS#12 file (what `keytool` makes; Kafka's keystore). */
    pkcs12File?: string
    /** The environment variable holding the key's or the PKCS#12 file's password, if it has one. */
    keyPasswordEnv?: string
  }
}

const PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']
const MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']
const SECRET_KEYS = ['password', 'keyPassword', 'passphrase']

const EXAMPLE = `e.g. security: { protocol: SASL_SSL, sasl: { mechanism: SCRAM-SHA-512, username: app, passwordEnv: KAFKA_PASSWORD }, tls: { caFile: ca.pem } }`

/** kafkajs' `ssl` and `sasl` options for a `security` section; a ConfigError naming the field otherwise. */
export function kafkaSecurityOptions(input: unknown, env: NodeJS.ProcessEnv = process.env): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (input === undefined) return {}
  if (typeof input !== 'object' || input === null) throw new ConfigError('security', `expected an object, got ${JSON.stringify(input)}`, EXAMPLE)
  const section = input as Partial<SecurityConfig> & Record<string, unknown>
  const protocol = section.protocol
  if (!PROTOCOLS.includes(protocol as SecurityProtocol)) {
    throw new ConfigError('security.protocol', `expected one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(protocol)}`, `Use your cluster's security.protocol; ${EXAMPLE}.`)
  }
  const usesSasl = protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT'
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL'
  if (usesSasl && section.sasl === undefined) throw new ConfigError('security.sasl', `is required with protocol ${protocol}`, `Add { mechanism, username, passwordEnv }; ${EXAMPLE}.`)
  if (!usesSasl && section.sasl !== undefined) throw new ConfigError('security.sasl', `is set but protocol ${protocol} does not use SASL`, 'Set protocol to SASL_SSL (or SASL_PLAINTEXT), or remove sasl.')
  if (!usesTls && section.tls !== undefined) throw new ConfigError('security.tls', `is set but protocol ${protocol} does not use TLS`, 'Set protocol to SSL or SASL_SSL, or remove tls.')
  return {
    ...(usesTls ? { ssl: tlsOptions(section.tls, env) } : {}),
    ...(usesSasl ? { sasl: saslOptions(section.sasl!, env) } : {}),
  }
}

function refuseInlineSecrets(field: string, section: Record<string, unknown>, envKey: string): void {
  for (const key of SECRET_KEYS) {
    if (key in section) {
      throw new ConfigError(`${field}.${key}`, 'secrets are not read from the config file', `Put it in an environment variable and name that variable in ${field}.${envKey}.`)
    }
  }
}

function secretFromEnv(field: string, name: unknown, env: NodeJS.ProcessEnv): string {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ConfigError(field, `expected the name of an environment variable, got ${JSON.stringify(name)}`, 'For example KAFKA_PASSWORD.')
  }
  const value = env[name]
  if (value === undefined || value === '') throw new ConfigError(field, `the environment variable ${name} is not set`, `Export ${name} with the secret before starting.`)
  return value
}

function saslOptions(input: unknown, env: NodeJS.ProcessEnv): SASLOptions {
  if (typeof input !== 'object' || input === null) throw new ConfigError('security.sasl', `expected an object, got ${JSON.stringify(input)}`, EXAMPLE)
  const sasl = input as Record<string, unknown>
  refuseInlineSecrets('security.sasl', sasl, 'passwordEnv')
  const mechanism = typeof sasl.mechanism === 'string' ? sasl.mechanism.toUpperCase() : sasl.mechanism
  if (!MECHANISMS.includes(mechanism as SaslMechanism)) {
    throw new ConfigError('security.sasl.mechanism', `expected one of ${MECHANISMS.join(', ')}, got ${JSON.stringify(sasl.mechanism)}`, "Use your cluster's sasl.mechanism.")
  }
  if (typeof sasl.username !== 'string' || sasl.username === '') throw new ConfigError('security.sasl.username', `expected a user name, got ${JSON.stringify(sasl.username)}`, 'Set the SASL user the application authenticates as.')
  const password = secretFromEnv('security.sasl.passwordEnv', sasl.passwordEnv, env)
  const username = sasl.username
  switch (mechanism as SaslMechanism) {
    case 'PLAIN':
      return { mechanism: 'plain', username, password }
    case 'SCRAM-SHA-256':
      return { mechanism: 'scram-sha-256', username, password }
    case 'SCRAM-SHA-512':
      return { mechanism: 'scram-sha-512', username, password }
  }
}

function readPem(field: string, path: unknown): Buffer {
  if (typeof path !== 'string') throw new ConfigError(field, `expected a file path, got ${JSON.stringify(path)}`, 'Give the path of the file.')
  try {
    return readFileSync(path)
  } catch (e) {
    throw new ConfigError(field, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'Check the path and that this user may read it.')
  }
}

function tlsOptions(input: unknown, env: NodeJS.ProcessEnv): ConnectionOptions | true {
  if (input === undefined) return true
  if (typeof input !== 'object' || input === null) throw new ConfigError('security.tls', `expected an object, got ${JSON.stringify(input)}`, 'For example { caFile: ca.pem }.')
  const tls = input as Record<string, unknown>
  refuseInlineSecrets('security.tls', tls, 'keyPasswordEnv')
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new ConfigError(tls.certFile === undefined ? 'security.tls.certFile' : 'security.tls.keyFile', 'a client certificate needs both certFile and keyFile', 'Set both, or pkcs12File instead.')
  }
  if (tls.pkcs12File !== undefined && tls.certFile !== undefined) throw new ConfigError('security.tls.pkcs12File', 'is set together with certFile', 'Give the client certificate one way: certFile and keyFile, or pkcs12File.')
  const passphrase = tls.keyPasswordEnv === undefined ? undefined : secretFromEnv('security.tls.keyPasswordEnv', tls.keyPasswordEnv, env)
  return {
    ...(tls.caFile !== undefined ? { ca: [readPem('security.tls.caFile', tls.caFile)] } : {}),
    ...(tls.certFile !== undefined ? { cert: readPem('security.tls.certFile', tls.certFile), key: readPem('security.tls.keyFile', tls.keyFile) } : {}),
    ...(tls.pkcs12File !== undefined ? { pfx: readPem('security.tls.pkcs12File', tls.pkcs12File) } : {}),
    ...(passphrase !== undefined ? { passphrase } : {}),
  }
}
