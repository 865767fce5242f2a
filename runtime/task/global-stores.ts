/**
 * The instance's global table stores (`plan.globalStores`), opened once per instance and shared by
 * every task (`StreamTaskOptions.globalStores`). They live in `<stateDir>/<applicationId>/global/`.
 */
import type { Logger } from 'pino'
import { GlobalKeyValueStore, type StorageEngine } from '../../state/index.js'
import type { GlobalStorePlan, TopologyPlan } from '../../topology/topology.js'

/** The task id of the global stores' directory (no task has it: ids are `<subtopology>_<partition>`). */
export const GLOBAL_STORES_DIR = 'global'

export interface OpenedGlobalStore {
  readonly plan: GlobalStorePlan
  readonly store: GlobalKeyValueStore<unknown, unknown>
}

export async function openGlobalStores(
  plan: TopologyPlan,
  state: { engine: StorageEngine; stateDir: string },
  logger?: Logger,
): Promise<OpenedGlobalStore[]> {
  const opened: OpenedGlobalStore[] = []
  try {
    for (const g of plan.globalStores) {
      const store = await GlobalKeyValueStore.open(
        { name: g.name, keySerde: g.definition.key, valueSerde: g.definition.value },
        { applicationId: plan.applicationId, taskId: GLOBAL_STORES_DIR, stateDir: state.stateDir, engine: state.engine },
        logger,
      )
      opened.push({ plan: g, store })
    }
  } catch (err) {
    await Promise.allSettled(opened.map((g) => g.store.close()))
    throw err
  }
  return opened
}

/** By store name, as `StreamTaskOptions.globalStores` takes them. */
export function globalStoresByName(opened: readonly OpenedGlobalStore[]): Map<string, GlobalKeyValueStore<unknown, unknown>> {
  return new Map(opened.map((g) => [g.plan.name, g.store]))
}
