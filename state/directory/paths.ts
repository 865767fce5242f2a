import { join } from 'node:path'

/** `<stateDir>/<applicationId>/<taskId>`: everything local of one task. */
export const taskDirectory = (stateDir: string, applicationId: string, taskId: string): string => join(stateDir, applicationId, taskId)

/** `<stateDir>/<applicationId>/<taskId>/<store>`: one store's engine files. */
export const storeDirectory = (stateDir: string, applicationId: string, taskId: string, store: string): string =>
  join(stateDir, applicationId, taskId, store)
