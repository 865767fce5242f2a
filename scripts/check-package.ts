/**
 * `npm run check:package`: the package as a user gets it, and its public API as a reviewed file.
 *
 *  1. Builds the library (tsconfig.build.json, `stripInternal`) into a scratch folder, never into
 *     this checkout's dist/: bin/sentinel-streams.js prefers dist/ and would run stale code.
 *  2. `npm pack`s it (the `files` of package.json decide what ships) and unpacks the tarball into a
 *     scratch project's node_modules, beside links to the dependencies this checkout installed: no
 *     registry, so it takes seconds. (test/integration/apps/cli/packed-package.test.ts does a real
 *     `npm install`, opt-in.)
 *  3. The library's entries (all but `./sentinel`) import with the package's dependencies alone: the
 *     app's packages are optional peers (and the apps/sentinel workspace's dependencies, which must
 *     match them), so a library user never installs them.
 *  4. With the peers linked too: `tsc` on a file that imports every entry point (strict, NodeNext,
 *     the package's own .d.ts files checked too), and node importing each entry, and refusing a
 *     path the exports map does not list.
 *  5. API Extractor writes one report per library entry and compares it with api/*.api.md: a change
 *     to the public API fails here until `npm run api:update` rewrites the report, so the change is a
 *     diff in review. The app's entry (`sentinel-streams/sentinel`) is checked in 2-4 but has no
 *     report: its types follow the app's configuration files, which change often.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Extractor, ExtractorConfig, ExtractorLogLevel, type IConfigFile } from '@microsoft/api-extractor'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const updateApi = process.argv.includes('--update-api')
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string
  exports: Record<string, string | { types: string; default: string }>
  dependencies: Record<string, string>
  peerDependencies: Record<string, string>
}

/** Each entry point: its subpath, a value it must export, and whether it has an API report. */
const ENTRIES = [
  { subpath: '.', probe: 'StreamsBuilder', report: true },
  { subpath: './testing', probe: 'TopologyTestDriver', report: true },
  { subpath: './detectors', probe: 'ZScoreDetector', report: true },
  { subpath: './registry', probe: 'registryAvroSerde', report: true },
  { subpath: './sentinel', probe: 'loadSentinelApp', report: false },
] as const

// The app's packages are the library's optional peers and the apps/sentinel workspace's dependencies:
// the two lists say the same thing to two audiences (a library user, and this repository's install).
const appManifest = JSON.parse(readFileSync(join(root, 'apps/sentinel/package.json'), 'utf8')) as { dependencies: Record<string, string> }
if (JSON.stringify(appManifest.dependencies) !== JSON.stringify(manifest.peerDependencies)) {
  throw new Error('apps/sentinel/package.json dependencies and package.json peerDependencies differ: keep them the same (name and range)')
}

const specifier = (subpath: string): string => manifest.name + subpath.slice(1)
const reportName = (subpath: string): string => (subpath === '.' ? manifest.name : `${manifest.name}-${subpath.slice(2)}`)
const declared = Object.keys(manifest.exports).filter((s) => s !== './package.json')
const listed = ENTRIES.map((e) => e.subpath)
if (declared.join() !== listed.join()) {
  throw new Error(`package.json exports ${declared.join(', ')} but scripts/check-package.ts checks ${listed.join(', ')}: keep the two lists the same`)
}

const run = (command: string, args: string[], cwd: string): string => {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`, { cause: error })
  }
}
const tsc = join(root, 'node_modules/typescript/bin/tsc')
const link = (from: string, to: string): void => {
  mkdirSync(dirname(to), { recursive: true })
  symlinkSync(from, to)
}

const scratch = mkdtempSync(join(tmpdir(), 'sentinel-package-'))
try {
  // 1. Build.
  const pkg = join(scratch, 'pkg')
  run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], root)
  run(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'scripts/copy-build-assets.ts'), join(pkg, 'dist')], root)
  for (const file of ['package.json', 'bin', 'LICENSE', 'README.md']) cpSync(join(root, file), join(pkg, file), { recursive: true })

  // 2. Pack and unpack into a project.
  const tarball = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], pkg).trim().split('\n').at(-1)!
  const project = join(scratch, 'project')
  const installed = join(project, 'node_modules', manifest.name)
  mkdirSync(installed, { recursive: true })
  run('tar', ['xzf', join(scratch, tarball), '-C', installed, '--strip-components=1'], scratch)
  for (const dependency of [...Object.keys(manifest.dependencies), '@types/node']) {
    link(join(root, 'node_modules', dependency), join(project, 'node_modules', dependency))
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch-user', private: true, type: 'module' }))
  const importEntries = (entries: readonly (typeof ENTRIES)[number][]): string =>
    entries
      .map(
        (e) =>
          `{ const m = await import('${specifier(e.subpath)}'); if (typeof m.${e.probe} !== 'function') throw new Error('${specifier(e.subpath)} lacks ${e.probe}') }`,
      )
      .join('\n')

  // 3. The library's entries load with its dependencies alone, before the app's peers are there: a
  //    library user does not install the app's packages.
  const library = ENTRIES.filter((e) => e.subpath !== './sentinel')
  run(process.execPath, ['--input-type=module', '-e', importEntries(library)], project)
  for (const peer of Object.keys(manifest.peerDependencies)) link(join(root, 'node_modules', peer), join(project, 'node_modules', peer))

  // 4. Types and imports as a user sees them, with the app's peers installed.
  writeFileSync(
    join(project, 'user.ts'),
    ENTRIES.map((e, i) => `import { ${e.probe} as probe${i} } from '${specifier(e.subpath)}'\nexport const use${i}: unknown = probe${i}\n`).join('') +
      `import { Serdes, type KStream } from '${manifest.name}'\nexport type Typed = KStream<string, number>\nexport const serde = Serdes.string()\n`,
  )
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], skipLibCheck: false },
      files: ['user.ts'],
    }),
  )
  // skipLibCheck is off so the package's .d.ts files are checked (a stripped @internal that a public
  // declaration still names fails here); errors inside the dependencies' own types are not ours.
  const typeErrors = (() => {
    try {
      run(process.execPath, [tsc, '-p', project], project)
      return []
    } catch (error) {
      const ours = (line: string): boolean => !line.startsWith('node_modules/') || line.startsWith(`node_modules/${manifest.name}/`)
      return (error as Error).message.split('\n').filter((line) => line.includes('error TS') && ours(line))
    }
  })()
  if (typeErrors.length > 0) throw new Error(`a user's tsc fails on the packed package's types:\n${typeErrors.join('\n')}`)

  const imports = importEntries(ENTRIES)
  const deepImport = `await import('${manifest.name}/dist/runtime/kafka/stream-thread.js').then(() => { throw new Error('a path the exports map does not list was importable') }, (e) => { if (e.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e })`
  run(process.execPath, ['--input-type=module', '-e', `${imports}\n${deepImport}`], project)

  // 5. API reports.
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'))
  const changed: string[] = []
  for (const entry of ENTRIES.filter((e) => e.report)) {
    const types = manifest.exports[entry.subpath]
    if (typeof types !== 'object') throw new Error(`package.json exports ${entry.subpath} without types`)
    const configObject: IConfigFile = {
      projectFolder: pkg,
      mainEntryPointFilePath: join(pkg, types.types),
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            lib: ['ES2023'],
            types: ['node'],
            strict: true,
            skipLibCheck: true,
          },
          files: [join(pkg, types.types)],
        },
      },
      apiReport: { enabled: true, reportFolder: join(root, 'api'), reportTempFolder: join(scratch, 'api-temp'), reportFileName: reportName(entry.subpath) },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
        // The report lists what is exported; missing release tags and the TSDoc dialect of our
        // comments are not API changes.
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning },
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
          'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
          'ae-internal-missing-underscore': { logLevel: ExtractorLogLevel.None },
          'ae-unresolved-link': { logLevel: ExtractorLogLevel.None },
          'ae-undocumented': { logLevel: ExtractorLogLevel.None },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      },
    }
    const config = ExtractorConfig.prepare({ configObject, configObjectFullPath: undefined, packageJsonFullPath: join(pkg, 'package.json') })
    const warnings: string[] = []
    const result = Extractor.invoke(config, {
      localBuild: updateApi,
      messageCallback: (message) => {
        // Console messages are API Extractor's own progress and its "report changed" notice, handled below.
        const problem = message.category !== 'console' && (message.logLevel === ExtractorLogLevel.Warning || message.logLevel === ExtractorLogLevel.Error)
        if (problem) warnings.push(message.formatMessageWithLocation(pkg))
        message.handled = true
      },
    })
    if (warnings.length > 0) throw new Error(`API Extractor on ${specifier(entry.subpath)}:\n${warnings.join('\n')}`)
    if (result.apiReportChanged && !updateApi) changed.push(`api/${reportName(entry.subpath)}.api.md`)
  }
  if (changed.length > 0) {
    const fresh = changed.map((file) => join(scratch, 'api-temp', file.slice(4)))
    // diff exits 1 when the files differ; its output is the point.
    const diff = fresh.map((file, i) => spawnSync('diff', ['-u', changed[i]!, file], { cwd: root, encoding: 'utf8' }).stdout)
    throw new Error(`the public API changed (${changed.join(', ')}):\n${diff.join('\n')}\nIf that is meant, run \`npm run api:update\` and commit the reports.`)
  }
  console.log(`package: ${ENTRIES.length} entry points import and type-check from the packed tarball; API reports ${updateApi ? 'written' : 'unchanged'}`)
} catch (error) {
  console.error((error as Error).message)
  process.exitCode = 1
} finally {
  if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true })
}
