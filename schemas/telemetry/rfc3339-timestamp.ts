/**
 * Strict RFC 3339 timestamps for TelemetryEvent. `Date.parse` and ajv-formats' `date-time` accept
 * values that cannot be stored faithfully or make no sense as event times: second 60 (JavaScript
 * dates have no leap seconds, so 23:59:60 silently becomes the next day), February 30 (rolled into
 * March by some parsers, rejected later by others), and years like 0001 whose epoch milliseconds
 * fall outside any window a detector keeps. An event time must round-trip: the calendar fields
 * written are exactly the instant stored.
 */

import { parseIsoInstant } from '../iso-instant.js'

/** Event times before the Unix epoch or past year 9999 are refused. */
export const MIN_EVENT_YEAR = 1970
export const MAX_EVENT_YEAR = 9999

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

/**
 * Why `text` is not an acceptable event time, as a sentence fragment ("must ..."), or null when it
 * is one.
 */
export function timestampProblem(text: string): string | null {
  const match = RFC3339.exec(text)
  if (match === null) return 'must be an RFC 3339 date-time with a time zone, e.g. 2025-11-06T12:34:56.789Z'
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  if (year < MIN_EVENT_YEAR || year > MAX_EVENT_YEAR) return `must have a year from ${MIN_EVENT_YEAR} to ${MAX_EVENT_YEAR} (got ${match[1]})`
  if (month < 1 || month > 12) return `must have a month from 01 to 12 (got ${match[2]})`
  if (day < 1 || day > daysInMonth(year, month)) return `must be a calendar date: ${match[1]}-${match[2]} has no day ${match[3]}`
  if (hour > 23) return `must have an hour from 00 to 23 (got ${match[4]})`
  if (minute > 59) return `must have a minute from 00 to 59 (got ${match[5]})`
  if (second === 60) return 'must not be a leap second (:60); send :59.999 or the next second'
  if (second > 59) return `must have a second from 00 to 59 (got ${match[6]})`
  if (match[8]!.length > 1 && (Number(match[10]) > 23 || Number(match[11]) > 59)) return `must have a time zone offset from -23:59 to +23:59 (got ${match[8]})`
  const ms = parseIsoInstant(text)
  if (!Number.isFinite(ms)) return 'must be an RFC 3339 date-time with a time zone, e.g. 2025-11-06T12:34:56.789Z'
  if (ms < 0) return `must not be before ${MIN_EVENT_YEAR}-01-01T00:00:00Z`
  return null
}

export const isEventTimestamp = (text: string): boolean => timestampProblem(text) === null
