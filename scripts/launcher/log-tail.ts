import { existsSync, readFileSync } from 'node:fs'

/** The last `lines` lines of each file that exists, for start-up failures that should show why. */
export function logTail(files: readonly string[], lines = 25): string {
  return files
    .filter((f) => existsSync(f))
    .map((f) => `--- ${f} ---\n${readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n')}`)
    .join('\n')
}
