/**
 * Maintenance windows: recurring (a cron of each window's start plus a duration) or absolute
 * ([start, end)). Inside one that applies to a rule, the rule's alerts are suppressed.
 */
import type { MaintenanceWindow } from './alert-rules-config.js'
import { CronSchedule } from './cron-schedule.js'

interface Compiled {
  readonly window: MaintenanceWindow
  readonly rules: ReadonlySet<string> | null
  readonly covers: (t: number) => boolean
}

export class MaintenanceCalendar {
  private readonly windows: readonly Compiled[]

  constructor(windows: readonly MaintenanceWindow[]) {
    this.windows = windows.map((window) => {
      const rules = window.rules === null ? null : new Set(window.rules)
      if (window.kind === 'absolute') return { window, rules, covers: (t: number) => t >= window.startMs && t < window.endMs }
      const cron = new CronSchedule(window.cron, window.timezone)
      return {
        window,
        rules,
        covers: (t: number) => {
          const start = cron.latestStartAtOrBefore(t)
          return start !== null && t - start < window.durationMs
        },
      }
    })
  }

  /** The first maintenance window covering `t` (epoch ms) that applies to `ruleId`, or null. */
  activeWindow(ruleId: string, t: number): MaintenanceWindow | null {
    for (const w of this.windows) if ((w.rules === null || w.rules.has(ruleId)) && w.covers(t)) return w.window
    return null
  }

  /** Whether any window applies to `ruleId` (rules without one skip the check). */
  appliesTo(ruleId: string): boolean {
    return this.windows.some((w) => w.rules === null || w.rules.has(ruleId))
  }
}
