import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook, verifyWebhookSignature } from '../../../../../apps/sentinel/delivery/webhook-signature.js'

const body = JSON.stringify({ alert_id: 'a-1', severity: 'critical', title: 'Token rate spike' })
const now = Date.parse('2026-11-23T08:00:00Z')

describe('webhook signature', () => {
  test('follows the documented scheme: sha256=hex(HMAC-SHA256(secret, "<t>.<body>")), t in Unix seconds', () => {
    const headers = signWebhook(body, 'topsecret', now)
    assert.equal(headers[TIMESTAMP_HEADER], String(now / 1000))
    const expected = createHmac('sha256', 'topsecret').update(`${now / 1000}.${body}`).digest('hex')
    assert.equal(headers[SIGNATURE_HEADER], `sha256=${expected}`)
  })

  test('a valid delivery verifies, from fetch Headers and from node\'s lower-cased header object', () => {
    const signed = signWebhook(body, 'topsecret', now)
    assert.deepEqual(verifyWebhookSignature(body, new Headers(signed), 'topsecret', 300_000, now + 1_000), { ok: true, timestampMs: now })
    const nodeHeaders = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toLowerCase(), v]))
    assert.deepEqual(verifyWebhookSignature(Buffer.from(body), nodeHeaders, 'topsecret', 300_000, now), { ok: true, timestampMs: now })
  })

  test('a tampered body, a wrong secret, a moved timestamp or a stale one are refused', () => {
    const signed = signWebhook(body, 'topsecret', now)
    assert.deepEqual(verifyWebhookSignature(body.replace('critical', 'info'), signed, 'topsecret', 300_000, now), { ok: false, reason: 'bad_signature' })
    assert.deepEqual(verifyWebhookSignature(body, signed, 'other-secret', 300_000, now), { ok: false, reason: 'bad_signature' })
    // Replaying the body with a fresh timestamp breaks the signature: the timestamp is signed too.
    assert.deepEqual(verifyWebhookSignature(body, { ...signed, [TIMESTAMP_HEADER]: String(now / 1000 + 600) }, 'topsecret', 300_000, now + 600_000), { ok: false, reason: 'bad_signature' })
    assert.deepEqual(verifyWebhookSignature(body, signed, 'topsecret', 300_000, now + 300_001), { ok: false, reason: 'stale_timestamp' })
    assert.deepEqual(verifyWebhookSignature(body, signed, 'topsecret', 300_000, now - 300_001), { ok: false, reason: 'stale_timestamp' })
    assert.equal(verifyWebhookSignature(body, signed, 'topsecret', 300_000, now + 299_000).ok, true)
  })

  test('missing or malformed headers are refused with their reason', () => {
    const signed = signWebhook(body, 'k', now)
    assert.deepEqual(verifyWebhookSignature(body, { [TIMESTAMP_HEADER]: signed[TIMESTAMP_HEADER] }, 'k', 300_000, now), { ok: false, reason: 'missing_signature' })
    assert.deepEqual(verifyWebhookSignature(body, { [SIGNATURE_HEADER]: signed[SIGNATURE_HEADER] }, 'k', 300_000, now), { ok: false, reason: 'missing_timestamp' })
    assert.deepEqual(verifyWebhookSignature(body, { ...signed, [TIMESTAMP_HEADER]: '12e3' }, 'k', 300_000, now), { ok: false, reason: 'bad_timestamp' })
    assert.deepEqual(verifyWebhookSignature(body, { ...signed, [SIGNATURE_HEADER]: 'sha256=zz' }, 'k', 300_000, now), { ok: false, reason: 'bad_signature' })
  })

  test('property: any body verifies with its secret and fails after any one-character change', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.nat(), (text, secret, at) => {
        const signed = signWebhook(text, secret, now)
        assert.equal(verifyWebhookSignature(text, signed, secret, 300_000, now).ok, true)
        const i = at % text.length
        const changed = text.slice(0, i) + String.fromCharCode((text.charCodeAt(i) + 1) % 0xd800) + text.slice(i + 1)
        assert.equal(verifyWebhookSignature(changed, signed, secret, 300_000, now).ok, false)
      }),
      { numRuns: 200 },
    )
  })
})
