/**
 * A 5-field cron expression (minute hour day-of-month month day-of-week: numbers, names, `*`, lists,
 * ranges, steps; day-of-month and day-of-week both restricted = either matches, as Vixie cron) read
 * in a time zone. Parsing and stepping are cron-parser's (DST-aware through luxon); this wrapper keeps
 * to the 5-field form (cron-parser also takes seconds, which a maintenance schedule never needs) and
 * answers the one question maintenance windows ask: the latest start at or before an instant.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser'

export class CronSchedule {
  private readonly expression: CronExpression
  /**
   * The last answer and the span it holds for: [start, next start). Stepping through luxon costs
   * tens of microseconds and alerts arrive in near time order, so nearly every call is a hit.
   */
  private cached: { readonly start: number; readonly until: number } | null = null

  constructor(
    readonly cron: string,
    readonly timezone: string,
  ) {
    const problem = CronSchedule.problem(cron, timezone)
    if (problem !== null) throw new Error(`cron ${JSON.stringify(cron)} ${problem}`)
    this.expression = CronExpressionParser.parse(cron, { tz: timezone, strict: false })
  }

  /** Why `cron` is not a usable 5-field expression (a phrase to follow the quoted cron), or null. */
  static problem(cron: unknown, timezone: string): string | null {
    if (typeof cron !== 'string') return 'is not a cron expression'
    const fields = cron.trim().split(/\s+/)
    if (fields.length !== 5) return `has ${fields.length} field${fields.length === 1 ? '' : 's'}, not 5`
    try {
      const expression = CronExpressionParser.parse(cron, { tz: timezone, currentDate: Date.UTC(2026, 0, 1) })
      // Some expressions parse but never match (e.g. day 31 of April only): stepping finds out.
      expression.next()
      return null
    } catch (err) {
      return `is not valid (${(err as Error).message})`
    }
  }

  /** The latest time the schedule fires at or before `t` (epoch ms), or null if it never did. */
  latestStartAtOrBefore(t: number): number | null {
    const cached = this.cached
    if (cached !== null && t >= cached.start && t < cached.until) return cached.start
    let start: number
    try {
      // prev() is strictly before its current date; +1 ms makes a start exactly at t count.
      this.expression.reset(new Date(t + 1))
      start = this.expression.prev().getTime()
    } catch {
      return null
    }
    let until = Number.POSITIVE_INFINITY
    try {
      this.expression.reset(new Date(t))
      until = this.expression.next().getTime()
    } catch {
      // No later start: the span is open-ended.
    }
    this.cached = { start, until }
    return start
  }
}
