/**
 * Starts and stops the Confluent-compatible Schema Registry that the registry serde's integration
 * tests and the demos run against, on machines with no Docker:
 * `tsx scripts/schema-registry.ts start|stop|status`.
 *
 * - `SCHEMA_REGISTRY_URL` set: that registry is used and nothing is started.
 * - Otherwise the pinned Apicurio Registry release is fetched from Maven Central with Maven (once, into
 *   ~/.cache/sentinel-streams/) and started on 127.0.0.1 on a free port with in-memory storage (H2).
 *   Its Confluent-compatible base URL (`http://127.0.0.1:PORT/apis/ccompat/v7`) is written to the
 *   state file that `runtime/local-registry.ts` reads, and printed as the last line.
 *
 * Why Apicurio Registry 3.0.9 (measured on the 2-core dev machine, Java 17):
 * - The Go AxonOps Schema Registry would be the lighter server, but the Go module proxy refuses
 *   `github.com/axonops/axonops-schema-registry` here (403 on the version list and on @latest), so it
 *   cannot be built from a package registry.
 * - Apicurio 3.3.x needs Java 21 (class file 65) and Debian 12 ships Java 17 only; 3.0.9 is the newest
 *   3.x that runs on Java 17. Its Confluent API (ccompat v7) passes the serde's integration tests with
 *   @kafkajs/confluent-schema-registry: register, lookup by schema, fetch by id, per-subject
 *   compatibility, rejection of an incompatible change, 404 for an unknown id.
 * - Cost: 108 MB download, 115 MB unpacked, ~160 MB RSS with the flags below. Start-up: ~6 s with
 *   C1 only; ~2 s warm with an AppCDS archive (the first clean stop writes it into the cache).
 *
 * `acquireSchemaRegistry()` is for test files run in parallel: each takes a lease; a registry a test
 * started is stopped by the last lease released, one started by `start` stays up until `stop`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { localRunDir } from '../runtime/local-broker.js'
import { localRegistryStateFile, readLocalRegistry, type LocalRegistryState } from '../runtime/local-registry.js'
import { redactedRegistryUrl } from '../schemas/registry/registry-client.js'
import { cacheRoot } from './launcher/cache.js'
import { withFileLock } from './launcher/file-lock.js'
import { logTail } from './launcher/log-tail.js'
import { hasCommand, isAlive, freePort, terminate, waitUntil } from './launcher/process.js'

export const APICURIO_VERSION = '3.0.9'
const ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`
const RUNNER_JAR = `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`
const CCOMPAT_PATH = '/apis/ccompat/v7'

const registryHome = (): string => join(cacheRoot(), `apicurio-registry-${APICURIO_VERSION}`)
/** Class-data-sharing archive: cuts the JVM start from ~6 s to ~2 s. Only the JVM build that wrote it can map it. */
const cdsArchive = (javaBuild: string): string => join(registryHome(), `app-java-${javaBuild}.jsa`)
const lockFile = (): string => join(localRunDir(), 'schema-registry.lock')
const leaseDir = (): string => join(localRunDir(), 'schema-registry-leases')
const log = (message: string): void => void process.stderr.write(`[schema-registry] ${message}\n`)

const ALTERNATIVES =
  'Alternatives: point sentinel-streams at an existing Confluent-compatible registry with ' +
  'SCHEMA_REGISTRY_URL=http://host:port (for Apicurio add /apis/ccompat/v7), ' +
  'or on a machine with Docker run `docker run -p 8081:8080 apicurio/apicurio-registry:3.0.9` and set ' +
  'SCHEMA_REGISTRY_URL=http://localhost:8081/apis/ccompat/v7.'

/** The JVM's version, e.g. `{ full: '17.0.15', major: 17 }`, or undefined when there is no java. */
function javaVersion(): { full: string; major: number } | undefined {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' })
  if (java.error !== undefined || java.status !== 0) return undefined
  const match = /version "((\d+)(?:\.(\d+))?[^"]*)"/.exec(java.stderr)
  if (!match?.[1] || !match[2]) return undefined
  const major = Number(match[2])
  return { full: match[1], major: major === 1 ? Number(match[3]) : major } // "1.8.0" is Java 8
}

/** Apicurio's jars, fetched with Maven and unpacked into the cache on first use. Returns the runner jar. */
function ensureRegistry(): string {
  const home = registryHome()
  const jar = join(home, 'app', RUNNER_JAR)
  if (existsSync(join(home, '.complete'))) return jar
  if (!hasCommand('mvn', '-v')) {
    throw new Error(`Maven (mvn) is needed once to fetch Apicurio Registry ${APICURIO_VERSION} from Maven Central. ${ALTERNATIVES}`)
  }
  if (!hasCommand('tar')) throw new Error(`tar is needed once to unpack Apicurio Registry ${APICURIO_VERSION}. ${ALTERNATIVES}`)
  rmSync(home, { recursive: true, force: true }) // a fetch that stopped half-way
  const download = join(home, 'download')
  mkdirSync(download, { recursive: true })
  log(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central into ${home} (once)`)
  const started = Date.now()
  const mvn = spawnSync('mvn', ['-B', '-q', '-Dstyle.color=never', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${download}`], {
    // Maven's output goes to stderr: stdout carries only the URL.
    stdio: ['ignore', process.stderr, process.stderr],
  })
  if (mvn.status !== 0) throw new Error(`Maven could not fetch ${ARTIFACT} (exit ${mvn.status}). ${ALTERNATIVES}`)
  const archive = join(download, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`)
  mkdirSync(join(home, 'app'))
  const tar = spawnSync('tar', ['xzf', archive, '-C', join(home, 'app')], { stdio: ['ignore', process.stderr, process.stderr] })
  if (tar.status !== 0 || !existsSync(jar)) throw new Error(`unpacking ${archive} failed (exit ${tar.status}): no ${RUNNER_JAR} in it`)
  rmSync(download, { recursive: true, force: true }) // Maven keeps its own copy in ~/.m2
  writeFileSync(join(home, '.complete'), new Date().toISOString())
  log(`fetched and unpacked in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return jar
}

async function answers(url: string): Promise<boolean> {
  const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) })
  return response.ok
}

/** The launcher's registry, if its process is alive and it answers. */
async function runningRegistry(): Promise<LocalRegistryState | undefined> {
  const state = readLocalRegistry()
  if (!state || !isAlive(state.pid)) return undefined
  return (await answers(state.url).catch(() => false)) ? state : undefined
}

function writeState(state: LocalRegistryState): void {
  mkdirSync(localRunDir(), { recursive: true })
  writeFileSync(localRegistryStateFile(), JSON.stringify(state, null, 2))
}

async function launch(ephemeral: boolean): Promise<string> {
  const java = javaVersion()
  if (java === undefined) throw new Error(`Java (17+) is needed to run the local schema registry. ${ALTERNATIVES}`)
  if (java.major < 17) throw new Error(`Apicurio Registry ${APICURIO_VERSION} needs Java 17+, found Java ${java.full}. ${ALTERNATIVES}`)
  const jar = ensureRegistry()

  const started = Date.now()
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-registry-'))
  const archive = cdsArchive(java.full)
  const warm = existsSync(archive)
  // A cold start records the classes it loads; stop() moves the archive into the cache for later starts.
  const cds = warm ? `-XX:SharedArchiveFile=${archive}` : `-XX:ArchiveClassesAtExit=${join(dataDir, 'app.jsa')}`
  const out = openSync(join(dataDir, 'registry.out'), 'a')
  const registry = spawn(
    'java',
    [
      // A test registry serves a handful of requests: C1 only and a small serial heap start faster and
      // use about half the memory of the defaults.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xms64m',
      '-Xmx384m',
      cds,
      `-Djava.io.tmpdir=${dataDir}`,
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${port}`,
      '-Dquarkus.http.access-log.enabled=false',
      `-Dapicurio.storage.snapshot.location=${dataDir}`,
      // Confluent allows deleting subjects and versions; tests clean up that way.
      '-Dapicurio.rest.deletion.artifact.enabled=true',
      '-Dapicurio.rest.deletion.artifact-version.enabled=true',
      '-jar',
      jar,
    ],
    { cwd: dataDir, detached: true, stdio: ['ignore', out, out] },
  )
  registry.unref()
  const pid = registry.pid
  if (pid === undefined) throw new Error('could not spawn java for the schema registry')
  const url = `http://127.0.0.1:${port}${CCOMPAT_PATH}`
  writeState({
    pid,
    url,
    dataDir,
    registry: `apicurio-registry ${APICURIO_VERSION}`,
    startedAt: new Date().toISOString(),
    ephemeral,
    ...(warm ? {} : { cdsArchive: archive }),
  })
  try {
    await waitUntil(`schema registry (pid ${pid})`, () => answers(url), { timeoutMs: 120_000, pid, intervalMs: 100 })
  } catch (e) {
    const tail = logTail([join(dataDir, 'registry.out')])
    await shutDown()
    throw new Error(`${(e as Error).message}\n${tail}`, { cause: e })
  }
  log(`Apicurio Registry ${APICURIO_VERSION} up at ${url} (pid ${pid}, ${warm ? 'warm' : 'cold'}) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return url
}

async function ensureRunning(ephemeral: boolean): Promise<string> {
  const running = await runningRegistry()
  if (running) {
    // An explicit `start` keeps a registry that a test run happened to start.
    if (!ephemeral && running.ephemeral) writeState({ ...running, ephemeral: false })
    log(`reusing the registry already running at ${running.url} (pid ${running.pid})`)
    return running.url
  }
  await shutDown() // a stale state file or a half-dead registry from an earlier run
  return launch(ephemeral)
}

/** Stops the launcher's registry by its own pid, keeps its class archive, removes its data dir. */
async function shutDown(): Promise<void> {
  const state = readLocalRegistry()
  if (!state) return
  if (isAlive(state.pid)) {
    log(`stopping schema registry pid ${state.pid}`)
    await terminate(state.pid)
  }
  const written = join(state.dataDir, 'app.jsa')
  if (state.cdsArchive !== undefined && existsSync(written) && !existsSync(state.cdsArchive)) {
    // Copy under a temp name then rename: another launcher may be reading the cache.
    const temp = `${state.cdsArchive}.${randomBytes(4).toString('hex')}.tmp`
    copyFileSync(written, temp)
    renameSync(temp, state.cdsArchive)
  }
  rmSync(state.dataDir, { recursive: true, force: true })
  rmSync(localRegistryStateFile(), { force: true })
  rmSync(leaseDir(), { recursive: true, force: true })
}

function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(localRunDir(), { recursive: true })
  return withFileLock(lockFile(), fn)
}

/** Starts the local registry, or reuses a running one; returns its Confluent-compatible base URL. */
export async function startSchemaRegistry(): Promise<string> {
  if (process.env.SCHEMA_REGISTRY_URL) {
    // Userinfo in the URL is a credential: never printed.
    log(`SCHEMA_REGISTRY_URL is set: using ${redactedRegistryUrl(process.env.SCHEMA_REGISTRY_URL)}, starting nothing`)
    return process.env.SCHEMA_REGISTRY_URL
  }
  return withLock(() => ensureRunning(false))
}

/** Stops the local registry. Safe to call repeatedly, and when none runs. */
export function stopSchemaRegistry(): Promise<void> {
  return withLock(shutDown)
}

export async function schemaRegistryStatus(): Promise<LocalRegistryState | undefined> {
  return runningRegistry()
}

export interface SchemaRegistryLease {
  url: string
  /** Gives the lease back; the last one out stops a registry that a lease started. */
  release(): Promise<void>
}

const liveLeases = (): string[] => {
  if (!existsSync(leaseDir())) return []
  return readdirSync(leaseDir()).filter((name) => isAlive(Number.parseInt(name, 10)))
}

/** For test files: the registry URL, starting one if none is known, plus a `release()` for `after()`. */
export async function acquireSchemaRegistry(): Promise<SchemaRegistryLease> {
  const given = process.env.SCHEMA_REGISTRY_URL
  if (given) return { url: given, release: async () => undefined }
  const lease = `${process.pid}-${randomBytes(4).toString('hex')}`
  const url = await withLock(async () => {
    const running = await ensureRunning(true)
    mkdirSync(leaseDir(), { recursive: true })
    writeFileSync(join(leaseDir(), lease), '')
    return running
  })
  let released = false
  return {
    url,
    release: () => {
      if (released) return Promise.resolve()
      released = true
      return withLock(async () => {
        rmSync(join(leaseDir(), lease), { force: true })
        if (readLocalRegistry()?.ephemeral && liveLeases().length === 0) await shutDown()
      })
    },
  }
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'start':
      console.log(await startSchemaRegistry())
      return
    case 'stop':
      if (process.env.SCHEMA_REGISTRY_URL) log('SCHEMA_REGISTRY_URL is set: nothing of ours to stop')
      await stopSchemaRegistry()
      return
    case 'status': {
      if (process.env.SCHEMA_REGISTRY_URL) {
        console.log(`SCHEMA_REGISTRY_URL ${redactedRegistryUrl(process.env.SCHEMA_REGISTRY_URL)}`)
        return
      }
      const running = await schemaRegistryStatus()
      console.log(running ? `running ${running.url} (pid ${running.pid}, ${running.registry})` : 'not running')
      return
    }
    default:
      console.error('usage: tsx scripts/schema-registry.ts start|stop|status')
      process.exitCode = 2
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv[2]).catch((e: unknown) => {
    console.error(`[schema-registry] ${(e as Error).message}`)
    process.exit(1)
  })
}
