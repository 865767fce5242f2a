/**
 * Runs one integration test file again and again beside a CPU load, and counts passes and failures:
 * the outside-CI loop of issue 18 ("the crash test 50 times under load"), and the way to reproduce a
 * test that is flaky only when the machine is busy.
 *
 *   npx tsx scripts/with-kafka.ts tsx scripts/test-under-load.ts --runs 50 --load 2 test/integration/runtime/crash.test.ts
 *   ... --until 02:30 --logs /tmp/loop-logs <file> [-- --test-name-pattern=exactly-once]
 *
 * `--load K` starts K busy-looping node processes (one core each) for the whole loop. `--until HH:MM`
 * (UTC) starts no run after that time. The output of every failed run is kept in `--logs`; one line
 * per run, and at the end
 *
 *   LOOP <file> runs=<n> pass=<n> fail=<n> load=<k>
 *
 * Exits 1 if any run failed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '50' },
    load: { type: 'string', default: '2' },
    until: { type: 'string' },
    logs: { type: 'string', default: join(process.env.SENTINEL_RUN_DIR ?? '/tmp', 'test-under-load') },
  },
})
const [file, ...nodeFlags] = positionals
if (!file) {
  console.error('usage: tsx scripts/test-under-load.ts [--runs N] [--load K] [--until HH:MM] [--logs DIR] <test file> [-- node flags]')
  process.exit(2)
}
const runs = Number(args.runs)
const load = Number(args.load)
mkdirSync(args.logs, { recursive: true })

/** The UTC time `HH:MM` of today (or tomorrow, if already past when the loop starts). */
function deadlineOf(hhmm: string | undefined): number {
  if (!hhmm) return Infinity
  const [h, m] = hhmm.split(':').map(Number)
  const d = new Date()
  d.setUTCHours(h!, m!, 0, 0)
  return d.getTime() < Date.now() ? d.getTime() + 86_400_000 : d.getTime()
}
const deadline = deadlineOf(args.until)

// Busy loops, not `yes`: the same on every machine with node, and each pins one core.
const burners: ChildProcess[] = Array.from({ length: load }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
const stopBurners = (): void => {
  for (const b of burners) b.kill('SIGKILL')
}
process.on('exit', stopBurners)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130))

function runOnce(i: number): Promise<{ passed: boolean; ms: number; log: string }> {
  const log = join(args.logs, `run-${String(i).padStart(3, '0')}.log`)
  const out = createWriteStream(log)
  const began = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/run-tests.ts', file!, ...(nodeFlags.length > 0 ? ['--', ...nodeFlags] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  })
  child.stdout!.pipe(out, { end: false })
  child.stderr!.pipe(out, { end: false })
  return new Promise((resolve) =>
    child.on('close', (code) => {
      out.end(() => {
        if (code === 0) rmSync(log, { force: true })
      })
      resolve({ passed: code === 0, ms: Date.now() - began, log })
    }),
  )
}

let pass = 0
let fail = 0
for (let i = 1; i <= runs && Date.now() < deadline; i++) {
  const { passed, ms, log } = await runOnce(i)
  if (passed) pass++
  else fail++
  console.log(`run ${i}: ${passed ? 'pass' : `FAIL (output in ${log})`} in ${(ms / 1000).toFixed(1)} s`)
}
console.log(`LOOP ${file} runs=${pass + fail} pass=${pass} fail=${fail} load=${load}`)
stopBurners()
process.exit(fail > 0 ? 1 : 0)
