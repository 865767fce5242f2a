/**
 * The demo's receivers file: every receiver the alert rules reach (the notification receivers they
 * name, the receivers of their incident, shield and webhook actions) becomes a signed generic webhook
 * on the local receiver, at `<base>/<name>`. The rules stay the shipped ones, unchanged: the demo
 * stands one local HTTP endpoint in for Slack, PagerDuty, the Incident Manager and Shield, and every
 * alert that would go to them is delivered there, HMAC-signed, through the real dispatcher (retries,
 * circuit breakers, the deliveries topic).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { AlertRule } from '../alerting/alert-rules-config.js'

/** Receiver names of the incident and shield actions that name none (routed via `routing:`). */
export const DEMO_INCIDENT_RECEIVER = 'incident-manager'
export const DEMO_SHIELD_RECEIVER = 'shield'
export const DEMO_WEBHOOK_RECEIVER = 'sentinel-webhook'

/** Every receiver name the rules' actions reach, in first-seen order. */
export function receiversReached(rules: readonly AlertRule[]): string[] {
  const names = new Set<string>()
  for (const rule of rules) {
    for (const action of rule.actions) {
      const config = action.config as Readonly<Record<string, unknown>>
      if (typeof config.receiver === 'string') names.add(config.receiver)
      else if (action.type === 'notification') {
        if (Array.isArray(config.receivers)) for (const n of config.receivers) if (typeof n === 'string') names.add(n)
      } else if (action.type === 'incident') names.add(DEMO_INCIDENT_RECEIVER)
      else if (action.type === 'shield') names.add(DEMO_SHIELD_RECEIVER)
      else if (action.type === 'webhook' && config.url === undefined) names.add(DEMO_WEBHOOK_RECEIVER)
    }
  }
  return [...names]
}

/** The receivers file's text: each name a webhook at `${baseUrl}/${name}`, signed with `secret`. */
export function demoReceiversYaml(names: readonly string[], baseUrl: string, secret: string): string {
  const routing: Record<string, string[]> = {}
  if (names.includes(DEMO_INCIDENT_RECEIVER)) routing.incident = [DEMO_INCIDENT_RECEIVER]
  if (names.includes(DEMO_SHIELD_RECEIVER)) routing.shield = [DEMO_SHIELD_RECEIVER]
  if (names.includes(DEMO_WEBHOOK_RECEIVER)) routing.webhook = [DEMO_WEBHOOK_RECEIVER]
  const file = {
    publicUrl: 'http://127.0.0.1',
    // A local receiver answers in milliseconds: short timeouts and backoff keep the demo brisk.
    delivery: { timeout: '2s', retry: { maxAttempts: 3, initialBackoff: '100ms', maxBackoff: '1s' }, concurrency: 4 },
    ...(Object.keys(routing).length > 0 ? { routing } : {}),
    receivers: names.map((name) => ({ name, type: 'webhook', config: { url: `${baseUrl}/${encodeURIComponent(name)}`, secret } })),
  }
  return `# Written by the LLM-Sentinel demo: every receiver of the alert rules is the demo's local webhook receiver.\n${stringify(file)}`
}

/** Writes the receivers file into `dir` and returns its path. */
export function writeDemoReceivers(dir: string, rules: readonly AlertRule[], baseUrl: string, secret: string): { path: string; receivers: string[] } {
  const receivers = receiversReached(rules)
  const path = join(dir, 'receivers.demo.yaml')
  writeFileSync(path, demoReceiversYaml(receivers, baseUrl, secret), { mode: 0o600 })
  return { path, receivers }
}
