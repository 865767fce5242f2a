import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { KNOWN_KEYS } from '../../../runtime/config.js'

test("the README's settings table has every setting, each with its Kafka Streams name (or 'none')", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
  const rows = new Map(
    readme
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split('|').map((cell) => cell.trim()))
      .filter((cells) => cells.length === 6)
      .map((cells) => [cells[1]!.replaceAll('`', ''), cells[4]!]),
  )
  for (const key of KNOWN_KEYS) {
    assert.ok(rows.has(key), `a row for ${key}`)
    assert.ok(rows.get(key)!.length > 0, `a Kafka Streams name for ${key}`)
  }
})
