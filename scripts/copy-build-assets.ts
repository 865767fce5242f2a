/**
 * `npm run build` step after tsc: copies the files the built code reads beside itself (the Sentinel
 * app's default YAML configurations and their JSON Schemas, the .avsc schemas, the OTLP .proto
 * files), so dist/ runs without the sources.
 * An argument names another output folder (scripts/check-package.ts builds into a scratch one).
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = process.argv[2] ?? join(root, 'dist')
const ASSETS: { dir: string; ext: string }[] = [
  { dir: 'apps/sentinel', ext: '.yaml' },
  // The config files' JSON Schemas: the app validates against them, editors point at them.
  { dir: 'apps/sentinel/config-schemas', ext: '.schema.json' },
  { dir: 'schemas', ext: '.avsc' },
  // The OTLP receiver loads the vendored opentelemetry-proto files at run time (with their licence).
  { dir: 'apps/sentinel/otlp/proto', ext: '.proto' },
  { dir: 'apps/sentinel/otlp/proto', ext: 'LICENSE' },
]

function* filesUnder(dir: string, ext: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* filesUnder(path, ext)
    else if (entry.name.endsWith(ext)) yield path
  }
}

let copied = 0
for (const { dir, ext } of ASSETS) {
  for (const file of filesUnder(join(root, dir), ext)) {
    const target = join(outDir, relative(root, file))
    mkdirSync(dirname(target), { recursive: true })
    copyFileSync(file, target)
    copied++
  }
}
console.log(`copied ${copied} asset files into ${relative(root, outDir) || outDir}/`)
