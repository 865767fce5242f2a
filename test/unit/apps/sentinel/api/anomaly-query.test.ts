/** Listing: keyset pagination over entries split across instances (pure functions of anomaly-query.ts). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { type AnomalyPage, type Cursor, decodeCursor, encodeCursor, localPage, mergePages, cursorOf } from '../../../../../apps/sentinel/api/anomaly-query.js'
import { ApiError } from '../../../../../apps/sentinel/api/errors.js'
import type { AnomalyRecord } from '../../../../../apps/sentinel/anomaly-view.js'
import { T0, anomaly } from './fixtures.js'

const entry = (id: string, at: number, severity: 'info' | 'warning' | 'critical' = 'warning'): AnomalyRecord => ({
  anomaly: anomaly(id, at, { severity }),
  status: 'active',
  acknowledged_by: null,
  acknowledged_at: null,
  acknowledgement_note: null,
  feedback: [],
  updated_at: at,
})

async function* iterate(entries: readonly AnomalyRecord[]): AsyncIterable<[string, AnomalyRecord]> {
  for (const e of entries) yield [e.anomaly!.anomaly_id, e]
}

test('cursors round-trip; anything else is a 400 naming the parameter', () => {
  const cursor: Cursor = { t: T0, id: 'a/b?c' }
  assert.deepEqual(decodeCursor(encodeCursor(cursor)), cursor)
  for (const bad of ['x', Buffer.from('{"t":1}').toString('base64url'), Buffer.from('[1]').toString('base64url')]) {
    assert.throws(() => decodeCursor(bad), (err: unknown) => err instanceof ApiError && err.statusCode === 400 && /cursor/.test(err.message))
  }
})

test('property: paging through instances that split the entries yields every matching entry once, newest first', async () => {
  const arbitrary = fc.record({
    // Few distinct times, so ties (broken by id) are common.
    entries: fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), minute: fc.integer({ min: 0, max: 5 }), severity: fc.constantFrom('info' as const, 'warning' as const, 'critical' as const), instance: fc.integer({ min: 0, max: 2 }) }), { selector: (e) => e.id, maxLength: 30 }),
    limit: fc.integer({ min: 1, max: 7 }),
    severity: fc.option(fc.constantFrom('info' as const, 'critical' as const), { nil: undefined }),
  })
  await fc.assert(
    fc.asyncProperty(arbitrary, async ({ entries, limit, severity }) => {
      const records = entries.map((e) => ({ ...e, record: entry(e.id, T0 + e.minute * 60_000, e.severity) }))
      const filter = severity === undefined ? {} : { severity }
      const expected = records
        .filter((r) => severity === undefined || r.severity === severity)
        .sort((x, y) => y.minute - x.minute || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0))
        .map((r) => r.id)
      const seen: string[] = []
      let after: Cursor | null = null
      for (let guard = 0; guard < 100; guard++) {
        const pages: AnomalyPage[] = []
        for (let i = 0; i < 3; i++) pages.push(await localPage(iterate(records.filter((r) => r.instance === i).map((r) => r.record)), filter, limit, after))
        const page = mergePages(pages, limit)
        assert.ok(page.items.length <= limit)
        seen.push(...page.items.map((item) => item.anomaly.anomaly_id))
        const last = page.items.at(-1)
        if (!page.has_more || last === undefined) break
        after = decodeCursor(cursorOf(last))
      }
      assert.deepEqual(seen, expected)
    }),
    { numRuns: 150 },
  )
})

test('an id answered by two instances is listed once', () => {
  const item = { ...entry('dup', T0), anomaly: anomaly('dup', T0) }
  const listed = { anomaly: item.anomaly, status: item.status, acknowledged_by: null, acknowledged_at: null, acknowledgement_note: null, feedback: [] }
  const page = mergePages([{ items: [listed], has_more: false }, { items: [listed], has_more: false }], 10)
  assert.equal(page.items.length, 1)
})
