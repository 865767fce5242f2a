import type { EngineKind, StorageEngine } from '../types.js'
import { leveldbEngine } from './leveldb.js'
import { memoryEngine } from './memory.js'
import { rocksdbEngine } from './rocksdb.js'
import type { RocksDBEngineOptions } from './rocksdb-options.js'

/** The storage engines. Each call makes a new engine; RocksDB is the default for real deployments. */
export const engines: {
  memory(): StorageEngine
  rocksdb(options?: RocksDBEngineOptions): StorageEngine
  leveldb(): StorageEngine
} = {
  memory: memoryEngine,
  rocksdb: rocksdbEngine,
  leveldb: leveldbEngine,
}

/** The engine a config names, with its RocksDB settings (ignored by the other engines). */
export function engineOfKind(kind: EngineKind, settings: { rocksdb?: RocksDBEngineOptions } = {}): StorageEngine {
  return kind === 'rocksdb' ? engines.rocksdb(settings.rocksdb) : engines[kind]()
}
