/**
 * When a rule may alert: its schedule's active hours and days, read in its time zone. Local time
 * comes from `Intl.DateTimeFormat` (no time-zone library), one cached formatter per zone.
 */
import { type AlertSchedule, DAYS_OF_WEEK, type DayOfWeek } from './alert-rules-config.js'

export interface LocalTime {
  /** 0 = Sunday, as DAYS_OF_WEEK. */
  readonly day: number
  readonly minuteOfDay: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()
const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }

/** Day of week and minute of day of instant `t` (epoch ms) in `timezone`. */
export function localTime(t: number, timezone: string): LocalTime {
  let format = formatters.get(timezone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    formatters.set(timezone, format)
  }
  let day = 0
  let hour = 0
  let minute = 0
  for (const part of format.formatToParts(t)) {
    if (part.type === 'weekday') day = WEEKDAY[part.value] ?? 0
    else if (part.type === 'hour') hour = Number(part.value) % 24
    else if (part.type === 'minute') minute = Number(part.value)
  }
  return { day, minuteOfDay: hour * 60 + minute }
}

export class ActiveSchedule {
  private readonly days: ReadonlySet<number> | null

  constructor(private readonly schedule: AlertSchedule) {
    this.days = schedule.daysOfWeek === null ? null : new Set(schedule.daysOfWeek.map((d: DayOfWeek) => DAYS_OF_WEEK.indexOf(d)))
  }

  /** Whether the rule may alert at `t` (epoch ms). */
  isActive(t: number): boolean {
    const { day, minuteOfDay } = localTime(t, this.schedule.timezone)
    const dayOk = (d: number): boolean => this.days === null || this.days.has(d)
    const hours = this.schedule.activeHours
    if (hours === null) return dayOk(day)
    const { startMinute, endMinute } = hours
    if (startMinute <= endMinute) return minuteOfDay >= startMinute && minuteOfDay <= endMinute && dayOk(day)
    // Across midnight: the evening part is the day's own; the morning part belongs to the day before.
    if (minuteOfDay >= startMinute) return dayOk(day)
    if (minuteOfDay <= endMinute) return dayOk((day + 6) % 7)
    return false
  }
}
