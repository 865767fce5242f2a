import type { Logger } from 'pino'
import type { StateStore } from '../types.js'
import type { TaskCheckpoint } from '../directory/task-checkpoint.js'
import { stateLogger } from '../log.js'
import type { ChangelogRestorer, RestoreResult, RestoreTarget } from './changelog-restorer.js'

/**
 * Brings a task's stores up to date before it processes a record. A store's checkpoint offset is
 * trusted only if its files were found intact (`localState === 'existing'`) and the checkpoint file
 * was readable; otherwise the store is wiped and restored from the changelog's beginning (restoring
 * a full changelog over stale files would resurrect keys whose tombstones compaction has dropped).
 * The checkpoint is rewritten as batches land, so an interrupted restore resumes where it stopped.
 */
export async function restoreTaskStores(options: {
  restorer: ChangelogRestorer
  checkpoint: TaskCheckpoint
  stores: readonly StateStore[]
  /**
   * The topic each store restores from, by store name, from the topology's plan: a store listed here
   * is restored whether or not it writes a changelog (a table's store restores from its source
   * topic); one not listed is not restored.
   */
  restoreTopics: ReadonlyMap<string, string>
  partition: number
  logger?: Logger
  /** Minimum time between checkpoint rewrites while restoring (default 1,000 ms). */
  checkpointIntervalMs?: number
}): Promise<RestoreResult[]> {
  const { checkpoint, partition } = options
  const log = options.logger ?? stateLogger
  const targets: RestoreTarget[] = []
  for (const store of options.stores) {
    const topic = options.restoreTopics.get(store.name)
    if (topic === undefined) continue
    const offset = checkpoint.status === 'ok' ? checkpoint.offset(store.name) : undefined
    if (offset !== undefined && store.localState === 'existing') {
      targets.push({ store, partition, fromOffset: offset, topic })
      continue
    }
    if (store.localState === 'existing') {
      log.warn({ store: store.name, checkpoint: checkpoint.status }, 'local store has no valid checkpoint: wiping it for a full restore')
      await store.wipe()
    }
    checkpoint.remove(store.name)
    targets.push({ store, partition, topic })
  }
  if (targets.length === 0) return []
  // The checkpoint now only lists stores whose files match it; a crash from here on stays safe.
  await checkpoint.write()
  let lastWrite = Date.now()
  const results = await options.restorer.restore(targets, {
    onProgress: async (store, _partition, nextOffset) => {
      checkpoint.update(store, nextOffset)
      if (Date.now() - lastWrite < (options.checkpointIntervalMs ?? CHECKPOINT_EVERY_MS)) return
      lastWrite = Date.now()
      await checkpoint.write()
    },
  })
  for (const r of results) checkpoint.update(r.store, r.endOffset)
  await checkpoint.write()
  return results
}

/** How often an ongoing restore rewrites the checkpoint (each write is a small fsync'd file). */
const CHECKPOINT_EVERY_MS = 1000
