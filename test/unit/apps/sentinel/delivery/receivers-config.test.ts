import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  DEFAULT_DELIVERY,
  DEFAULT_RECEIVERS_PATH,
  ReceiversConfigError,
  checkReferences,
  describeReceiverIssue,
  loadReceiversConfig,
  parseReceiversConfig,
  referenceIssues,
  substituteEnv,
} from '../../../../../apps/sentinel/delivery/receivers-config.js'
import { DEFAULT_ALERT_RULES_PATH, loadAlertRulesConfig } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'

/** The issues of a file that must fail, as `receiver 'x', field 'y': message` lines. */
function issues(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseReceiversConfig(text, { env })
  } catch (err) {
    assert.ok(err instanceof ReceiversConfigError, String(err))
    return err.issues.map(describeReceiverIssue)
  }
  assert.fail('the file was accepted')
}

const ALL_ENV = {
  SENTINEL_WEBHOOK_URL: 'https://hooks.example.com/sentinel',
  SENTINEL_WEBHOOK_SECRET: 's3cret',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X',
  SLACK_ML_PLATFORM_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/Y',
  PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY',
  INCIDENT_MANAGER_ENDPOINT: 'https://incidents.example.com/',
  INCIDENT_MANAGER_API_KEY: 'im-key',
  SHIELD_ENDPOINT: 'http://shield:8080',
}

describe('the default receivers file', () => {
  test('with no variables set, every receiver is known but disabled', () => {
    const config = loadReceiversConfig(DEFAULT_RECEIVERS_PATH, {})
    assert.deepEqual(config.receivers, [])
    assert.deepEqual(
      config.disabled.map((d) => [d.name, d.type]),
      [
        ['sentinel-webhook', 'webhook'],
        ['slack-incidents', 'slack'],
        ['slack-ml-platform', 'slack'],
        ['pagerduty-oncall', 'pagerduty'],
        ['incident-manager', 'incident-manager'],
        ['shield', 'shield'],
      ],
    )
    assert.equal(config.publicUrl, 'http://localhost:8080')
    assert.deepEqual(config.routing, { incident: ['incident-manager'], shield: ['shield'], webhook: ['sentinel-webhook'] })
  })

  test('with the variables set, each receiver is enabled with its fields and overrides', () => {
    const config = loadReceiversConfig(DEFAULT_RECEIVERS_PATH, ALL_ENV)
    assert.equal(config.disabled.length, 0)
    const byName = new Map(config.receivers.map((r) => [r.name, r]))
    const hook = byName.get('sentinel-webhook')
    assert.ok(hook?.type === 'webhook')
    assert.equal(hook.url, 'https://hooks.example.com/sentinel')
    assert.equal(hook.secret, 's3cret')
    assert.equal(hook.delivery.timeoutMs, 5000)
    const slack = byName.get('slack-incidents')
    assert.ok(slack?.type === 'slack')
    assert.equal(slack.channel, '#incidents')
    assert.equal(slack.delivery.concurrency, 1)
    const pd = byName.get('pagerduty-oncall')
    assert.ok(pd?.type === 'pagerduty')
    assert.deepEqual([pd.routingKey, pd.url], ['R0UT1NGKEY', 'https://events.pagerduty.com/v2/enqueue'])
    const im = byName.get('incident-manager')
    assert.ok(im?.type === 'incident-manager')
    assert.equal(im.endpoint, 'https://incidents.example.com', 'trailing slash dropped')
    assert.deepEqual(im.severityMap, { critical: 'P1', warning: 'P2', info: 'P3' })
    const shield = byName.get('shield')
    assert.ok(shield?.type === 'shield')
    assert.deepEqual([shield.action, shield.durationMs], ['RATE_LIMIT', 900_000])
    assert.deepEqual(shield.delivery.retry, { maxAttempts: 3, initialBackoffMs: 500, maxBackoffMs: 5000 })
    assert.deepEqual(shield.delivery.circuitBreaker, DEFAULT_DELIVERY.circuitBreaker)
  })

  test('the default alert rules name only receivers it defines, with or without variables set', () => {
    const rules = loadAlertRulesConfig(DEFAULT_ALERT_RULES_PATH).rules
    assert.ok(rules.length > 0)
    for (const env of [{}, ALL_ENV]) assert.deepEqual(referenceIssues(loadReceiversConfig(DEFAULT_RECEIVERS_PATH, env), rules).map(describeReceiverIssue), [])
  })

  test('an empty webhook secret variable sends unsigned', () => {
    const config = loadReceiversConfig(DEFAULT_RECEIVERS_PATH, { SENTINEL_WEBHOOK_URL: 'http://localhost:9000/alerts' })
    const hook = config.receivers.find((r) => r.name === 'sentinel-webhook')
    assert.ok(hook?.type === 'webhook')
    assert.equal(hook.secret, null)
  })
})

describe('environment substitution', () => {
  test('${VAR}, ${VAR:-default}, ${VAR:+word} and $${ as in a POSIX shell', () => {
    const missing: string[] = []
    const out = substituteEnv({ a: '${A}', b: 'x-${B:-fallback}-y', c: ['${A:+on}', '${B:+on}'], d: '$${A}', n: 3 }, { A: 'alpha' }, (path, name) =>
      missing.push(`${path}:${name}`),
    )
    assert.deepEqual(out, { a: 'alpha', b: 'x-fallback-y', c: ['on', ''], d: '${A}', n: 3 })
    assert.equal(missing.length, 0)
    substituteEnv({ config: { url: 'https://${HOST}/x' } }, {}, (path, name) => missing.push(`${path}:${name}`))
    assert.deepEqual(missing, ['config.url:HOST'])
  })

  test('a missing variable is an error naming receiver, field and the fix', () => {
    const found = issues(`receivers:\n  - name: slack-incidents\n    type: slack\n    config:\n      webhookUrl: \${SLACK_WEBHOOK_URL}\n`)
    assert.ok(
      found.some((i) =>
        i.startsWith(
          "receiver 'slack-incidents', field 'config.webhookUrl': environment variable SLACK_WEBHOOK_URL is not set; set it, or give a default as ${SLACK_WEBHOOK_URL:-value}",
        ),
      ),
      found.join('\n'),
    )
  })

  test('a secret with YAML-special characters survives substitution intact', () => {
    const config = parseReceiversConfig(`receivers:\n  - name: hook\n    type: webhook\n    config: { url: "http://h/x", secret: "\${SECRET}" }\n`, {
      env: { SECRET: 'a: b # "c" {d}' },
    })
    const hook = config.receivers[0]
    assert.ok(hook?.type === 'webhook')
    assert.equal(hook.secret, 'a: b # "c" {d}')
  })
})

describe('validation names receiver, field and fix', () => {
  test("every problem of the file's shape is reported at once (its schema)", () => {
    const found = issues(`
delivery:
  retry: { maxAttempts: 0, initialBackoff: 2s, maxBackoff: 1s }
receivers:
  - name: a
    type: sms
  - name: b
    type: webhook
    config: { url: "ftp://x", colour: red }
  - type: pagerduty
    config: { routingKey: k }
  - name: im
    type: incident-manager
    config: { endpoint: "https://im", apiKey: k, severityMap: { fatal: P0 } }
routing:
  incident: [nobody]
  notification: [a]
`)
    const expect = [
      "field 'delivery.retry.maxAttempts': 0 is not valid; give an integer >= 1",
      "receiver 'a', field 'type': \"sms\" is not valid; use one of webhook | slack | pagerduty | incident-manager | shield | email",
      "receiver 'b', field 'config.colour': is not a known field; the fields here are url, secret, headers, timeoutMs",
      "receiver 'receivers[2]', field 'name': is required; a non-empty string that rules name in their actions",
      "receiver 'im', field 'config.severityMap.fatal': is not a known field; the fields here are critical, warning, info",
      "field 'routing.notification': is not allowed here; a notification action lists its own receivers (config.receivers); remove this entry",
    ]
    for (const line of expect) assert.ok(found.includes(line), `missing: ${line}\ngot:\n${found.join('\n')}`)
    assert.equal(found.length, expect.length, found.join('\n'))
  })

  test('once the shape is right, every other problem is reported at once', () => {
    const found = issues(`
delivery:
  retry: { maxAttempts: "0", initialBackoff: 2s, maxBackoff: 1s }
receivers:
  - name: b
    type: webhook
    config: { url: "ftp://x" }
  - name: b
    type: slack
    config: {}
  - name: sh
    type: shield
    config: { endpoint: "shield.example.com:9090", action: nuke, duration: soon }
routing:
  incident: [nobody]
`)
    const expect = [
      'field \'delivery.retry.maxAttempts\': "0" is not valid; give an integer >= 1',
      "field 'delivery.retry.maxBackoff': is below initialBackoff; raise it to at least 2000ms",
      "receiver 'b', field 'config.url': \"ftp://x\" is not http(s); only HTTP receivers are supported",
      "receiver 'b', field 'config.webhookUrl': is required; give an http(s) URL",
      "receiver 'b', field 'name': is used by more than one receiver; names must be unique (rules refer to receivers by name)",
      "receiver 'sh', field 'config.action': \"nuke\" is not valid; use one of block | rate_limit | throttle | quarantine | alert_only",
      "receiver 'sh', field 'config.duration': \"soon\" is not a duration; write e.g. 15m or 1h",
      "receiver 'sh', field 'config.endpoint': \"shield.example.com:9090\" is not an http(s) URL; Sentinel calls Shield's HTTP JSON gateway (Shield's gRPC EnforceAction is not supported), e.g. http://shield:8080",
      "field 'routing.incident': receiver 'nobody' is not defined; define it under receivers or fix the name (known: b, sh)",
    ]
    for (const line of expect) assert.ok(found.includes(line), `missing: ${line}\ngot:\n${found.join('\n')}`)
    assert.equal(found.length, expect.length, found.join('\n'))
  })

  test("the seed's PagerDuty serviceKey is read as the routing key", () => {
    const config = parseReceiversConfig(`receivers:\n  - name: pagerduty-oncall\n    type: pagerduty\n    config: { serviceKey: abc }\n`, { env: {} })
    const pd = config.receivers[0]
    assert.ok(pd?.type === 'pagerduty')
    assert.equal(pd.routingKey, 'abc')
  })

  test('a missing receivers list, bad YAML and a bad enabled value are refused', () => {
    assert.deepEqual(issues('routing: {}\n'), [
      "field 'receivers': is required: a list of receivers (receivers: [- name: ..., type: webhook, config: { url: ... }])",
    ])
    assert.match(issues('receivers: [\n')[0] ?? '', /^YAML syntax/)
    assert.deepEqual(issues(`receivers:\n  - name: x\n    type: webhook\n    enabled: maybe\n    config: { url: "http://h" }\n`), [
      "receiver 'x', field 'enabled': \"maybe\" is not valid; write true or false, or ${SOME_URL:+true} to enable it when a variable is set",
    ])
  })

  test('per-receiver delivery overrides merge over the file defaults', () => {
    const config = parseReceiversConfig(
      `delivery: { timeout: 3s, retry: { maxAttempts: 2 } }\nreceivers:\n  - name: x\n    type: webhook\n    config: { url: "http://h" }\n    delivery: { circuitBreaker: { failureThreshold: 9 } }\n`,
      { env: {} },
    )
    const x = config.receivers[0]
    assert.ok(x)
    assert.equal(x.delivery.timeoutMs, 3000)
    assert.equal(x.delivery.retry.maxAttempts, 2)
    assert.equal(x.delivery.retry.initialBackoffMs, DEFAULT_DELIVERY.retry.initialBackoffMs)
    assert.equal(x.delivery.circuitBreaker.failureThreshold, 9)
  })
})

describe('checkReferences', () => {
  const config = parseReceiversConfig(
    `receivers:
  - name: slack-incidents
    type: slack
    config: { webhookUrl: "https://hooks.slack.com/x" }
  - name: pd
    type: pagerduty
    enabled: false
  - name: shield-noaction
    type: shield
    config: { endpoint: "http://shield" }
`,
    { source: 'receivers.yaml', env: {} },
  )

  test('known names (disabled ones included) pass', () => {
    assert.doesNotThrow(() =>
      checkReferences(config, [
        { id: 'r1', actions: [{ type: 'notification', config: { receivers: ['slack-incidents', 'pd'] } }] },
        {
          id: 'r2',
          actions: [
            { type: 'shield', config: { action: 'block' } },
            { type: 'webhook', config: { url: 'https://x/y' } },
          ],
        },
      ]),
    )
  })

  test('unknown names and unroutable actions are start-time errors naming rule, action and fix', () => {
    const found = referenceIssues(config, [
      {
        id: 'r1',
        actions: [
          { type: 'notification', config: { receivers: ['slack-incidnets'] } },
          { type: 'notification', config: {} },
        ],
      },
      {
        id: 'r2',
        actions: [
          { type: 'incident', config: {} },
          { type: 'shield', config: {} },
          { type: 'webhook', config: {} },
          { type: 'webhook', config: { receiver: 'nope' } },
        ],
      },
    ]).map(describeReceiverIssue)
    assert.deepEqual(found, [
      "rule 'r1', field 'actions[0].config.receivers[0]': receiver 'slack-incidnets' is not defined in receivers.yaml; define it there or fix the name (known: slack-incidents, shield-noaction, pd)",
      "rule 'r1', field 'actions[1].config.receivers': a notification action needs a non-empty list of receiver names",
      "rule 'r2', field 'actions[0]': no incident-manager receiver is configured; add one to receivers.yaml or name one in config.receiver",
      "rule 'r2', field 'actions[1].config.action': is required: shield receiver(s) shield-noaction set no default action; give action: block | rate_limit | throttle | quarantine | alert_only",
      "rule 'r2', field 'actions[2]': a webhook action needs config.receiver (a webhook receiver's name) or config.url, or routing.webhook in the receivers file",
      "rule 'r2', field 'actions[3].config.receiver': receiver 'nope' is not defined in receivers.yaml; define it there or fix the name (known: slack-incidents, shield-noaction, pd)",
    ])
    assert.throws(() => checkReferences(config, [{ id: 'r', actions: [{ type: 'notification', config: { receivers: ['x'] } }] }]), ReceiversConfigError)
  })
})
