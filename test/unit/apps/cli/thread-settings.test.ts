import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { threadCount } from '../../../../apps/cli/thread-supervisor.js'
import { threadConfig } from '../../../../apps/cli/thread-worker.js'
import { DEFAULTS, defaultStateDir } from '../../../../runtime/config.js'

test('--threads: absent is 1, auto is the cores node may use, a count from 1 to 64, anything else a usage error', () => {
  assert.equal(threadCount(undefined), 1)
  assert.equal(threadCount('auto'), availableParallelism())
  assert.equal(threadCount('3'), 3)
  for (const bad of ['0', '65', '-1', '1.5', 'two', '']) assert.throws(() => threadCount(bad), /--threads needs a count from 1 to 64 or 'auto'/, bad)
})

test("a thread's state directory is thread-<i> under the configured one, and its cache 1/N of the instance's", () => {
  assert.deepEqual(threadConfig({ stateDir: '/var/state', cacheMaxBytes: 1000 }, { index: 2, count: 3 }), {
    stateDir: join('/var/state', 'thread-2'),
    cacheMaxBytes: 333,
  })
  assert.deepEqual(threadConfig({}, { index: 0, count: 2 }), { stateDir: join(defaultStateDir(), 'thread-0'), cacheMaxBytes: DEFAULTS.cacheMaxBytes / 2 })
  assert.equal(threadConfig({ cacheMaxBytes: 0 }, { index: 1, count: 2 }).cacheMaxBytes, 0)
})
