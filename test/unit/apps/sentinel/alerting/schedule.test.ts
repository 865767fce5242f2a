import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { ActiveSchedule, localTime } from '../../../../../apps/sentinel/alerting/active-schedule.js'
import { type AlertSchedule, DAYS_OF_WEEK, type DayOfWeek } from '../../../../../apps/sentinel/alerting/alert-rules-config.js'
import { MaintenanceCalendar } from '../../../../../apps/sentinel/alerting/maintenance-calendar.js'

const at = (iso: string): number => Date.parse(iso)
const schedule = (timezone: string, start: string | null, end: string | null, days: DayOfWeek[] | null): ActiveSchedule => {
  const minute = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))
  return new ActiveSchedule({ timezone, activeHours: start === null || end === null ? null : { startMinute: minute(start), endMinute: minute(end) }, daysOfWeek: days })
}

test('active hours in America/New_York follow its offset across DST', () => {
  const office = schedule('America/New_York', '09:00', '17:00', ['mon', 'tue', 'wed', 'thu', 'fri'])
  // Wednesday 1 July 2026: EDT, UTC-4.
  assert.equal(office.isActive(at('2026-07-01T12:59:00Z')), false, '08:59 EDT')
  assert.equal(office.isActive(at('2026-07-01T13:00:00Z')), true, '09:00 EDT')
  assert.equal(office.isActive(at('2026-07-01T21:00:59Z')), true, '17:00 EDT: the end minute is inclusive')
  assert.equal(office.isActive(at('2026-07-01T21:01:00Z')), false, '17:01 EDT')
  // Wednesday 7 January 2026: EST, UTC-5.
  assert.equal(office.isActive(at('2026-01-07T13:30:00Z')), false, '08:30 EST')
  assert.equal(office.isActive(at('2026-01-07T14:00:00Z')), true, '09:00 EST')
  // Saturday 4 July 2026 noon in New York.
  assert.equal(office.isActive(at('2026-07-04T16:00:00Z')), false)
  // Friday 23:30 in New York is already Saturday in UTC: the local day decides.
  assert.deepEqual(localTime(at('2026-07-04T03:30:00Z'), 'America/New_York'), { day: 5, minuteOfDay: 23 * 60 + 30 })
})

test('active hours across midnight belong to the day they start', () => {
  const fridayNight = schedule('UTC', '22:00', '06:00', ['fri'])
  assert.equal(fridayNight.isActive(at('2026-07-03T23:00:00Z')), true, 'Friday 23:00')
  assert.equal(fridayNight.isActive(at('2026-07-04T03:00:00Z')), true, 'Saturday 03:00 is Friday night')
  assert.equal(fridayNight.isActive(at('2026-07-04T06:00:00Z')), true, 'Saturday 06:00: end inclusive')
  assert.equal(fridayNight.isActive(at('2026-07-04T06:01:00Z')), false, 'Saturday 06:01')
  assert.equal(fridayNight.isActive(at('2026-07-04T23:00:00Z')), false, 'Saturday 23:00 is not Friday')
  assert.equal(fridayNight.isActive(at('2026-07-03T03:00:00Z')), false, 'Friday 03:00 is Thursday night')
  assert.equal(fridayNight.isActive(at('2026-07-03T12:00:00Z')), false, 'Friday noon')
  assert.equal(schedule('UTC', '00:00', '23:59', null).isActive(at('2026-07-03T23:59:59.999Z')), true, 'the seed\'s 00:00-23:59 is the whole day')
})

/** Reference: a week of minutes, marked interval by interval (not the implementation's comparisons). */
function referenceActive(s: AlertSchedule, t: number): boolean {
  const week = new Array<boolean>(7 * 1440).fill(false)
  const days = s.daysOfWeek === null ? [0, 1, 2, 3, 4, 5, 6] : s.daysOfWeek.map((d) => DAYS_OF_WEEK.indexOf(d))
  for (const day of days) {
    const { startMinute, endMinute } = s.activeHours ?? { startMinute: 0, endMinute: 1439 }
    const length = endMinute >= startMinute ? endMinute - startMinute + 1 : 1440 - startMinute + endMinute + 1
    for (let i = 0; i < length; i++) week[(day * 1440 + startMinute + i) % (7 * 1440)] = true
  }
  const d = new Date(t)
  return week[d.getUTCDay() * 1440 + d.getUTCHours() * 60 + d.getUTCMinutes()]!
}

const scheduleArb = (timezone: string): fc.Arbitrary<AlertSchedule> =>
  fc.record({
    timezone: fc.constant(timezone),
    activeHours: fc.option(fc.record({ startMinute: fc.integer({ min: 0, max: 1439 }), endMinute: fc.integer({ min: 0, max: 1439 }) }), { nil: null }),
    daysOfWeek: fc.option(fc.uniqueArray(fc.constantFrom(...DAYS_OF_WEEK), { minLength: 1, maxLength: 7 }), { nil: null }),
  })
const instantArb = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2028, 0, 1) })

test('property: the schedule matcher agrees with a minute-by-minute reference (UTC)', () => {
  fc.assert(fc.property(scheduleArb('UTC'), instantArb, (s, t) => new ActiveSchedule(s).isActive(t) === referenceActive(s, t)), { numRuns: 300 })
})

test('property: in a fixed-offset zone the schedule is the UTC one shifted by the offset', () => {
  // Etc/GMT-5 is UTC+5 (POSIX sign).
  fc.assert(
    fc.property(scheduleArb('UTC'), instantArb, (s, t) => new ActiveSchedule({ ...s, timezone: 'Etc/GMT-5' }).isActive(t) === new ActiveSchedule(s).isActive(t + 5 * 3_600_000)),
    { numRuns: 200 },
  )
})

test('maintenance windows: the seed\'s weekly cron with a duration, absolute windows, rule scoping', () => {
  const calendar = new MaintenanceCalendar([
    { kind: 'cron', name: 'weekly', rules: ['warnings'], cron: '0 2 * * 0', timezone: 'UTC', durationMs: 7_200_000 },
    { kind: 'absolute', name: 'migration', rules: null, startMs: at('2026-12-01T22:00:00Z'), endMs: at('2026-12-02T02:00:00Z') },
    { kind: 'cron', name: 'ny-nightly', rules: ['nightly'], cron: '30 23 * * *', timezone: 'America/New_York', durationMs: 3_600_000 },
  ])
  // Sunday 22 November 2026.
  assert.equal(calendar.activeWindow('warnings', at('2026-11-22T01:59:59Z')), null)
  assert.equal(calendar.activeWindow('warnings', at('2026-11-22T02:00:00Z'))?.name, 'weekly')
  assert.equal(calendar.activeWindow('warnings', at('2026-11-22T03:59:59Z'))?.name, 'weekly')
  assert.equal(calendar.activeWindow('warnings', at('2026-11-22T04:00:00Z')), null, 'the end is exclusive')
  assert.equal(calendar.activeWindow('warnings', at('2026-11-21T02:30:00Z')), null, 'Saturday')
  assert.equal(calendar.activeWindow('critical', at('2026-11-22T02:30:00Z')), null, 'the weekly window is for warnings only')
  assert.equal(calendar.activeWindow('critical', at('2026-12-01T23:00:00Z'))?.name, 'migration')
  assert.equal(calendar.activeWindow('critical', at('2026-12-02T02:00:00Z')), null)
  // 23:30 New York (EST, UTC-5) = 04:30 UTC; crossing midnight local time.
  assert.equal(calendar.activeWindow('nightly', at('2026-11-24T04:29:00Z')), null)
  assert.equal(calendar.activeWindow('nightly', at('2026-11-24T05:15:00Z'))?.name, 'ny-nightly')
  assert.equal(calendar.activeWindow('nightly', at('2026-11-24T05:30:00Z')), null)
  assert.equal(calendar.appliesTo('critical'), true)
})

// --- cron: cron-parser inside the calendar against a small reference matcher -----------------------

interface CronField {
  readonly text: string
  readonly values: ReadonlySet<number>
  readonly star: boolean
}

/**
 * `starWeight`: how often `*` comes against each other form (the day fields need it often, or windows
 * are rare). Explicit days of month stop at 28 so every expression can match; `*` and `*\/s` span
 * the field's full range (`fullMax`), as cron reads them.
 */
const fieldArb = (min: number, max: number, starWeight = 1, fullMax = max): fc.Arbitrary<CronField> => {
  const range = (a: number, b: number, step = 1): Set<number> => {
    const s = new Set<number>()
    for (let v = a; v <= b; v += step) s.add(v)
    return s
  }
  const value = fc.integer({ min, max })
  return fc.oneof(
    { arbitrary: fc.constant({ text: '*', values: range(min, fullMax), star: true }), weight: starWeight },
    value.map((v) => ({ text: String(v), values: new Set([v]), star: false })),
    fc.tuple(value, value).map(([a, b]) => (a <= b ? { text: `${a}-${b}`, values: range(a, b), star: false } : { text: `${b}-${a}`, values: range(b, a), star: false })),
    fc.tuple(value, value, fc.integer({ min: 1, max: 5 })).map(([a, b, s]) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      return { text: `${lo}-${hi}/${s}`, values: range(lo, hi, s), star: false }
    }),
    fc.integer({ min: 2, max: 7 }).map((s) => ({ text: `*/${s}`, values: range(min, fullMax, s), star: false })),
    fc.uniqueArray(value, { minLength: 2, maxLength: 4 }).map((vs) => ({ text: vs.join(','), values: new Set(vs), star: false })),
  )
}

function cronMatches(fields: readonly CronField[], minuteStart: number): boolean {
  const d = new Date(minuteStart)
  const [minute, hour, dom, month, dow] = fields as [CronField, CronField, CronField, CronField, CronField]
  const domOk = dom.values.has(d.getUTCDate())
  const dowOk = dow.values.has(d.getUTCDay())
  // Vixie cron: with both day fields restricted, either may match.
  const dayOk = !dom.star && !dow.star ? domOk || dowOk : domOk && dowOk
  return minute.values.has(d.getUTCMinutes()) && hour.values.has(d.getUTCHours()) && month.values.has(d.getUTCMonth() + 1) && dayOk
}

test('property: a cron maintenance window covers t exactly when a start lies in (t - duration, t]', () => {
  const cronArb = fc.tuple(fieldArb(0, 59), fieldArb(0, 23, 3), fieldArb(1, 28, 12, 31), fieldArb(1, 12, 12), fieldArb(0, 6, 8))
  const outcomes = { inside: 0, outside: 0 }
  fc.assert(
    // One calendar asked about several nearby instants in any order: its cached span must not leak.
    fc.property(cronArb, fc.integer({ min: 1, max: 90 }), instantArb, fc.array(fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }), { minLength: 1, maxLength: 6 }), (fields, durationMinutes, base, offsets) => {
      const durationMs = durationMinutes * 60_000
      const cron = fields.map((f) => f.text).join(' ')
      const calendar = new MaintenanceCalendar([{ kind: 'cron', name: 'w', rules: null, cron, timezone: 'UTC', durationMs }])
      for (const t of offsets.map((o) => base + o)) {
        let expected = false
        for (let f = Math.floor(t / 60_000) * 60_000; f > t - durationMs; f -= 60_000) if (cronMatches(fields, f)) expected = true
        assert.equal(calendar.activeWindow('any', t) !== null, expected, `cron "${cron}", duration ${durationMinutes}m, t ${new Date(t).toISOString()}`)
        outcomes[expected ? 'inside' : 'outside'] += 1
      }
    }),
    { numRuns: 150 },
  )
  // Both outcomes occur, so the property judged windows and not only their absence.
  assert.ok(outcomes.inside >= 10 && outcomes.outside >= 10, JSON.stringify(outcomes))
})
