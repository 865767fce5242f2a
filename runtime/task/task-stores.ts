/** Opens a task's stores through the state layer, all sharing one record cache. */
import {
  type CacheBudget,
  type ChangelogSink,
  createRecordCache,
  openKeyValueStore,
  openSessionStore,
  openWindowStore,
  type RecordCache,
  type StateStore,
  type StorageEngine,
} from '../../state/index.js'
import type { StorePlan } from '../../topology/topology.js'

export interface TaskStateOptions {
  engine: StorageEngine
  /** Root state directory (ignored by the memory engine). */
  stateDir: string
  /** The instance's record cache budget, shared with its other tasks. */
  cacheBudget?: CacheBudget
  /** Without `cacheBudget`: a budget of this task's own (default 16 MiB). */
  cacheMaxBytes?: number
}

export interface OpenedStores {
  readonly cache: RecordCache
  readonly stores: ReadonlyMap<string, StateStore>
}

export async function openTaskStores(
  plans: readonly StorePlan[],
  options: { applicationId: string; taskId: string; state: TaskStateOptions; changelog: ChangelogSink | undefined },
): Promise<OpenedStores> {
  const cache = createRecordCache(options.state.cacheBudget ?? options.state.cacheMaxBytes ?? 16 * 1024 * 1024)
  const ctx = {
    applicationId: options.applicationId,
    taskId: options.taskId,
    stateDir: options.state.stateDir,
    engine: options.state.engine,
    cache,
    ...(options.changelog ? { changelog: options.changelog } : {}),
  }
  const stores = new Map<string, StateStore>()
  try {
    for (const plan of plans) {
      const def = plan.definition
      // A table's source store restores from its topic: it never writes a changelog of its own. Without
      // a sink (standalone), nothing is logged.
      const logged = plan.logged && !plan.restoresFromSourceTopic && options.changelog !== undefined
      const base = { name: def.name, keySerde: def.key, valueSerde: def.value, logged }
      let store: StateStore
      if (def.kind === 'key-value') store = await openKeyValueStore(base, ctx)
      else if (def.kind === 'window') store = await openWindowStore({ ...base, retentionMs: def.retentionMs, windowSizeMs: def.windowSizeMs }, ctx)
      else store = await openSessionStore({ ...base, retentionMs: def.retentionMs }, ctx)
      stores.set(def.name, store)
    }
  } catch (err) {
    await Promise.allSettled([...stores.values()].map((s) => s.close()))
    throw err
  }
  return { cache, stores }
}
