// rocksdb-native ships no type declarations; this covers the part the RocksDB engine uses.
declare module 'rocksdb-native' {
  interface RocksDBOptions {
    maxBackgroundJobs?: number
    writeBufferSize?: number
    maxWriteBufferNumber?: number
    createIfMissing?: boolean
    avoidFlushDuringShutdown?: boolean
    maxOpenFiles?: number
    blockCache?: boolean
    tableCacheIndexAndFilterBlocks?: boolean
  }
  interface ReadBatch {
    get(key: Buffer): Promise<Buffer | null>
    flush(): Promise<void>
    destroy(): void
  }
  interface WriteBatch {
    put(key: Buffer, value: Buffer): Promise<void>
    delete(key: Buffer): Promise<void>
    deleteRange(start: Buffer, end: Buffer): Promise<void>
    tryPut(key: Buffer, value: Buffer): void
    tryDelete(key: Buffer): void
    tryDeleteRange(start: Buffer, end: Buffer): void
    flush(): Promise<void>
    destroy(): void
  }
  interface IteratorOptions {
    gte?: Buffer
    lt?: Buffer
    reverse?: boolean
    limit?: number
    capacity?: number
    values?: boolean
  }
  class RocksDB {
    constructor(path: string, options?: RocksDBOptions)
    ready(): Promise<void>
    read(options?: { capacity?: number; autoDestroy?: boolean }): ReadBatch
    write(options?: { capacity?: number; autoDestroy?: boolean }): WriteBatch
    iterator(range?: IteratorOptions): AsyncIterable<{ key: Buffer; value: Buffer }>
    getProperty(name: string): Promise<string>
    /** Flushes the memtable to a table file and waits for it. */
    flush(): Promise<void>
    close(): Promise<void>
  }
  export default RocksDB
}
