import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { ConfigError, resolveConfig } from '../../../runtime/config.js'
import { kafkaSecurityOptions } from '../../../runtime/security-config.js'

const dir = mkdtempSync(join(tmpdir(), 'security-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const caFile = join(dir, 'ca.pem')
writeFileSync(caFile, 'CA PEM')
const env = { KAFKA_PASSWORD: 's3cret', KEY_PASSWORD: 'k3y' }

test('SASL_SSL: kafkajs sasl with the password from the environment, ssl with the CA file', () => {
  const options = kafkaSecurityOptions({ protocol: 'SASL_SSL', sasl: { mechanism: 'SCRAM-SHA-256', username: 'app', passwordEnv: 'KAFKA_PASSWORD' }, tls: { caFile } }, env)
  assert.deepEqual(options.sasl, { mechanism: 'scram-sha-256', username: 'app', password: 's3cret' })
  assert.deepEqual(options.ssl, { ca: [Buffer.from('CA PEM')] })
})

test('SSL without a tls section uses the system CAs; SASL_PLAINTEXT has no ssl', () => {
  assert.deepEqual(kafkaSecurityOptions({ protocol: 'SSL' }, env), { ssl: true })
  const plain = kafkaSecurityOptions({ protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', username: 'app', passwordEnv: 'KAFKA_PASSWORD' } }, env)
  assert.equal(plain.ssl, undefined)
  assert.equal(plain.sasl?.mechanism, 'plain')
})

test('resolveConfig merges the security section into the kafkajs options', () => {
  const resolved = resolveConfig({ applicationId: 'a', brokers: 'k:9093', kafka: { connectionTimeout: 5000 }, security: { protocol: 'SSL', tls: { caFile } } })
  assert.equal(resolved.kafka.connectionTimeout, 5000)
  assert.deepEqual(resolved.kafka.ssl, { ca: [Buffer.from('CA PEM')] })
})

const refusals: [string, unknown, RegExp][] = [
  ['an unknown protocol', { protocol: 'TLS' }, /'security.protocol': expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, got "TLS"/],
  ['SASL_SSL without sasl', { protocol: 'SASL_SSL' }, /'security.sasl': is required with protocol SASL_SSL/],
  ['a password in the file', { protocol: 'SASL_SSL', sasl: { mechanism: 'PLAIN', username: 'u', password: 'x' } }, /'security.sasl.password': secrets are not read from the config file. Put it in an environment variable and name that variable in security.sasl.passwordEnv/],
  ['an unset variable', { protocol: 'SASL_SSL', sasl: { mechanism: 'PLAIN', username: 'u', passwordEnv: 'NOT_SET' } }, /'security.sasl.passwordEnv': the environment variable NOT_SET is not set. Export NOT_SET/],
  ['an unknown mechanism', { protocol: 'SASL_SSL', sasl: { mechanism: 'GSSAPI', username: 'u', passwordEnv: 'KAFKA_PASSWORD' } }, /'security.sasl.mechanism': expected one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/],
  ['a missing CA file', { protocol: 'SSL', tls: { caFile: join(dir, 'nope.pem') } }, /'security.tls.caFile': cannot read .*nope.pem \(ENOENT\)/],
  ['a certificate without its key', { protocol: 'SSL', tls: { certFile: caFile } }, /'security.tls.keyFile': a client certificate needs both certFile and keyFile/],
  ['tls on a plaintext protocol', { protocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', username: 'u', passwordEnv: 'KAFKA_PASSWORD' }, tls: { caFile } }, /'security.tls': is set but protocol SASL_PLAINTEXT does not use TLS/],
]
for (const [what, section, message] of refusals) {
  test(`refused, naming the field and the fix: ${what}`, () => {
    assert.throws(() => kafkaSecurityOptions(section, env), (e: unknown) => e instanceof ConfigError && message.test(e.message))
  })
}

test('the secret never appears in an error message', () => {
  assert.throws(
    () => kafkaSecurityOptions({ protocol: 'SASL_SSL', sasl: { mechanism: 'PLAIN', username: 'u', password: 'hunter2' } }, env),
    (e: unknown) => e instanceof ConfigError && !e.message.includes('hunter2'),
  )
})
