/**
 * Which receivers an alert goes to, from its rule's actions:
 *
 * - notification → the receivers named in `config.receivers`;
 * - incident     → `config.receiver`, else routing.incident (default: every incident-manager receiver);
 * - shield       → `config.receiver`, else routing.shield (default: every shield receiver);
 * - webhook      → `config.receiver`, else `config.url` (an inline webhook, unsigned, with the
 *                  file's delivery defaults), else routing.webhook.
 *
 * A receiver reached by several actions of one alert is delivered once, for the first action.
 * checkReferences refuses unknown names at start; one still seen here (rules changed without a
 * restart) becomes an `unresolved` target, recorded as a failed delivery.
 */
import type { AlertAction } from '../../../schemas/alert/alert-event.js'
import { DEFAULT_DELIVERY, type ReceiverConfig, type ReceiverType, type ReceiversConfig, type WebhookReceiver } from './receivers-config.js'

export type RoutedTarget =
  | { readonly kind: 'deliver'; readonly receiver: ReceiverConfig; readonly action: AlertAction }
  | { readonly kind: 'skip'; readonly name: string; readonly type: ReceiverType; readonly action: AlertAction; readonly reason: string }
  | { readonly kind: 'unresolved'; readonly name: string | null; readonly action: AlertAction; readonly reason: string }

export class ActionRouter {
  private readonly enabled: ReadonlyMap<string, ReceiverConfig>
  private readonly disabled: ReadonlyMap<string, ReceiverType>
  private readonly inline = new Map<string, WebhookReceiver>()

  constructor(private readonly config: ReceiversConfig) {
    this.enabled = new Map(config.receivers.map((r) => [r.name, r]))
    this.disabled = new Map(config.disabled.map((d) => [d.name, d.type]))
  }

  route(actions: readonly AlertAction[]): RoutedTarget[] {
    const targets: RoutedTarget[] = []
    const seen = new Set<string>()
    const add = (name: string, action: AlertAction): void => {
      if (seen.has(name)) return
      seen.add(name)
      const receiver = this.enabled.get(name) ?? this.inline.get(name)
      if (receiver !== undefined) return void targets.push({ kind: 'deliver', receiver, action })
      const type = this.disabled.get(name)
      if (type !== undefined) return void targets.push({ kind: 'skip', name, type, action, reason: `receiver '${name}' is disabled in ${this.config.source}` })
      targets.push({ kind: 'unresolved', name, action, reason: `receiver '${name}' is not defined in ${this.config.source}` })
    }
    const unresolved = (action: AlertAction, reason: string): void => void targets.push({ kind: 'unresolved', name: null, action, reason })
    for (const action of actions) {
      const config = (action.config ?? {}) as Readonly<Record<string, unknown>>
      const named = typeof config.receiver === 'string' ? config.receiver : null
      switch (action.type) {
        case 'notification': {
          const receivers = Array.isArray(config.receivers) ? config.receivers.filter((n): n is string => typeof n === 'string') : []
          if (receivers.length === 0) unresolved(action, 'notification action names no receivers (config.receivers)')
          for (const name of receivers) add(name, action)
          break
        }
        case 'incident':
        case 'shield': {
          const names = named !== null ? [named] : action.type === 'incident' ? this.config.routing.incident : this.config.routing.shield
          if (names.length === 0) unresolved(action, `no ${action.type === 'incident' ? 'incident-manager' : 'shield'} receiver is configured`)
          for (const name of names) add(name, action)
          break
        }
        case 'webhook':
          if (named !== null) add(named, action)
          else if (typeof config.url === 'string' && /^https?:\/\/./.test(config.url)) add(this.inlineWebhook(config.url).name, action)
          else if (config.url !== undefined) unresolved(action, `webhook action's config.url ${JSON.stringify(config.url)} is not an http(s) URL`)
          else if (this.config.routing.webhook.length > 0) for (const name of this.config.routing.webhook) add(name, action)
          else unresolved(action, 'webhook action has neither config.receiver nor config.url')
          break
        default:
          unresolved(action, `unknown action type ${JSON.stringify((action as { type: unknown }).type)}`)
      }
    }
    return targets
  }

  private inlineWebhook(url: string): WebhookReceiver {
    const name = `webhook:${url}`
    let receiver = this.inline.get(name)
    if (receiver === undefined) {
      receiver = { name, type: 'webhook', url, secret: null, headers: {}, delivery: this.config.delivery ?? DEFAULT_DELIVERY }
      this.inline.set(name, receiver)
    }
    return receiver
  }
}
