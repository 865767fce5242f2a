/**
 * Throwaway TLS material for the local SASL_SSL listener, made with the JDK's keytool (the broker
 * needs a JDK anyway, so nothing else to install): a CA, a broker certificate for 127.0.0.1 and
 * localhost signed by it, and a client certificate signed by it, since the listener requires one.
 * Valid for two days; a new set is made for every broker start.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'

export interface BrokerCertificates {
  /** PEM of the CA: the clients' trust anchor. */
  readonly caFile: string
  /** PKCS#12 key and certificate chain of the broker, and the truststore holding the CA (broker side). */
  readonly brokerKeystore: string
  readonly brokerTruststore: string
  /** PKCS#12 key and certificate chain of a client. */
  readonly clientKeystore: string
  /** The one password of every store above. */
  readonly password: string
}

/** keytool is a short-lived JVM run 13 times: skip the optimising compiler, the costly part of each start. */
const FAST_JVM = ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC', '-J-Xshare:auto']

const SUBJECT_ALT_NAMES = 'SAN=ip:127.0.0.1,dns:localhost'

export function makeBrokerCertificates(dir: string): BrokerCertificates {
  const password = randomBytes(12).toString('hex')
  const path = (name: string): string => join(dir, name)
  const keytool = (...args: string[]): void => {
    const result = spawnSync('keytool', [...FAST_JVM, ...args], { encoding: 'utf8', cwd: dir })
    if (result.status !== 0) throw new Error(`keytool ${args[0]} failed: ${result.stderr || result.stdout}`)
  }
  const store = (file: string): string[] => ['-keystore', path(file), '-storepass', password, '-storetype', 'PKCS12']
  const keyPair = (file: string, alias: string, dname: string, ...ext: string[]): void =>
    keytool('-genkeypair', '-alias', alias, '-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '2', '-dname', dname, ...ext, ...store(file))

  keyPair('ca.p12', 'ca', 'CN=sentinel-streams test CA', '-ext', 'bc:c')
  keytool('-exportcert', '-rfc', '-alias', 'ca', '-file', path('ca.pem'), ...store('ca.p12'))
  keytool('-importcert', '-noprompt', '-alias', 'ca', '-file', path('ca.pem'), ...store('truststore.p12'))

  // A certificate signed by the CA, then its chain (CA first) imported into the key's own store.
  const signed = (file: string, alias: string, dname: string, ...ext: string[]): void => {
    keyPair(file, alias, dname, ...ext)
    keytool('-certreq', '-alias', alias, '-file', path(`${alias}.csr`), ...store(file))
    keytool('-gencert', '-rfc', '-alias', 'ca', '-validity', '2', '-infile', path(`${alias}.csr`), '-outfile', path(`${alias}.pem`), ...ext, ...store('ca.p12'))
    keytool('-importcert', '-noprompt', '-alias', 'ca', '-file', path('ca.pem'), ...store(file))
    keytool('-importcert', '-noprompt', '-alias', alias, '-file', path(`${alias}.pem`), ...store(file))
  }
  signed('broker.p12', 'broker', 'CN=localhost', '-ext', SUBJECT_ALT_NAMES)
  signed('client.p12', 'client', 'CN=sentinel-streams-client')
  return { caFile: path('ca.pem'), brokerKeystore: path('broker.p12'), brokerTruststore: path('truststore.p12'), clientKeystore: path('client.p12'), password }
}
