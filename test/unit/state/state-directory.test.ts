import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StateDirectory, TaskCheckpoint, TaskLock, TaskLockedError } from '../../../state/index.js'
import { tempDir } from './fixtures.js'

describe('state directory, task lock and checkpoint', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    dir = await tempDir('statedir-')
  })
  after(() => dir.remove())

  test('a task lock is exclusive while held and free after release', async () => {
    const sd = new StateDirectory({ stateDir: dir.path, applicationId: 'app' })
    const lock = await sd.lockTask('0_1')
    await assert.rejects(sd.lockTask('0_1'), TaskLockedError)
    await lock.release()
    const again = await sd.lockTask('0_1')
    await again.release()
  })

  test('a lock held by another live process is refused; one left by a dead process is taken over', async () => {
    const taskDir = join(dir.path, 'app', '0_2')
    await mkdir(taskDir, { recursive: true })
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    try {
      await writeFile(join(taskDir, '.lock'), JSON.stringify({ pid: child.pid, host: (await import('node:os')).hostname(), since: 'x' }))
      await assert.rejects(TaskLock.acquire(taskDir), (err: unknown) => err instanceof TaskLockedError && err.message.includes(String(child.pid)))
    } finally {
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
    }
    const lock = await TaskLock.acquire(taskDir)
    assert.equal(JSON.parse(await readFile(join(taskDir, '.lock'), 'utf8')).pid, process.pid)
    await lock.release()
  })

  test('checkpoints are written atomically and read back; a corrupt one reads as corrupt, not a crash', async () => {
    const taskDir = join(dir.path, 'app', '0_3')
    const cp = await TaskCheckpoint.read(taskDir)
    assert.equal(cp.status, 'missing')
    cp.update('counts', 42)
    await cp.write()
    const back = await TaskCheckpoint.read(taskDir)
    assert.equal(back.status, 'ok')
    assert.equal(back.offset('counts'), 42)
    await writeFile(join(taskDir, '.checkpoint'), '{"version":1,"offsets":{"counts":')
    const corrupt = await TaskCheckpoint.read(taskDir)
    assert.equal(corrupt.status, 'corrupt')
    assert.equal(corrupt.offset('counts'), undefined)
    await writeFile(join(taskDir, '.checkpoint'), '{"version":1,"offsets":{"counts":-5}}')
    assert.equal((await TaskCheckpoint.read(taskDir)).status, 'corrupt')
  })

  test('overlapping checkpoint writes (stores of one task restoring side by side) all succeed, and the file ends with the latest offsets', async () => {
    const taskDir = join(dir.path, 'app', '0_4')
    const cp = await TaskCheckpoint.read(taskDir)
    const writes: Promise<void>[] = []
    for (let i = 1; i <= 8; i++) {
      cp.update(`store-${i % 3}`, i)
      writes.push(cp.write())
    }
    await Promise.all(writes)
    const back = await TaskCheckpoint.read(taskDir)
    assert.deepEqual(Object.fromEntries(back.entries()), { 'store-0': 6, 'store-1': 7, 'store-2': 8 })
  })

  test('directories of tasks no longer owned are removed after the delay, owned and locked ones are kept', async () => {
    const sd = new StateDirectory({ stateDir: dir.path, applicationId: 'cleanup', cleanupDelayMs: 60_000 })
    for (const t of ['1_0', '1_1', '1_2', '1_3']) await mkdir(join(sd.taskDir(t), 'store'), { recursive: true })
    const old = new Date(Date.now() - 120_000)
    for (const t of ['1_0', '1_1', '1_2']) await utimes(sd.taskDir(t), old, old)
    const held = await sd.lockTask('1_2')
    await utimes(sd.taskDir('1_2'), old, old)
    assert.deepEqual(await sd.tasksOnDisk(), ['1_0', '1_1', '1_2', '1_3'])
    const removed = await sd.cleanUnowned(new Set(['1_0']))
    assert.deepEqual(removed, ['1_1'], '1_0 owned, 1_2 locked, 1_3 recently used')
    assert.deepEqual(await sd.tasksOnDisk(), ['1_0', '1_2', '1_3'])
    await held.release()
    assert.ok((await stat(sd.taskDir('1_2'))).mtimeMs > Date.now() - 10_000, 'release marks the task as just used')
  })
})
