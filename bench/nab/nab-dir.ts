/**
 * Where NAB's data is: `$NAB_DIR`, else the first `shared/data/nab` found walking up from this
 * repository. The repository may be checked out at different depths (a main clone beside `shared/`,
 * a git worktree one level deeper), so a fixed relative path would break one of them.
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export function nabDir(): string {
  const fromEnv = process.env['NAB_DIR']
  if (fromEnv) return resolve(fromEnv)
  let dir = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
  for (;;) {
    const candidate = join(dir, '..', 'shared/data/nab')
    if (existsSync(candidate)) return resolve(candidate)
    const up = dirname(dir)
    if (up === dir) throw new Error('NAB data not found: set NAB_DIR or place it at <parent of the repository>/shared/data/nab')
    dir = up
  }
}
