/** Where the local service launchers keep what they fetch once: outside the repo, shared by work trees. */
import { homedir } from 'node:os'
import { join } from 'node:path'

export const cacheRoot = (): string => process.env.SENTINEL_CACHE_DIR ?? join(homedir(), '.cache', 'sentinel-streams')
