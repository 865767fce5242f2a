/**
 * Imports a user's topology file, TypeScript or JavaScript, with no build step, and returns its
 * exports, through tsx's process-wide hooks rather than its scoped `tsImport`: a scoped import loads
 * every module the file imports a second time, so the file's library (serdes, errors the runtime
 * tells apart with `instanceof`) was another copy than the CLI's, and in a CommonJS project pino,
 * loaded half in each scope, failed at its first logger. An ES module file (a package with
 * `"type": "module"`, `.mts`, `.mjs`) is imported; a CommonJS one (what `npm init -y` makes, `.cts`,
 * `.cjs`) is required.
 */
import { existsSync, readFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { dirname, extname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { register as registerCommonJsHook } from 'tsx/cjs/api'
import { register as registerModuleHooks } from 'tsx/esm/api'

const PACKAGE = 'sentinel-streams'

let moduleHooks = false

export async function importTopologyFile(path: string): Promise<Record<string, unknown>> {
  if (!isCommonJs(path)) {
    // Running from the TypeScript sources means tsx's hooks are in place (the launcher, `tsx`,
    // `node --import tsx`); the built CLI installs them once.
    if (!import.meta.url.endsWith('.ts') && !moduleHooks) {
      registerModuleHooks()
      moduleHooks = true
    }
    return fileExports((await import(pathToFileURL(path).href)) as Record<string, unknown>)
  }
  if (!('.ts' in (Module as unknown as { _extensions: object })._extensions)) registerCommonJsHook()
  await shareLibraryInstance(path)
  return fileExports({ default: createRequire(path)(path) as unknown })
}

function isCommonJs(path: string): boolean {
  const extension = extname(path)
  if (['.cts', '.cjs'].includes(extension)) return true
  if (['.mts', '.mjs'].includes(extension)) return false
  return nearestPackageType(dirname(path)) !== 'module'
}

function nearestPackageType(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * The file's `require('sentinel-streams')` would go through tsx's hook too, which compiles the
 * library's ES modules into a CommonJS copy: classes the runtime checks with `instanceof`
 * (SchemaNotReadyError, say) would then be another copy's. Node 20.19+ can require an ES module
 * itself; the cache entry set here hands the file the very instance `import` gives this process.
 */
async function shareLibraryInstance(path: string): Promise<void> {
  let resolved: string
  try {
    resolved = createRequire(path).resolve(PACKAGE)
  } catch {
    return // the file does not have the library installed beside it; nothing to share
  }
  const cache = (Module as unknown as { _cache: Record<string, Module> })._cache
  if (cache[resolved]) return
  const entry = new Module(resolved)
  entry.filename = resolved
  entry.exports = await import(pathToFileURL(resolved).href)
  entry.loaded = true
  cache[resolved] = entry
}

/**
 * A CommonJS file's namespace has the whole `module.exports` as its `default`, marked `__esModule`
 * when tsx compiled it from `export` statements, holding the file's exports, its default one included.
 */
function fileExports(namespace: Record<string, unknown>): Record<string, unknown> {
  const commonJs = namespace.default as Record<string, unknown> | null | undefined
  if (typeof commonJs === 'object' && commonJs !== null && commonJs.__esModule === true) {
    return Object.fromEntries(Object.keys(commonJs).filter((name) => name !== '__esModule').map((name) => [name, commonJs[name]]))
  }
  return namespace
}
