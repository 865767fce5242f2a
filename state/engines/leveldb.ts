import { ClassicLevel } from 'classic-level'
import { mkdir, rm } from 'node:fs/promises'
import type { EngineStore, KeyRange, StorageEngine, WriteOp } from '../types.js'

type Level = ClassicLevel<Buffer, Buffer>
type LevelOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer }

const SCAN_CHUNK = 1000

class LevelDBStore implements EngineStore {
  constructor(
    readonly path: string,
    private readonly db: Level,
  ) {}

  async getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return []
    return this.db.getMany(keys as Buffer[])
  }

  /**
   * LevelDB has no range tombstones, so a deleteRange becomes deletes of the keys in range (read
   * before the batch) plus of keys put earlier in this batch; the whole batch stays atomic.
   */
  async write(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length === 0) return
    const batch: LevelOp[] = []
    for (const op of ops) {
      if (op.type !== 'deleteRange') {
        batch.push(op)
        continue
      }
      const inRange = (key: Buffer): boolean => Buffer.compare(key, op.gte) >= 0 && Buffer.compare(key, op.lt) < 0
      for (const earlier of batch.slice()) {
        if (earlier.type === 'put' && inRange(earlier.key)) batch.push({ type: 'del', key: earlier.key })
      }
      for await (const key of this.db.keys({ gte: op.gte, lt: op.lt })) batch.push({ type: 'del', key })
    }
    await this.db.batch(batch)
  }

  async *iterate(range: KeyRange = {}): AsyncIterable<[Buffer, Buffer]> {
    const options: { gte?: Buffer; lt?: Buffer; reverse?: boolean; limit?: number } = {}
    if (range.gte) options.gte = range.gte
    if (range.lt) options.lt = range.lt
    if (range.reverse) options.reverse = true
    if (range.limit !== undefined) options.limit = range.limit
    const iterator = this.db.iterator(options)
    try {
      while (true) {
        const chunk = await iterator.nextv(SCAN_CHUNK)
        for (const entry of chunk) yield entry
        if (chunk.length < SCAN_CHUNK) return
      }
    } finally {
      await iterator.close()
    }
  }

  /** LevelDB keeps no key count estimate; counting keys is O(n) but only reads keys. */
  async approximateCount(): Promise<number> {
    let count = 0
    for await (const _key of this.db.keys()) count++
    return count
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

export function leveldbEngine(): StorageEngine {
  return {
    kind: 'leveldb',
    async open(path: string): Promise<EngineStore> {
      await mkdir(path, { recursive: true })
      const db: Level = new ClassicLevel<Buffer, Buffer>(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
      try {
        await db.open()
      } catch (err) {
        const cause = (err as Error).cause instanceof Error ? ` (${((err as Error).cause as Error).message})` : ''
        throw new Error(`cannot open LevelDB store at ${path}: ${(err as Error).message}${cause}`, { cause: err })
      }
      return new LevelDBStore(path, db)
    },
    async destroy(path: string): Promise<void> {
      await rm(path, { recursive: true, force: true })
    },
  }
}
