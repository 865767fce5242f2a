import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { burstAlerts } from '../../../examples/burst-alerts.js'

const read = (path: string): string => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8')

for (const readmePath of ['README.md', 'topology/README.md']) {
  test(`${readmePath} shows the example topology and its test exactly as they are in the repository`, () => {
    const blocks = [...read(readmePath).matchAll(/```ts\n([\s\S]*?)\n```/g)].map((m) => m[1])
    assert.ok(blocks.includes(read('examples/burst-alerts.ts').trimEnd()), `examples/burst-alerts.ts differs from ${readmePath}`)
    assert.ok(blocks.includes(read('test/unit/topology/readme-example.test.ts').trimEnd()), `the example's test differs from ${readmePath}`)
  })
}

test("the README's describe() excerpt is what the example topology describes", () => {
  const readme = read('topology/README.md')
  const excerpt = /## describe\(\)[\s\S]*?```\n([\s\S]*?)\n```/.exec(readme)![1]!
  const actual = burstAlerts({ threshold: 3, windowMs: 60_000, graceMs: 5_000 }).describe()
  for (const line of excerpt.split('\n').filter((l) => l.trim() !== '...')) assert.ok(actual.includes(line), `not in describe(): ${line}`)
})
