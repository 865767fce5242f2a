#!/usr/bin/env node
/**
 * The `sentinel-streams` command. An installed package runs its compiled `dist/`; a clone of the
 * repository has no `dist/` until `npm run build`, so it runs the TypeScript sources through tsx's
 * loader instead — in this same process, not a tsx child process, so a Ctrl-C reaches the CLI once
 * and nothing sits between the CLI and the terminal.
 */
import { existsSync } from 'node:fs'
import process from 'node:process'
import { fileURLToPath, pathToFileURL, URL } from 'node:url'

const compiled = fileURLToPath(new URL('../dist/apps/cli/main.js', import.meta.url))
const source = fileURLToPath(new URL('../apps/cli/main.ts', import.meta.url))

if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href)
} else if (existsSync(source)) {
  const { register } = await import('tsx/esm/api')
  register()
  await import(pathToFileURL(source).href)
} else {
  process.stderr.write(`sentinel-streams: neither ${compiled} nor ${source} exists; reinstall the package, or run \`npm run build\` in the repository\n`)
  process.exit(1)
}
