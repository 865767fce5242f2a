import type { StorageEngine } from '../types.js'
import { leveldbEngine } from './leveldb.js'
import { memoryEngine } from './memory.js'
import { rocksdbEngine } from './rocksdb.js'

/** The storage engines. Each call makes a new engine; RocksDB is the default for real deployments. */
export const engines: {
  memory(): StorageEngine
  rocksdb(options?: { writeBufferSize?: number; maxBackgroundJobs?: number }): StorageEngine
  leveldb(): StorageEngine
} = {
  memory: memoryEngine,
  rocksdb: rocksdbEngine,
  leveldb: leveldbEngine,
}
