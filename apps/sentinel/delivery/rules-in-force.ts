/**
 * The alert rules version in force, as the dispatcher beside the topology reads it: each rule's
 * labels (silences match them) and the templates section (deliveries render them). The rules stage
 * routes and groups by the same version (live-alert-rules.ts), so a version changing labels or
 * templates needs no restart. Read from this instance's copy of the config topic's global table
 * once a second; a version is parsed once. Until the first read, and for a version that does not
 * parse, the start-up rules file applies.
 */
import type { Logger } from 'pino'
import { StoreNotQueryableError, type StreamsRuntime } from '../../../runtime/streams-runtime.js'
import { ALERT_RULE_VERSION_KEYS, type StartedRules } from '../alerting/alert-rule-versions.js'
import type { AlertRule } from '../alerting/alert-rules-config.js'
import { LiveAlertRules } from '../alerting/live-alert-rules.js'
import type { NotificationTemplate } from '../alerting/notification-templates.js'
import { CURRENT_KEY } from '../config-versions.js'
import { DETECTOR_CONFIG_STORE } from '../live-detector-settings.js'

export const RULES_IN_FORCE_INTERVAL_MS = 1000

export class RulesInForce {
  private live!: LiveAlertRules
  private startedById!: ReadonlyMap<string, AlertRule>
  private builtOn: StartedRules | undefined
  private timer: NodeJS.Timeout | undefined
  private reading: Promise<void> = Promise.resolve()

  /** `started`: the rules the running topology was built from (a new object after a rebuild: running-rules.ts). */
  constructor(
    private readonly runtime: Pick<StreamsRuntime, 'keyValueStore'>,
    private readonly started: () => StartedRules,
    private readonly logger: Logger,
  ) {
    this.rebase()
  }

  /** Versions apply on top of what the rules stage was built from, as there. */
  private rebase(): void {
    const started = this.started()
    if (started === this.builtOn) return
    this.builtOn = started
    this.live = new LiveAlertRules(started)
    this.startedById = new Map(started.config.rules.map((r) => [r.id, r]))
  }

  /** A rule as the version in force has it; a disabled or deleted one as it started (its alerts may still be delivered). */
  rule(id: string): AlertRule | undefined {
    return this.live.active.rules.get(id) ?? this.startedById.get(id)
  }

  /** The named templates of the version in force. */
  templates(): ReadonlyMap<string, NotificationTemplate> {
    return this.live.active.lifecycle.templates
  }

  /** The version applied (0: the start-up rules file). */
  get applied(): number {
    return this.live.applied
  }

  /** Reads the version in force now, then every interval. */
  start(intervalMs = RULES_IN_FORCE_INTERVAL_MS): Promise<void> {
    this.timer = setInterval(() => void this.refresh(), intervalMs)
    this.timer.unref()
    return this.refresh()
  }

  /** One read of `alert-rules/current`; never throws. */
  refresh(): Promise<void> {
    this.reading = this.reading
      .then(async () =>
        this.live.observe(await this.runtime.keyValueStore<string, unknown>(DETECTOR_CONFIG_STORE).get(ALERT_RULE_VERSION_KEYS.prefix + CURRENT_KEY)),
      )
      .catch((err: unknown) => {
        // Not readable during a rebalance: the version last read stays.
        if (!(err instanceof StoreNotQueryableError)) this.logger.warn({ err }, 'reading the alert rules version in force failed; the last one read stays')
      })
    return this.reading
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.reading
  }
}
