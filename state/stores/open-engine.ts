import { readdir } from 'node:fs/promises'
import { stateLogger as log } from '../log.js'
import type { EngineStore, LocalStateStatus, StoreOpenContext } from '../types.js'
import { storeDirectory } from '../directory/paths.js'


/** Store names become directory and topic names, so they get the topic-name alphabet. */
export function validateStoreName(name: string): void {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(name)) {
    throw new Error(`store name "${name}" is invalid: use 1-200 characters from A-Z a-z 0-9 . _ - (it names a directory and a changelog topic)`)
  }
}

async function hasFiles(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length > 0
  } catch {
    return false
  }
}

/**
 * Opens the engine store of a typed store, refusing a logged store with no changelog sink. Local state
 * that cannot be opened (corrupt files) is wiped and recreated, and reported as `wiped` so the runtime
 * restores it from the changelog.
 */
export async function openEngineStore(
  ctx: StoreOpenContext,
  spec: { name: string; logged?: boolean },
): Promise<{ engineStore: EngineStore; localState: LocalStateStatus; path: string }> {
  const { name } = spec
  if ((spec.logged ?? true) && !ctx.changelog) {
    throw new Error(`store "${name}" is logged but the open context has no changelog sink: pass ctx.changelog, or set logged: false`)
  }
  validateStoreName(name)
  const path = storeDirectory(ctx.stateDir, ctx.applicationId, ctx.taskId, name)
  let localState: LocalStateStatus = ctx.engine.kind === 'memory' ? 'existing' : (await hasFiles(path)) ? 'existing' : 'new'
  let engineStore: EngineStore
  try {
    engineStore = await ctx.engine.open(path)
  } catch (err) {
    log.warn({ store: name, task: ctx.taskId, path, err: (err as Error).message }, 'local store unreadable: wiping it for a full restore from the changelog')
    await ctx.engine.destroy(path)
    engineStore = await ctx.engine.open(path)
    localState = 'wiped'
  }
  if (ctx.engine.kind === 'memory' && (await engineStore.approximateCount()) === 0) localState = 'new'
  return { engineStore, localState, path }
}

/** Closes, deletes and reopens an engine store: local state gone, ready for a full restore. */
export async function wipeEngineStore(ctx: StoreOpenContext, engineStore: EngineStore): Promise<EngineStore> {
  await engineStore.close()
  await ctx.engine.destroy(engineStore.path)
  return ctx.engine.open(engineStore.path)
}
