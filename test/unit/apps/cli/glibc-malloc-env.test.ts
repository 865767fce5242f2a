/** The glibc malloc settings given to instances: the operator's own values win, and the image sets the same ones. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { GLIBC_MALLOC_ENV, missingGlibcMallocEnv } from '../../../../apps/cli/glibc-malloc-env.js'

test('all settings are added to an environment without them', () => {
  assert.deepEqual(missingGlibcMallocEnv({ PATH: '/bin' }), GLIBC_MALLOC_ENV)
  assert.ok(Object.keys(GLIBC_MALLOC_ENV).length > 0)
})

test("an operator's own value is kept: only the settings it lacks are added", () => {
  const missing = missingGlibcMallocEnv({ MALLOC_MMAP_THRESHOLD_: '65536' })
  assert.equal(missing.MALLOC_MMAP_THRESHOLD_, undefined)
  assert.equal(missing.MALLOC_TRIM_THRESHOLD_, GLIBC_MALLOC_ENV.MALLOC_TRIM_THRESHOLD_)
  assert.deepEqual(missingGlibcMallocEnv({ ...GLIBC_MALLOC_ENV }), {})
})

test('the image sets the same values (docker/Dockerfile ENV)', () => {
  const dockerfile = readFileSync(new URL('../../../../docker/Dockerfile', import.meta.url), 'utf8')
  const set = new Map<string, string>()
  for (const line of dockerfile.split('\n')) {
    if (!line.startsWith('ENV ')) continue
    for (const [, name, value] of line.slice(4).matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) set.set(name!, value!)
  }
  for (const [name, value] of Object.entries(GLIBC_MALLOC_ENV)) assert.equal(set.get(name), value, `docker/Dockerfile must set ENV ${name}=${value}`)
})
