/**
 * Runs scripts/python/registry_consumer.py — Confluent's Python client with its AvroDeserializer —
 * from a virtualenv this module makes and fills from PyPI (scripts/python/requirements.txt) on first
 * use, in the launchers' cache outside the repo. `tsx scripts/python-registry-consumer.ts --brokers
 * ... --registry ... --topic anomalies` reads a topic by hand.
 *
 * `pythonRegistryConsumer()` answers `{ unavailable }` only when there is no Python 3 with venv and
 * pip on the machine: a failed install from PyPI is an error, not a reason to skip.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { cacheRoot } from './launcher/cache.js'

const here = dirname(fileURLToPath(import.meta.url))
const REQUIREMENTS = join(here, 'python', 'requirements.txt')
export const REGISTRY_CONSUMER_SCRIPT = join(here, 'python', 'registry_consumer.py')

export type PythonConsumer = { readonly python: string } | { readonly unavailable: string }

function run(command: string, args: readonly string[], timeoutMs: number): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs })
  return { ok: result.error === undefined && result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}`.trim() }
}

/** The venv's python, made and installed once per requirements file version. */
export function pythonRegistryConsumer(): PythonConsumer {
  const system = ['python3', 'python'].find((p) => run(p, ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)'], 30_000).ok)
  if (system === undefined) return { unavailable: 'no Python 3.8+ on PATH (install python3 with venv and pip to run the Confluent Python client test)' }
  const requirements = readFileSync(REQUIREMENTS, 'utf8')
  const venv = join(cacheRoot(), `python-registry-client-${createHash('sha256').update(requirements).digest('hex').slice(0, 12)}`)
  const python = join(venv, 'bin', 'python')
  const ready = join(venv, '.installed')
  if (existsSync(ready)) return { python }
  const made = run(system, ['-m', 'venv', '--clear', venv], 120_000)
  if (!made.ok) return { unavailable: `${system} -m venv failed (on Debian: apt-get install python3-venv): ${made.output.slice(-400)}` }
  if (!run(python, ['-m', 'pip', '--version'], 60_000).ok) return { unavailable: `the venv at ${venv} has no pip (on Debian: apt-get install python3-pip python3-venv)` }
  const installed = run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', REQUIREMENTS], 600_000)
  if (!installed.ok) throw new Error(`pip install -r ${REQUIREMENTS} failed (is PyPI reachable?): ${installed.output.slice(-1500)}`)
  run(python, ['-c', `open(${JSON.stringify(ready)}, 'w').close()`], 10_000)
  return { python }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const consumer = pythonRegistryConsumer()
  if ('unavailable' in consumer) {
    process.stderr.write(`${consumer.unavailable}\n`)
    process.exit(1)
  }
  const result = spawnSync(consumer.python, [REGISTRY_CONSUMER_SCRIPT, ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(result.status ?? 1)
}
