/**
 * The notification group key of an alert under the rules version in force, for `PUT
 * /api/v1/alerts/:id`: the API writes an acknowledge or resolve keyed as the lifecycle keys the
 * alert's group (by the version's `grouping.groupBy` and the rules' labels), so it reaches the
 * task that holds the group whichever version grouped it. Read from this instance's copy of the
 * config topic's global table, once per command (commands are rare; a version is parsed once).
 */
import type { AlertEvent } from '../../../schemas/alert/alert-event.js'
import { StoreNotQueryableError, type StreamsRuntime } from '../../../runtime/streams-runtime.js'
import { notificationGroupOf } from '../alerting/alert-notification.js'
import { ALERT_RULE_VERSION_KEYS, type StartedRules } from '../alerting/alert-rule-versions.js'
import { LiveAlertRules } from '../alerting/live-alert-rules.js'
import { CURRENT_KEY } from '../config-versions.js'
import { DETECTOR_CONFIG_STORE } from '../live-detector-settings.js'

/** `started`: the rules the running topology was built from (a new object after a rebuild: running-rules.ts). */
export function liveNotificationGroupKeys(runtime: Pick<StreamsRuntime, 'keyValueStore'>, started: () => StartedRules): (alert: AlertEvent) => Promise<string> {
  let builtOn = started()
  let live = new LiveAlertRules(builtOn)
  return async (alert) => {
    if (started() !== builtOn) {
      builtOn = started()
      live = new LiveAlertRules(builtOn)
    }
    try {
      live.observe(await runtime.keyValueStore<string, unknown>(DETECTOR_CONFIG_STORE).get(ALERT_RULE_VERSION_KEYS.prefix + CURRENT_KEY))
    } catch (err) {
      // Not readable during a rebalance: the version last read (at worst the start-up file) keys it.
      if (!(err instanceof StoreNotQueryableError)) throw err
    }
    const { rules, lifecycle } = live.active
    return notificationGroupOf(alert, rules.get(alert.rule_id), lifecycle.groupBy).key
  }
}
