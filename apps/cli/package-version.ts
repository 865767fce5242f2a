/**
 * The installed package's version, for `sentinel-streams --version`. Read from package.json at run
 * time: the CLI runs from `apps/cli/` (sources) or `dist/apps/cli/` (built), so the file is found by
 * walking up, not at a fixed depth.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export function packageVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json')
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string }
      if (manifest.name === 'sentinel-streams' && manifest.version) return manifest.version
    }
    if (dirname(dir) === dir) throw new Error(`no sentinel-streams package.json above ${from}`)
  }
}
