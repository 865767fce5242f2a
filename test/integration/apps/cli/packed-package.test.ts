/**
 * The package as npm ships it (issue 13), opt-in: SENTINEL_TEST_PACKAGE=1. It builds with
 * `npm pack` and installs the tarball into two new projects, which needs the registry (or npm's
 * cache) for the dependencies and takes a minute or two: too slow and too networked for every run.
 *
 *   SENTINEL_TEST_PACKAGE=1 npx tsx scripts/run-tests.ts test/integration/apps/cli/packed-package.test.ts
 *
 * Checked: what the tarball holds (built code, the launcher, LICENSE; no source maps, each .avsc
 * once), and in a CommonJS project (`npm init -y`) and an ES module one: `require` and `import` of
 * the package, `npx sentinel-streams describe` and a standalone `run` of a TypeScript topology that
 * imports it (with the very library instance the CLI runs), and one Ctrl-C ending the run cleanly
 * with exit 0 on the built code.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cleanUp, jsonLines, root, spawnCommand, tempDir, until } from '../../../unit/apps/cli/spawned-cli.js'

const enabled = process.env.SENTINEL_TEST_PACKAGE === '1'
after(cleanUp)

const topology = `import { Serdes, StandaloneStreams, StreamsBuilder, type TopologyServices } from 'sentinel-streams'

interface Request { tenant: string; tokens: number }

const builder = new StreamsBuilder()
builder
  .stream('requests', { key: Serdes.string(), value: Serdes.json<Request>() })
  .filter((_key, request) => request.tokens > 1000)
  .to('big-requests', { key: Serdes.string(), value: Serdes.json<Request>() })
export default builder.build()

// The runtime is the CLI's; instanceof holds only if this file got the very library the CLI runs.
export const services: TopologyServices = async ({ runtime, logger }) => {
  logger.info({ sameLibrary: runtime instanceof StandaloneStreams }, 'user services started')
  return { close: async () => undefined }
}
`

const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** The working tree's files (committed or not, ignored ones left out) in a scratch copy, so the build does not touch this checkout's dist/. */
function scratchCopy(): string {
  const copy = tempDir('cli-pack-src-')
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean)
  for (const file of files) {
    if (file === 'node_modules') continue
    mkdirSync(dirname(join(copy, file)), { recursive: true })
    try {
      cpSync(join(root, file), join(copy, file))
    } catch {
      // deleted in the working tree but still in the index
    }
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'))
  return copy
}

describe('the packed package', { skip: !enabled && 'opt-in: SENTINEL_TEST_PACKAGE=1 (npm pack and npm install, about two minutes, needs the registry or a warm npm cache)' }, () => {
  let tarball = ''
  let listing: string[] = []

  before(() => {
    const out = tempDir('cli-pack-')
    const name = npm(['pack', '--silent', '--pack-destination', out], scratchCopy()).trim().split('\n').at(-1)!
    tarball = join(out, name)
    listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n')
  })

  test('holds the built code, the launcher and the license; no source maps; each schema once', () => {
    for (const file of ['package/bin/sentinel-streams.js', 'package/dist/apps/cli/main.js', 'package/dist/index.js', 'package/dist/index.d.ts', 'package/LICENSE', 'package/README.md']) {
      assert.ok(listing.includes(file), `${file} is shipped`)
    }
    assert.deepEqual(listing.filter((f) => f.endsWith('.map')), [])
    assert.deepEqual(listing.filter((f) => f.endsWith('.avsc')).sort(), ['package/dist/schemas/anomaly/AnomalyEvent.avsc', 'package/dist/schemas/telemetry/TelemetryEvent.avsc'])
    assert.deepEqual(listing.filter((f) => /\.test\.|^package\/(test|bench|scripts)\//.test(f)), [])
    assert.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/)
  })

  for (const kind of ['commonjs', 'module'] as const) {
    test(`a ${kind} project: import and require the package, describe and run a TypeScript topology, one Ctrl-C`, async () => {
      const project = tempDir(`cli-user-${kind}-`)
      npm(['init', '-y'], project)
      if (kind === 'module') {
        const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as Record<string, unknown>
        writeFileSync(join(project, 'package.json'), JSON.stringify({ ...manifest, type: 'module' }, null, 2))
      }
      npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project)
      writeFileSync(join(project, 'topology.ts'), topology)
      writeFileSync(join(project, 'requests.jsonl'), '{"id":"r1","tenant":"acme","tokens":10}\n{"id":"r2","tenant":"acme","tokens":5000}\n')

      const required = execFileSync(process.execPath, ['-e', "console.log(typeof require('sentinel-streams').StreamsBuilder)"], { cwd: project, encoding: 'utf8' })
      assert.equal(required.trim(), 'function', 'require() of the package (Node 20.19+ loads the ES module)')
      const imported = execFileSync(process.execPath, ['--input-type=module', '-e', "import { StreamsBuilder } from 'sentinel-streams'; console.log(typeof StreamsBuilder)"], { cwd: project, encoding: 'utf8' })
      assert.equal(imported.trim(), 'function')

      const described = spawnCommand('npx', ['--no', '--', 'sentinel-streams', 'describe', 'topology.ts'], { cwd: project })
      assert.equal(await described.exited, 0, described.stderr())
      assert.match(described.stdout(), /Source: KSTREAM-SOURCE-0000000000 \(topics: \[requests\]\)/)

      const bin = join(project, 'node_modules/.bin/sentinel-streams')
      const once = spawnCommand(bin, ['run', 'topology.ts', '--standalone', '--application-id', 'packed', '--state-dir', tempDir(), '--input', 'requests.jsonl', '--key-field', 'id', '--print', 'big-requests', '--exit-after-input'], { cwd: project })
      assert.equal(await once.exited, 0, once.stderr())
      assert.deepEqual(jsonLines(once.stdout()).map((l) => [l.key, l.value]), [['r2', { id: 'r2', tenant: 'acme', tokens: 5000 }]])
      assert.equal(jsonLines(once.stderr()).find((l) => l.msg === 'user services started')?.sameLibrary, true, 'one copy of the library in the process')

      const running = spawnCommand(bin, ['run', 'topology.ts', '--standalone', '--application-id', 'packed', '--state-dir', tempDir()], { cwd: project })
      await until(() => jsonLines(running.stderr()).some((l) => l.to === 'running'), () => `the run to start; stderr: ${running.stderr()}`)
      running.interrupt()
      assert.equal(await running.exited, 0, running.stderr())
      assert.ok(jsonLines(running.stderr()).some((l) => l.msg === 'shut down cleanly'), running.stderr())
    })
  }
})
