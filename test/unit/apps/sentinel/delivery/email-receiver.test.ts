/**
 * The email receiver against a real SMTP server started here (`smtp-server`, nodemailer's own
 * server library): the dispatcher delivers an alert as a mail, a permanent refusal (5xx) is not
 * retried, a temporary one (4xx) is, and the receivers file checks the fields.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { SMTPServer } from 'smtp-server'
import { AlertDispatcher } from '../../../../../apps/sentinel/delivery/alert-dispatcher.js'
import type { DeliveryRecord } from '../../../../../apps/sentinel/delivery/delivery-record.js'
import { parseReceiversConfig } from '../../../../../apps/sentinel/delivery/receivers-config.js'
import type { IncomingRecord, OutgoingRecord } from '../../../../../runtime/streams-runtime.js'
import type { AlertEvent } from '../../../../../schemas/alert/alert-event.js'
import { sampleAlert } from './fixtures.js'

interface Mail {
  readonly from: string
  readonly to: string[]
  readonly raw: string
}

const mails: Mail[] = []
/** Answers for RCPT TO by recipient: an error code to refuse with. */
const refuse = new Map<string, { code: number; times: number }>()
let server: SMTPServer
let port = 0

before(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const rule = refuse.get(address.address)
      if (rule !== undefined && rule.times > 0) {
        rule.times--
        const err = Object.assign(new Error(rule.code >= 500 ? 'mailbox unavailable' : 'try again later'), { responseCode: rule.code })
        return callback(err)
      }
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address
        // Bodies are quoted-printable: undo soft line breaks and escapes to read the text.
        const raw = Buffer.concat(chunks).toString('utf8').replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
        mails.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.server.address() as AddressInfo).port
})
after(() => new Promise<void>((resolve) => server.close(() => resolve())))

function receivers(to: string) {
  return parseReceiversConfig(
    `publicUrl: https://sentinel.example.com
delivery: { timeout: 5s, retry: { maxAttempts: 3, initialBackoff: 10ms, maxBackoff: 20ms } }
receivers:
  - name: email-oncall
    type: email
    config: { smtpUrl: "smtp://127.0.0.1:${port}", from: sentinel@example.com, to: [${to}] }
`,
    { env: {} },
  )
}

async function dispatch(to: string, alert: AlertEvent): Promise<DeliveryRecord[]> {
  const sent: OutgoingRecord[] = []
  const runtime = { consume: () => Promise.reject(new Error('not used')), send: async (_t: string, records: readonly OutgoingRecord[]) => void sent.push(...records) }
  const dispatcher = new AlertDispatcher({ receivers: receivers(to), runtime })
  const record: IncomingRecord = { topic: 'alerts', partition: 0, offset: '0', key: Buffer.from(alert.alert_id), value: Buffer.from(JSON.stringify(alert)), headers: {}, timestamp: 0 }
  await dispatcher.handleBatch([record])
  return sent.map((r) => JSON.parse(String(r.value)) as DeliveryRecord)
}

const alertTo = (id: string): AlertEvent => sampleAlert({ alert_id: id, actions: [{ type: 'notification', config: { receivers: ['email-oncall'] } }] })

test('an alert is delivered as a mail: envelope, subject, body with the rule, the anomaly, its link and the alert id', async () => {
  const alert = alertTo('11111111-1111-5111-8111-111111111111')
  const [delivery] = await dispatch('oncall@example.com', alert)
  assert.equal(delivery?.status, 'success')
  assert.equal(delivery?.type, 'email')
  assert.equal(delivery?.attempts, 1)
  const mail = mails.find((m) => m.raw.includes(alert.alert_id))
  assert.ok(mail, 'the SMTP server received the mail')
  assert.equal(mail.from, 'sentinel@example.com')
  assert.deepEqual(mail.to, ['oncall@example.com'])
  assert.match(mail.raw, new RegExp(`^Subject: ${alert.title.replace(/[[\]()]/g, '\\$&')}`, 'm'))
  assert.match(mail.raw, /^X-Sentinel-Alert-Id: 11111111-1111-5111-8111-111111111111/im)
  assert.match(mail.raw, /Rule: Critical anomalies \(critical-anomalies\)/)
  assert.match(mail.raw, /https:\/\/sentinel\.example\.com\/api\/v1\/anomalies\/660e8400-e29b-41d4-a716-446655440001/)
})

test('a permanent refusal (550) fails at once; a temporary one (451) is retried and delivered', async () => {
  refuse.set('gone@example.com', { code: 550, times: 10 })
  const [gone] = await dispatch('gone@example.com', alertTo('22222222-2222-5222-8222-222222222222'))
  assert.equal(gone?.status, 'failed')
  assert.equal(gone?.attempts, 1)
  assert.equal(gone?.http_status, 550)
  assert.match(gone?.last_error ?? '', /^SMTP 550/)

  refuse.set('busy@example.com', { code: 451, times: 1 })
  const [busy] = await dispatch('busy@example.com', alertTo('33333333-3333-5333-8333-333333333333'))
  assert.equal(busy?.status, 'success')
  assert.equal(busy?.attempts, 2)
  assert.ok(mails.some((m) => m.raw.includes('33333333-3333-5333-8333-333333333333')))
})

test('the receivers file checks an email receiver: smtp URL, addresses, without echoing the URL', () => {
  assert.throws(
    () => parseReceiversConfig('receivers:\n  - name: mail\n    type: email\n    config: { smtpUrl: "http://user:hunter2@x", from: nobody, to: [] }\n', { env: {} }),
    (e: unknown) => e instanceof Error && /config\.smtpUrl/.test(e.message) && /config\.from/.test(e.message) && /config\.to/.test(e.message) && !e.message.includes('hunter2'),
  )
})
