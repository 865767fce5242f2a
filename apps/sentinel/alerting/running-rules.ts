/**
 * The alert rules the running topology's rules stage was built from: the rules file at start, then
 * each rules version that needed another topology (a window longer than the window store keeps:
 * topology-rebuild.ts). What a version changes is judged against these (`rulesPendingRestart`), and
 * the services beside the topology (the dispatcher's rules in force, the API's group keys) apply
 * versions on top of them, as the rules stage does.
 */
import { type StartedRules, alertStateStores, rulesFileVersion } from './alert-rule-versions.js'
import type { AlertRulesConfig } from './alert-rules-config.js'

/** What an instance whose topology was built from `config` runs: its file's sections and the state stores it has. */
export function startedRules(config: AlertRulesConfig): StartedRules {
  return { config, sections: rulesFileVersion(config.document ?? {}).sections ?? {}, stores: alertStateStores(config.rules) }
}

export class RunningRules {
  private current: StartedRules
  private builtFrom: number

  constructor(config: AlertRulesConfig, version = 0) {
    this.current = startedRules(config)
    this.builtFrom = version
  }

  get config(): AlertRulesConfig {
    return this.current.config
  }

  /** The rules stage as built: a new object after each rebuild (so holders can tell). */
  get started(): StartedRules {
    return this.current
  }

  /** The rules version the running topology was built from (0: the rules file). */
  get version(): number {
    return this.builtFrom
  }

  replace(config: AlertRulesConfig, version: number): void {
    this.current = startedRules(config)
    this.builtFrom = version
  }
}
