/**
 * The state layer's public API: engines, the task record cache, typed stores, changelogs, restore,
 * and the state directory. Contracts live in `types.ts`; decisions are written down in README.md.
 */
export * from './types.js'
export { engines } from './engines/index.js'
export { createRecordCache, RecordCache } from './record-cache.js'
export type { RecordCacheStats } from './record-cache.js'
export { openKeyValueStore } from './stores/key-value-store.js'
export { openWindowStore } from './stores/window-store.js'
export { openSessionStore } from './stores/session-store.js'
export { StoreMissError } from './stores/store-miss-error.js'
export { storeDirectory, taskDirectory } from './directory/paths.js'
export { StateDirectory } from './directory/state-directory.js'
export type { StateDirectoryOptions } from './directory/state-directory.js'
export { TaskLock, TaskLockedError } from './directory/task-lock.js'
export { TaskCheckpoint } from './directory/task-checkpoint.js'
export type { CheckpointStatus } from './directory/task-checkpoint.js'
export { ChangelogRestorer } from './changelog/changelog-restorer.js'
export type { ChangelogRestorerOptions, RestoreResult, RestoreTarget } from './changelog/changelog-restorer.js'
export { restoreTaskStores } from './changelog/restore-task.js'
export { changelogTopicConfig, ensureChangelogTopics, WINDOWED_CHANGELOG_EXTRA_RETENTION_MS } from './changelog/changelog-topics.js'
export type { ChangelogTopicSpec } from './changelog/changelog-topics.js'
